"""Reading a text file's structure with the stdlib only: format, candidate lines, context.

The expensive recognizers only see *candidate* lines (the cheap pre-filter below), and for each
of them this module says which key, column header, HL7 field or SQL column every value belongs
to, plus the words around it. That context is what lets the recognizers tell a patient's
birth date from a release date without a trained language model.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import PurePosixPath

MAX_LINE = 4000  # longer lines are minified code or data blobs

# --- formats -------------------------------------------------------------------------------

_EXTENSIONS = {
    "json": "json", "geojson": "json", "jsonl": "json", "ndjson": "json", "ipynb": "notebook",
    "yaml": "yaml", "yml": "yaml", "csv": "csv", "tsv": "tsv", "tab": "tsv", "psv": "csv",
    "hl7": "hl7", "er7": "hl7", "xml": "xml", "cda": "xml", "ccda": "xml", "ccd": "xml",
    "sql": "sql", "env": "env", "properties": "env", "ini": "env", "cfg": "env", "toml": "env",
    "md": "text", "markdown": "text", "rst": "text", "txt": "text", "log": "log", "out": "log",
}  # fmt: skip


def detect_format(path: str, head: str = "") -> str:
    name = PurePosixPath(path).name.lower()
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


def plain_words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


# --- pre-filter ----------------------------------------------------------------------------

_LOG_PREFIX = re.compile(
    r"^\W{0,2}\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?\]?"
)
_NAME_PLACE_KEYS = (
    "patient|given|family|surname|first.?name|last.?name|middle.?name|maiden|full.?name|name"
    "|city|town|county|guardian|guarantor|kin|spouse|mother|father|insured|subscriber|member"
    "|beneficiary|contact|emergency|address|street|line|resident"
)
# Lower-cased line: a name/place key with a value, free text about a patient, an old age.
_KEYED = re.compile(
    r"(?:" + _NAME_PLACE_KEYS + r")\w*[\"']?\s*(?::|=|</|\|)|\d{5}"
    r"|(?:dob|birth|born|diagnos|icd|dx|vin|vehicle|age|dod|admi[st]|discharg)\w*[\"']?\s*[:=(]"
    r"|patient|\bpt\b|\b(?:mrs?|ms|miss)\.? [a-z]|\b(?:9\d|1[01]\d)[ -]?(?:years?|yo\b|y/o)"
    r"|\b(?:pid|nk1|in1|gt1|pv1|dg1)\||<(?:given|family|name|streetaddressline|city)\b"
)
# A superset of _KEYED without word boundaries, which regex prefix scanning handles faster:
# it picks the lines of a whole file that _KEYED then tests one by one.
_KEYED_SCAN = re.compile(
    r"(?:" + _NAME_PLACE_KEYS + r"|dob|birth|born|diagnos|icd|dx|vin|vehicle|age|dod|admi[st]"
    r"|discharg)\w*[\"']?\s*(?::|=|</|\||\()|patient|\d{5}|(?:9\d|1[01]\d)[ -]?(?:years?|yo|y/o)"
    r"|pt|(?:mrs?|ms|miss)\.? [a-z]|(?:pid|nk1|in1|gt1|pv1|dg1)\||<(?:given|family|name"
    r"|streetaddressline|city)"
)
_BARE_VALUE = re.compile(r"^\s*(?:-\s+)?[\"']?[A-Z][a-z]")


# Shapes with digits or `@`: the search skips letters quickly, so clean code costs little.
_FAST = re.compile(
    r"\d[\d\-. ()/]{4,}\d|@[\w-]+\.[A-Za-z]{2}|\d{1,6} [A-Z][a-z]+ "
    r"|[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d|[A-HJ-NPR-Z0-9]{17}"
)
_DOTTED = re.compile(r"\d+(?:\.\d+)+")  # versions, IPs, OIDs: only worth a look next to an IP key
_IP_KEY = re.compile(r"(?i)\bip\b|_ip\b|ip_?addr|client|remote|x-forwarded|\bsrc\b")
_DECORATOR = re.compile(r"^\s*@|[\s(`:]@[\w.]+\(")
_NOT_LETTER = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalpha() or c == "_")})
# Words that make a file worth the slower keyed pre-filter (names and places have no digits).
KEYED_WORDS = frozenset(
    [
        "patient",
        "patients",
        "pt",
        "subscriber",
        "insured",
        "guarantor",
        "beneficiary",
        "decedent",
        "kin",
        "nextofkin",
        "guardian",
        "spouse",
        "mother",
        "father",
        "surname",
        "firstname",
        "lastname",
        "fname",
        "lname",
        "middlename",
        "maidenname",
        "fullname",
        "patientname",
        "givenname",
        "familyname",
        "membername",
        "legalname",
        "city",
        "town",
        "county",
        "mrn",
        "dob",
        "ssn",
        "resident",
        "enrollee",
        "mr",
        "mrs",
        "ms",
    ]
)
_HL7_MARKERS = ("PID|", "NK1|", "GT1|", "IN1|")


def needs_key_scan(text: str) -> bool:
    """Could this text hold a name or a place (values without digits)? Checked per file."""
    if any(marker in text for marker in _HL7_MARKERS):
        return True
    tokens = set(text.lower().translate(_NOT_LETTER).split())  # snake_case kept whole
    words = {w.replace("_", "") for w in tokens} | {p for w in tokens for p in w.split("_")}
    return not KEYED_WORDS.isdisjoint(words)


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
    if _KEYED.search(text.lower()) is not None:
        return True
    return fmt in ("json", "yaml", "notebook") and bool(_BARE_VALUE.match(text))


# --- fields --------------------------------------------------------------------------------


@dataclass
class LineContext:
    """What surrounds the values of one line: keyed fields, and words about the record."""

    number: int
    text: str  # the line as analysed (same length as the original)
    fields: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    subject: set[str] = field(default_factory=set)  # words about the record the line is in
    parents: set[str] = field(default_factory=set)  # keys of the enclosing blocks

    def add_field(self, start: int, end: int, words: frozenset[str] | set[str]) -> None:
        if end > start:
            self.fields.setdefault((start, end), set()).update(words)

    def key_at(self, start: int) -> set[str] | None:
        """Key words of the innermost field a match starts in, None when it is in none."""
        best: tuple[int, set[str]] | None = None
        for (f_start, f_end), words in self.fields.items():
            if f_start <= start < f_end and (best is None or f_end - f_start < best[0]):
                best = (f_end - f_start, words)
        return None if best is None else best[1]

    def words_before(self, start: int, count: int = 4) -> list[str]:
        return plain_words(self.text[max(0, start - 60) : start])[-count:]


_KV = re.compile(
    r"(?P<q>[\"']?)(?P<key>[A-Za-z_@$][\w.$@-]{0,60})(?P=q)\s*(?:=>|:=|(?<![=!<>])=(?!=)|:)\s*\[?\s*"
    r"(?:(?P<dq>\"(?:[^\"\\]|\\.)*\")|(?P<sq>'(?:[^'\\]|\\.)*')"
    r"|(?P<raw>[^\s,;}\]\)(#&|=\"'](?:[^,;}\]\)(#&|=\s\"']|\s(?![\w.-]+\s*[:=]))*))"
)
_CALL = re.compile(r"(?P<key>[A-Za-z_]\w{2,40})\(\s*[\"'](?P<val>[^\"']{1,80})[\"']\s*[,)]")
_XML_TEXT = re.compile(r"<(?P<key>[\w:.-]+)(?:\s[^<>]*)?>(?P<val>[^<>]+)</")
_XML_ATTR = re.compile(r"<(?P<tag>[\w:.-]+)[^<>]*?\b(?:value|extension)=\"(?P<val>[^\"]*)\"")
_INDENT_KEY = re.compile(r"^\s*(?:-\s+)?(?:[\"']?([A-Za-z_][\w.-]*)[\"']?\s*:|<([\w:.-]+))")
_BARE = re.compile(r"^\s*(?:-\s+)?[\"']?(?P<val>[^\"'#,\[\]{}]+?)[\"']?\s*,?\s*$")
_GENERIC_KEYS = frozenset({"value", "text", "display", "extension", "v", "val"})


def _kv_fields(ctx: LineContext, code: bool) -> None:
    """Key/value pairs; in source code an unquoted value is an expression unless a number."""
    for match in _KV.finditer(ctx.text):
        group = "dq" if match.group("dq") else "sq" if match.group("sq") else "raw"
        start, end = match.span(group)
        if group != "raw":
            start, end = start + 1, end - 1
        elif code and not match.group("raw")[:1].isdigit():
            continue
        else:
            end = start + len(match.group("raw").rstrip())
        ctx.add_field(start, end, key_words(match.group("key").rsplit(".", 1)[-1]))
    for match in _CALL.finditer(ctx.text):  # setFirstName("Maria"), .mrn('E4535749')
        ctx.add_field(*match.span("val"), key_words(match.group("key")))
    for match in _XML_TEXT.finditer(ctx.text):
        ctx.add_field(*match.span("val"), key_words(match.group("key").split(":")[-1]))
    for match in _XML_ATTR.finditer(ctx.text):
        ctx.add_field(*match.span("val"), key_words(match.group("tag").split(":")[-1]))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _ancestors(lines: Mapping[int, str], number: int, limit: int = 200) -> list[str]:
    """Keys of the enclosing blocks of a pretty-printed JSON/YAML/XML line, innermost first."""
    current = lines.get(number, "")
    indent = _indent(current) if current.strip() else 10**6
    found: list[str] = []
    for back in range(number - 1, max(0, number - limit), -1):
        line = lines.get(back)
        if line is None or not line.strip() or _indent(line) >= indent:
            continue
        indent = _indent(line)
        match = _INDENT_KEY.match(line)
        if match:
            found.append(match.group(1) or match.group(2).split(":")[-1])
        if indent == 0:
            break
    return found


def _bare_value_field(ctx: LineContext, parents: Sequence[str]) -> None:
    """A list item (`- Jane`, `"Jane",`) belongs to the key of the list it is in."""
    if not parents or ":" in ctx.text:
        return
    match = _BARE.match(ctx.text)
    if match:
        ctx.add_field(*match.span("val"), key_words(parents[0]))


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


def _table_fields(ctx: LineContext, header: str, sep: str) -> None:
    """Cells keyed by their column; in a `Field | Value` table, by the row's first cell."""
    names = [header[s:e].strip() for s, e in split_cells(header, sep)]
    cells = split_cells(ctx.text, sep)
    row_key: frozenset[str] = frozenset()
    for name, (start, end) in zip(names, cells, strict=False):
        while start < end and ctx.text[start] == " ":
            start += 1
        words = key_words(name)
        if words and words <= _GENERIC_KEYS:
            words = words | row_key
        elif not row_key and end > start:
            row_key = key_words(ctx.text[start:end])
        ctx.add_field(start, end, words)
    for name in names:
        ctx.subject.update(key_words(name))


def _markdown_header(lines: Mapping[int, str], number: int) -> str | None:
    for back in range(number - 1, max(0, number - 200), -1):
        line = lines.get(back)
        if line is None or not line.lstrip().startswith("|"):
            return None
        if re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", line) and "-" in line:
            return lines.get(back - 1)
    return None


_INSERT = re.compile(
    r"insert\s+into\s+(?P<table>[\w.\"`\[\]]+)\s*\((?P<cols>[^)]*)\)\s*values", re.IGNORECASE
)
_TUPLE = re.compile(r"\((?P<body>(?:[^()'\"]|'(?:[^']|'')*'|\"[^\"]*\")*)\)")


def _sql_fields(ctx: LineContext, lines: Mapping[int, str]) -> None:
    columns: list[str] | None = None
    for back in range(ctx.number, max(0, ctx.number - 300), -1):
        match = _INSERT.search(lines.get(back, ""))
        if match:
            columns = [c.strip(' "`[]') for c in match.group("cols").split(",")]
            ctx.subject.update(key_words(match.group("table").split(".")[-1].strip('"`[]')))
            break
    if not columns:
        return
    text = ctx.text
    values_at = re.search(r"values", text, re.IGNORECASE)
    for match in _TUPLE.finditer(text, values_at.end() if values_at else 0):
        base = match.start("body")
        cells = split_cells(match.group("body").replace("'", '"'), ",")
        for name, (start, end) in zip(columns, cells, strict=False):
            while start < end and text[base + start] in " '":
                start += 1
            ctx.add_field(base + start, base + end, key_words(name))


# HL7 v2 fields that hold identifiers, as the words our recognizers take as context.
HL7_FIELDS: dict[tuple[str, int], str] = {
    ("PID", 2): "mrn_external_id", ("PID", 3): "mrn_identifier_list",
    ("PID", 4): "mrn_alternate_id",
    ("PID", 5): "patient_name", ("PID", 6): "mother_maiden_name", ("PID", 7): "birth_date",
    ("PID", 9): "patient_alias_name", ("PID", 11): "patient_address", ("PID", 13): "home_phone",
    ("PID", 14): "business_phone", ("PID", 18): "patient_account_number", ("PID", 19): "ssn",
    ("PID", 20): "drivers_license", ("PID", 29): "death_date",
    ("NK1", 2): "kin_name", ("NK1", 4): "kin_address", ("NK1", 5): "kin_phone",
    ("NK1", 6): "kin_business_phone",
    ("GT1", 3): "guarantor_name", ("GT1", 5): "guarantor_address", ("GT1", 6): "guarantor_phone",
    ("GT1", 8): "guarantor_birth_date", ("GT1", 12): "guarantor_ssn",
    ("IN1", 16): "insured_name", ("IN1", 18): "insured_birth_date", ("IN1", 19): "insured_address",
    ("IN1", 36): "policy_member_id", ("IN1", 49): "insured_member_id",
    ("PV1", 19): "visit_account_number", ("PV1", 44): "admit_date", ("PV1", 45): "discharge_date",
    ("PV1", 7): "attending_npi", ("PV1", 8): "referring_npi", ("PV1", 17): "admitting_npi",
    ("DG1", 3): "diagnosis_icd", ("OBR", 16): "ordering_npi", ("ORC", 12): "ordering_npi",
}  # fmt: skip
_HL7_SEGMENT = re.compile(r"(?<![A-Z0-9])(?P<seg>[A-Z][A-Z0-9]{2})\|")
_HL7_ID_TYPES = {"MR": "mrn", "SS": "ssn", "SB": "ssn", "DL": "drivers_license", "MB": "member_id",
                 "MC": "medicare", "AN": "account_number", "NPI": "npi", "PI": "mrn"}  # fmt: skip


def _hl7_fields(ctx: LineContext) -> bool:
    match = _HL7_SEGMENT.search(ctx.text)
    if match is None or match.group("seg") == "MSH":
        return False
    segment, text = match.group("seg"), ctx.text
    ctx.subject.update(
        {segment.lower(), "patient"} if segment in {"PID", "PV1"} else {segment.lower()}
    )
    position, index = match.end(), 1
    while position <= len(text):
        end = text.find("|", position)
        end = len(text) if end == -1 else end
        name = HL7_FIELDS.get((segment, index))
        if name and end > position:
            words = set(key_words(name)) | {f"{segment.lower()}{index}"}
            value = text[position:end]
            for code, word in _HL7_ID_TYPES.items():
                if f"^{code}^" in value or value.endswith(f"^{code}"):
                    words.add(word)
            ctx.add_field(position, end, words)
        position, index = end + 1, index + 1
    return True


# --- document --------------------------------------------------------------------------------


def _analysis_copy(line: str, fmt: str) -> str:
    """Notebook sources are JSON strings: unescape quotes and newlines, keeping the columns."""
    if fmt != "notebook":
        return line
    return line.replace('\\"', ' "').replace("\\n", "  ").replace("\\t", "  ")


def path_words(path: str) -> set[str]:
    return {w for part in re.split(r"[/\\._-]+", path) for w in key_words(part)}


def line_context(
    path: str, fmt: str, lines: Mapping[int, str], number: int, header: str | None
) -> LineContext:
    """The context of line `number`; `lines` holds the file (or what is known of it)."""
    ctx = LineContext(number, _analysis_copy(lines[number], fmt))
    ctx.subject.update(path_words(path))
    ctx.subject.update(plain_words(ctx.text))
    if _hl7_fields(ctx):
        return ctx
    if fmt in ("csv", "tsv") and header is not None and number != 1:
        _table_fields(
            ctx, header, "\t" if fmt == "tsv" else ("|" if path.endswith(".psv") else ",")
        )
        return ctx
    if ctx.text.lstrip().startswith("|"):
        table_header = _markdown_header(lines, number)
        if table_header:
            _table_fields(ctx, table_header, "|")
            return ctx
    _kv_fields(ctx, fmt == "source")
    if fmt == "sql" or re.search(r"\binsert\s+into\b|^\s*\(", ctx.text, re.IGNORECASE):
        _sql_fields(ctx, lines)
    if fmt in ("json", "yaml", "xml", "notebook", "source", "text"):
        parents = _ancestors(lines, number, 40 if fmt in ("source", "text") else 200)
        for parent in parents:
            ctx.parents.update(key_words(parent))
        ctx.subject.update(ctx.parents)
        if parents:
            for words in ctx.fields.values():
                if words <= _GENERIC_KEYS:
                    words.update(key_words(parents[0]))
        _bare_value_field(ctx, parents)
    return ctx


@dataclass
class Chunk:
    """Candidate lines of one file joined for one analyzer call, with their contexts."""

    path: str
    fmt: str
    text: str
    starts: list[int]
    contexts: list[LineContext]

    def locate(self, offset: int) -> tuple[LineContext, int]:
        index = bisect_right(self.starts, offset) - 1
        return self.contexts[index], offset - self.starts[index]


def candidate_lines(
    lines: Mapping[int, str], targets: Sequence[int], fmt: str, whole_table: bool = False
) -> list[int]:
    """The target lines worth the recognizers: one regex pass over the joined text finds the
    few lines that can be, then the exact per-line test decides."""
    text = "\n".join(lines.get(n, "") for n in targets)
    keyed = needs_key_scan(text)
    if whole_table or (keyed and fmt in ("json", "yaml", "notebook")):
        maybe = set(range(len(targets)))
    else:
        offsets = [0]
        for number in targets:
            offsets.append(offsets[-1] + len(lines.get(number, "")) + 1)
        hits = [m.start() for m in _FAST.finditer(text)]
        lowered = text.lower()
        if keyed and len(lowered) == len(text):
            hits += [m.start() for m in _KEYED_SCAN.finditer(lowered)]
        elif keyed:
            hits = list(offsets[:-1])  # case folding changed lengths: test every line
        maybe = {bisect_right(offsets, hit) - 1 for hit in hits}
    return [
        number
        for index, number in enumerate(targets)
        if index in maybe
        and (
            is_candidate(line := lines.get(number, ""), fmt, keyed)
            or (whole_table and number != 1 and line.strip())
        )
    ]


def build_chunks(
    path: str, fmt: str, lines: Mapping[int, str], targets: Sequence[int], max_chars: int = 200_000
) -> list[Chunk]:
    """Chunks of the candidate lines among `targets`, each under `max_chars` characters."""
    header = lines.get(1) if fmt in ("csv", "tsv") else None
    header_is_phi = header is not None and _table_has_phi_columns(header)
    chunks: list[Chunk] = []
    texts: list[str] = []
    starts: list[int] = []
    contexts: list[LineContext] = []
    size = 0
    for number in candidate_lines(lines, targets, fmt, whole_table=header_is_phi):
        ctx = line_context(path, fmt, lines, number, header)
        starts.append(size)
        texts.append(ctx.text)
        contexts.append(ctx)
        size += len(ctx.text) + 1
        if size >= max_chars:
            chunks.append(Chunk(path, fmt, "\n".join(texts), starts, contexts))
            texts, starts, contexts, size = [], [], [], 0
    if texts:
        chunks.append(Chunk(path, fmt, "\n".join(texts), starts, contexts))
    return chunks


_PHI_COLUMN = re.compile(
    r"(?i)" + _NAME_PLACE_KEYS + r"|dob|birth|ssn|social|mrn|medical|phone|email|zip|postal"
    r"|member|npi|dea|mbi|vin|license|account|admi[st]|discharg|death|insur|policy|diagnos|icd"
)


def _table_has_phi_columns(header: str) -> bool:
    return bool(_PHI_COLUMN.search(header))
