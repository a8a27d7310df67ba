"""The stdlib-only first stage: file formats, candidate lines and table headers.

Everything a clean commit needs lives here, so the hook imports only this module (plus `re`)
before it knows that nothing is worth a closer look. No dataclasses, no Presidio.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from functools import cached_property, lru_cache
from itertools import pairwise

MAX_LINE = 4000  # longer lines are minified code or data blobs

# --- formats -------------------------------------------------------------------------------

_EXTENSIONS = {
    "json": "json", "geojson": "json", "jsonl": "json", "ndjson": "json", "ipynb": "notebook",
    "yaml": "yaml", "yml": "yaml", "csv": "csv", "tsv": "tsv", "tab": "tsv", "psv": "csv",
    "hl7": "hl7", "er7": "hl7", "xml": "xml", "cda": "xml", "ccda": "xml", "ccd": "xml",
    "sql": "sql", "env": "env", "properties": "env", "ini": "env", "cfg": "env", "toml": "env",
    "md": "text", "markdown": "text", "rst": "text", "txt": "text", "log": "log", "out": "log",
}  # fmt: skip
TABLE_FORMATS = ("csv", "tsv")
SKIPPED_NAMES = frozenset({
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock",
    "Cargo.lock", "go.sum", "composer.lock", "Gemfile.lock", "uv.lock", ".secrets.baseline",
})  # fmt: skip
SKIPPED_SUFFIXES = (".min.js", ".min.css", ".map")


def always_skipped(path: str) -> bool:
    """Lock files, minified bundles and source maps: generated, never hand-written data."""
    return path.rsplit("/", 1)[-1] in SKIPPED_NAMES or path.endswith(SKIPPED_SUFFIXES)


def detect_format(path: str, head: str = "") -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "env"
    fmt = _EXTENSIONS.get(name.rsplit(".", 1)[-1] if "." in name else "")
    if fmt:
        return fmt
    if head.startswith("MSH|"):
        return "hl7"
    return "source"


# --- words ---------------------------------------------------------------------------------

_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@lru_cache(maxsize=8192)
def key_words(key: str) -> frozenset[str]:
    """`patientBirthDate` → patient, birth, date, birthdate, patientbirth, patientbirthdate."""
    parts = [p.lower() for p in _CAMEL.findall(key)]
    words = set(parts)
    words.update(a + b for a, b in pairwise(parts))
    if len(parts) > 2:
        words.add("".join(parts))
    return frozenset(w for w in words if w)


def text_words(text: str, last: int = 0) -> set[str]:
    """The words of `text` (of its `last` words only, if given), camelCase ones also by part:
    `setBirthDate(` says `birth date` as much as a `birth_date` key does."""
    raw = _WORD.findall(text)
    return {w for word in raw[-last:] for w in key_words(word)} | {w.lower() for w in raw[-last:]}


@lru_cache(maxsize=256)
def path_words(path: str) -> frozenset[str]:
    return frozenset(w for part in re.split(r"[/\\._-]+", path) for w in key_words(part))


# --- candidate lines -----------------------------------------------------------------------


class _Lazy:
    """A regex compiled on first use: the big ones cost milliseconds that a clean commit,
    which never needs them, should not pay."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


_LOG_PREFIX = re.compile(
    r"^\W{0,2}\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?\]?"
)
NAME_PLACE_KEYS = (
    "patient|given|family|surname|first.?name|last.?name|middle.?name|maiden|full.?name|name"
    "|city|town|county|guardian|guarantor|kin|spouse|mother|father|insured|subscriber|member"
    "|beneficiary|contact|emergency|address|street|line|resident"
)
# Lower-cased line: a name/place key with a value, free text about a patient, an old age.
_KEYED = _Lazy(
    r"(?:" + NAME_PLACE_KEYS + r")\w*[\"']?\s*(?::|=|</|\|)|\d{5}"
    r"|(?:dob|birth|born|diagnos|icd|dx|vin|vehicle|age|dod|admi[st]|discharg)\w*[\"']?\s*[:=(]"
    r"|patient|\bpt\b|\b(?:mrs?|ms|miss)\.? [a-z]|\b(?:9\d|1[01]\d)[ -]?(?:years?|yo\b|y/o)"
    r"|\b(?:pid|nk1|in1|gt1|pv1|dg1)\||<(?:given|family|name|streetaddressline|city)\b"
)
# A superset of _KEYED without word boundaries, which regex prefix scanning handles faster:
# it picks the lines of a whole file that _KEYED then tests one by one.
_KEYED_SCAN = _Lazy(
    r"(?:" + NAME_PLACE_KEYS + r"|dob|birth|born|diagnos|icd|dx|vin|vehicle|age|dod|admi[st]"
    r"|discharg)\w*[\"']?\s*(?::|=|</|\||\()|patient|\d{5}|(?:9\d|1[01]\d)[ -]?(?:years?|yo|y/o)"
    r"|pt|(?:mrs?|ms|miss)\.? [a-z]|(?:pid|nk1|in1|gt1|pv1|dg1)\||<(?:given|family|name"
    r"|streetaddressline|city)"
)
_BARE_VALUE = re.compile(r"^\s*(?:-\s+)?[\"']?[A-Z][a-z]")
# Shapes with digits or `@`. One leading class lets the regex engine skip every other character
# quickly (an alternation of classes would be tried at every position): clean code costs little.
_FAST = re.compile(
    r"[\d@](?:(?<=@)[\w-]+\.[A-Za-z]{2}"  # e-mail
    r"|(?<=\d)(?:[\d\-. ()/]{4,}\d"  # numbers, dates, phones
    r"|\d{0,5} [A-Z][a-z]+ "  # street numbers
    r"|(?<=[1-9])[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d"  # MBI
    r"|\d{3}(?<=[A-HJ-NPR-Z0-9]{17})))"  # VIN (its last four characters are digits)
)
_DOTTED = re.compile(r"\d+(?:\.\d+)+")  # versions, IPs, OIDs: only worth a look next to an IP key
_IP_KEY = re.compile(r"(?i)\bip\b|_ip\b|ip_?addr|client|remote|x-forwarded|\bsrc\b")
_DECORATOR = re.compile(r"^\s*@|[\s(`:]@[\w.]+\(")
# Words that make a file worth the slower keyed pre-filter (names and places have no digits).
KEYED_WORDS = frozenset({
    "patient", "patients", "pt", "subscriber", "insured", "guarantor", "beneficiary", "decedent",
    "kin", "nextofkin", "guardian", "spouse", "mother", "father", "surname", "firstname",
    "lastname", "fname", "lname", "middlename", "maidenname", "fullname", "patientname",
    "givenname", "familyname", "membername", "legalname", "city", "town", "county", "mrn", "dob",
    "ssn", "resident", "enrollee",
})  # fmt: skip
# Honorifics and `Pt` count capitalised only: `timeout_ms`, `pt` (points) are code.
KEYED_TITLES = ("Mr", "Mrs", "Ms", "Miss", "Pt")
_HL7_MARKERS = ("PID|", "NK1|", "GT1|", "IN1|")


def needs_key_scan(text: str) -> bool:
    """Could this text hold a name or a place (values without digits)? Checked per file: does
    a keyed word stand alone, as a `snake_case` part, or as a whole `snake_case` name?"""
    if any(marker in text for marker in _HL7_MARKERS):
        return True
    if any(title in text and _has_word(text, title) for title in KEYED_TITLES):
        return True
    lowered = text.lower()
    joined = lowered.replace("_", "")
    return any(
        _has_word(lowered, word) or _has_word(joined, word)
        for word in KEYED_WORDS
        if word in joined  # a fast substring test first: most words are not there at all
    )


def _has_word(text: str, word: str) -> bool:
    """`word` in `text` with no letter right before or after it."""
    start = text.find(word)
    while start != -1:
        end = start + len(word)
        if not (start and text[start - 1].isalpha()) and not text[end : end + 1].isalpha():
            return True
        start = text.find(word, start + 1)
    return False


def _has_identifier_shape(text: str) -> bool:
    for match in _FAST.finditer(text):
        found = match.group()
        if _DOTTED.fullmatch(found):
            if _IP_KEY.search(text):
                return True
        elif not (found[0] == "@" and _DECORATOR.search(text)):
            return True
    return False


def is_candidate(line: str, fmt: str, keyed: bool = True) -> bool:
    """Cheap test: could this line hold an identifier? (False for nearly all code lines.)"""
    if not line or len(line) > MAX_LINE:
        return False
    text = _LOG_PREFIX.sub("", line, count=1) if line[:1].isdigit() or line[:1] == "[" else line
    if _has_identifier_shape(text):
        return True
    if not keyed:
        return False
    if _KEYED.regex.search(text.lower()) is not None:
        return True
    return fmt in ("json", "yaml", "notebook") and bool(_BARE_VALUE.match(text))


def candidate_lines(
    lines: Mapping[int, str], targets: Sequence[int], fmt: str, header: int | None = None
) -> list[int]:
    """The target lines worth the recognizers: one regex pass over the joined text finds the
    few lines that can be, then the exact per-line test decides. Below a table `header` that
    names PHI columns every non-blank row is a candidate."""
    text = "\n".join(lines.get(n, "") for n in targets)
    keyed = needs_key_scan(text)
    if header is not None or (keyed and fmt in ("json", "yaml", "notebook")):
        maybe = set(range(len(targets)))
    else:
        offsets = [0]
        for number in targets:
            offsets.append(offsets[-1] + len(lines.get(number, "")) + 1)
        hits = [m.start() for m in _FAST.finditer(text)]
        lowered = text.lower() if keyed else text
        if keyed and len(lowered) == len(text):
            hits += [m.start() for m in _KEYED_SCAN.regex.finditer(lowered)]
        elif keyed:
            hits = list(offsets[:-1])  # case folding changed lengths: test every line
        maybe = {bisect_right(offsets, hit) - 1 for hit in hits}
    return [
        number
        for index, number in enumerate(targets)
        if index in maybe
        and (
            is_candidate(line := lines.get(number, ""), fmt, keyed)
            or (header is not None and number > header and is_table_row(line))
        )
    ]


# --- tables --------------------------------------------------------------------------------

_COMMENT = ("#", "//")
_DATA_CELL = re.compile(r"@|\d{3}|^[^A-Za-z]*$")  # e-mails, numbers, dates: not column names
_PHI_COLUMN = _Lazy(
    NAME_PLACE_KEYS + r"|dob|birth|ssn|social|mrn|medical|phone|email|zip|postal|member|npi|dea"
    r"|mbi|vin|license|account|admi[st]|discharg|death|insur|policy|diagnos|icd"
)


def is_table_row(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(_COMMENT)


def split_cells(line: str, sep: str) -> list[tuple[int, int]]:
    """Cell spans of one CSV/TSV/Markdown-table row, honouring double quotes."""
    spans: list[tuple[int, int]] = []
    start, quoted = 0, False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == sep and not quoted:
            spans.append((start, index))
            start = index + 1
    spans.append((start, len(line.rstrip("\r\n"))))
    return [
        (s + 1, e - 1) if line[s : s + 1] == '"' and line[e - 1 : e] == '"' else (s, e)
        for s, e in spans
    ]


def table_separator(line: str, fmt: str) -> str:
    """The delimiter a header row uses: tab in TSV, else the most frequent of `,` `;` `|` tab."""
    if fmt == "tsv":
        return "\t"
    counts = {sep: line.count(sep) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def table_header(lines: Mapping[int, str], fmt: str) -> tuple[int, str, str] | None:
    """(line number, text, separator) of a CSV/TSV header: the first row that is not blank or a
    comment, when its cells read as column names (not data)."""
    if fmt not in TABLE_FORMATS:
        return None
    number = 1
    while number in lines and number <= 50:  # the file's own first lines, not a diff's
        line = lines[number].lstrip("\ufeff")
        if is_table_row(line):
            sep = table_separator(line, fmt)
            names = [n for s, e in split_cells(line, sep) if (n := line[s:e].strip())]
            if names and not any(len(n) > 60 or _DATA_CELL.search(n) for n in names):
                return number, line, sep
            return None
        number += 1
    return None


def names_phi_columns(header: str) -> bool:
    return bool(_PHI_COLUMN.regex.search(header.lower()))


def worth_analysis(path: str, lines: Mapping[int, str], targets: Sequence[int]) -> bool:
    """Could the `targets` of a text file hold PHI? Decided without its other lines, except in
    tables (their header is elsewhere): the hook uses it to skip reading clean files at all."""
    fmt = detect_format(path, lines.get(1, ""))
    return fmt in TABLE_FORMATS or bool(candidate_lines(lines, targets, fmt))
