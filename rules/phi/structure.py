"""Reading a text file's structure with the stdlib only: which key, column header, HL7 field or
SQL column every value of a candidate line belongs to, plus the words around it.

That context is what lets the recognizers tell a patient's birth date from a release date
without a trained language model. Per-file facts (enclosing blocks, SQL column lists, the
table header) are computed once per file, not once per line.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from gitops_health.rules.phi.prefilter import (
    key_words,
    path_words,
    split_cells,
    text_words,
)


@dataclass
class LineContext:
    """What surrounds the values of one line: keyed fields, and words about the record."""

    number: int
    text: str  # the line as analysed (same length as the original)
    fields: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    subject: set[str] = field(default_factory=set)  # words about the record the line is in
    parents: set[str] = field(default_factory=set)  # keys of the enclosing blocks
    words: set[str] = field(default_factory=set)  # the plain words of the line

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

    def words_before(self, start: int, count: int = 4) -> set[str]:
        return text_words(self.text[max(0, start - 60) : start], count)

    @cached_property
    def all_words(self) -> frozenset[str]:
        """Every word any match on this line could take as context (keys and plain words)."""
        return frozenset(self.words.union(*self.fields.values()))


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
    if "(" in ctx.text:
        for match in _CALL.finditer(ctx.text):  # setFirstName("Maria"), .mrn('E4535749')
            ctx.add_field(*match.span("val"), key_words(match.group("key")))
    if "<" in ctx.text:
        for match in _XML_TEXT.finditer(ctx.text):
            ctx.add_field(*match.span("val"), key_words(match.group("key").split(":")[-1]))
        for match in _XML_ATTR.finditer(ctx.text):
            ctx.add_field(*match.span("val"), key_words(match.group("tag").split(":")[-1]))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _bare_value_field(ctx: LineContext, parents: Sequence[str]) -> None:
    """A list item (`- Jane`, `"Jane",`) belongs to the key of the list it is in."""
    if not parents or ":" in ctx.text:
        return
    match = _BARE.match(ctx.text)
    if match:
        ctx.add_field(*match.span("val"), key_words(parents[0]))


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


_MARKDOWN_RULE = re.compile(r"\s*\|?[\s:|-]+\|?\s*")


def _markdown_header(lines: Mapping[int, str], number: int) -> str | None:
    for back in range(number - 1, max(0, number - 200), -1):
        line = lines.get(back)
        if line is None or not line.lstrip().startswith("|"):
            return None
        if "-" in line and _MARKDOWN_RULE.fullmatch(line):
            return lines.get(back - 1)
    return None


_INSERT = re.compile(
    r"insert\s+into\s+(?P<table>[\w.\"`\[\]]+)\s*\((?P<cols>[^)]*)\)\s*values", re.IGNORECASE
)
_TUPLE = re.compile(r"\((?P<body>(?:[^()'\"]|'(?:[^']|'')*'|\"[^\"]*\")*)\)")
_VALUES = re.compile(r"values", re.IGNORECASE)
_SQLISH = re.compile(r"\binsert\s+into\b|^\s*\(", re.IGNORECASE)
SQL_LOOKBACK = 300  # lines between a row and its INSERT statement


def _sql_fields(ctx: LineContext, insert: re.Match[str] | None) -> None:
    if insert is None:
        return
    columns = [c.strip(' "`[]') for c in insert.group("cols").split(",")]
    ctx.subject.update(key_words(insert.group("table").split(".")[-1].strip('"`[]')))
    text = ctx.text
    values_at = _VALUES.search(text)
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
    match = _HL7_SEGMENT.search(ctx.text) if "|" in ctx.text else None
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

_NESTED = ("json", "yaml", "xml", "notebook", "source", "text")
_DOCSTRING_START = re.compile(r"[rRuU]?(\"\"\"|\'\'\')")


class Document:
    """One file (or the part of it that is known) and the facts shared by all its lines."""

    def __init__(
        self,
        path: str,
        fmt: str,
        lines: Mapping[int, str],
        header: tuple[int, str, str] | None = None,
    ) -> None:
        self.path, self.fmt, self.lines, self.header = path, fmt, lines, header
        self.words = path_words(path)
        self._ancestors: dict[int, list[str]] = {}

    def outline(self, wanted: Sequence[int]) -> None:
        """Keys of the enclosing blocks of the `wanted` lines of pretty-printed JSON, YAML,
        XML or indented code, innermost first, in one pass (a stack of open blocks)."""
        if self.fmt not in _NESTED or not wanted:
            return
        limit = 40 if self.fmt in ("source", "text") else 200
        targets, last = set(wanted), max(wanted)
        stack: list[tuple[int, int]] = []  # (indent, line number) of the open blocks
        keys: dict[int, str | None] = {}
        for number in sorted(self.lines):
            if number > last:
                break
            line = self.lines[number]
            blank = not line.strip()
            indent = 10**6 if blank else _indent(line)
            if not blank:
                while stack and stack[-1][0] >= indent:
                    stack.pop()
            if number in targets:
                self._ancestors[number] = [
                    key
                    for _, back in reversed(stack)
                    if back > number - limit and (key := self._key(back, keys))
                ]
            if not blank:
                stack.append((indent, number))

    def _key(self, number: int, keys: dict[int, str | None]) -> str | None:
        if number not in keys:
            match = _INDENT_KEY.match(self.lines[number])
            keys[number] = (match.group(1) or match.group(2).split(":")[-1]) if match else None
        return keys[number]

    @cached_property
    def docstrings(self) -> frozenset[int]:
        """Lines of Python docstrings: documentation, whose `key=value` examples are not data.
        A docstring is a triple-quoted string standing alone after a `:` line or at the top."""
        if not self.path.endswith((".py", ".pyi")):
            return frozenset()
        found: set[int] = set()
        quote, after_colon = "", True
        for number in sorted(self.lines):
            line = self.lines[number]
            stripped = line.strip()
            if quote:
                found.add(number)
                quote = "" if quote in line else quote
                continue
            opening = _DOCSTRING_START.match(stripped)
            if opening and after_colon:
                found.add(number)
                rest = stripped[opening.end() :]
                quote = "" if opening.group(1) in rest else opening.group(1)
            if stripped and not stripped.startswith("#"):
                after_colon = stripped.endswith(":")
        return frozenset(found)

    def ancestors(self, number: int) -> list[str]:
        return self._ancestors.get(number, [])

    @cached_property
    def inserts(self) -> tuple[list[int], list[re.Match[str]]]:
        """Line numbers and matches of the file's `INSERT INTO t (columns) VALUES` headers."""
        numbers, matches = [], []
        for number, line in self.lines.items():
            if "nsert" in line or "NSERT" in line:
                match = _INSERT.search(line)
                if match:
                    numbers.append(number)
                    matches.append(match)
        return numbers, matches

    def insert_for(self, number: int) -> re.Match[str] | None:
        numbers, matches = self.inserts
        index = bisect_right(numbers, number) - 1
        if index < 0 or numbers[index] <= number - SQL_LOOKBACK:
            return None
        return matches[index]


def _analysis_copy(line: str, fmt: str) -> str:
    """Notebook sources are JSON strings: unescape quotes and newlines, keeping the columns."""
    if fmt != "notebook":
        return line
    return line.replace('\\"', ' "').replace("\\n", "  ").replace("\\t", "  ")


def line_context(doc: Document, number: int) -> LineContext:
    """The context of line `number` of `doc` (after `doc.outline` saw it)."""
    fmt, lines = doc.fmt, doc.lines
    ctx = LineContext(number, _analysis_copy(lines[number], fmt))
    ctx.words.update(text_words(ctx.text))
    ctx.subject.update(doc.words, ctx.words)
    if _hl7_fields(ctx):
        return ctx
    if doc.header is not None and number > doc.header[0]:
        _table_fields(ctx, doc.header[1], doc.header[2])
        return ctx
    if ctx.text.lstrip().startswith("|"):
        table_header = _markdown_header(lines, number)
        if table_header:
            _table_fields(ctx, table_header, "|")
            return ctx
    if number not in doc.docstrings:
        _kv_fields(ctx, fmt == "source")
    if fmt == "sql" or _SQLISH.search(ctx.text):
        _sql_fields(ctx, doc.insert_for(number))
    if fmt in _NESTED:
        parents = doc.ancestors(number)
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
    scores: dict[tuple[str, int, float], tuple[float, str | None]] = field(default_factory=dict)

    def locate(self, offset: int) -> tuple[LineContext, int]:
        index = bisect_right(self.starts, offset) - 1
        return self.contexts[index], offset - self.starts[index]

    def lines_holding(self, needle: str) -> list[int]:
        """Indices of the lines that contain `needle`, found with `str.find` (fast in C)."""
        found: list[int] = []
        position = self.text.find(needle)
        while position != -1:
            index = bisect_right(self.starts, position) - 1
            found.append(index)
            following = index + 1
            if following == len(self.starts):
                break
            position = self.text.find(needle, self.starts[following])
        return found

    @cached_property
    def word_lines(self) -> dict[str, list[int]]:
        """Word → indices of the lines it occurs in (as a key or in the text)."""
        index: dict[str, list[int]] = {}
        for number, line in enumerate(self.contexts):
            for word in line.all_words:
                index.setdefault(word, []).append(number)
        return index


def build_chunks(doc: Document, numbers: Sequence[int], max_chars: int = 200_000) -> list[Chunk]:
    """The candidate lines `numbers` of `doc` in chunks of under `max_chars` characters."""
    doc.outline(numbers)
    chunks: list[Chunk] = []
    texts: list[str] = []
    starts: list[int] = []
    contexts: list[LineContext] = []
    size = 0
    for number in numbers:
        ctx = line_context(doc, number)
        starts.append(size)
        texts.append(ctx.text)
        contexts.append(ctx)
        size += len(ctx.text) + 1
        if size >= max_chars:
            chunks.append(Chunk(doc.path, doc.fmt, "\n".join(texts), starts, contexts))
            texts, starts, contexts, size = [], [], [], 0
    if texts:
        chunks.append(Chunk(doc.path, doc.fmt, "\n".join(texts), starts, contexts))
    return chunks
