"""Scanning documents and Changes: pre-filter, Presidio on candidates, suppression, Findings.

Three stages, each paid only when the previous one found something: `prefilter` picks candidate
lines (stdlib regexes), `structure` + `specs` read their context and decide whether any rule can
reach the threshold (stdlib), and only then `analyzer` imports Presidio (and spaCy) once per
process and runs the registered recognizers on those chunks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from gitops_health.rules.phi import binary
from gitops_health.rules.phi.prefilter import (
    always_skipped,
    candidate_lines,
    detect_format,
    names_phi_columns,
    table_header,
)

if TYPE_CHECKING:  # the hook's clean path never needs these modules
    import hmac

    from gitops_health.rules.change import Change, FileChange
    from gitops_health.rules.config.phi import PhiConfig
    from gitops_health.rules.phi.structure import Document
    from gitops_health.rules.report import Finding

DEFAULT_SALT = "gitops-health/phi/v1"
_PRAGMA = re.compile(r"phi:allow\b")
_DICOM_SUFFIXES = (".dcm", ".dicom")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
ICD10_WINDOW = 10  # lines


@dataclass(frozen=True)
class Hit:
    """A detection before it becomes a report Finding; `value` never leaves the process."""

    path: str
    line: int
    column: int  # 1-based
    end_column: int
    entity_type: str
    score: float
    recognizer: str
    why: str
    value: str
    severity: str = "error"


def is_skipped(path: str, config: PhiConfig) -> bool:
    if always_skipped(path) or path == config.baseline:
        return True
    if not config.exclude:
        return False
    from gitops_health.rules.globs import matches

    return matches(path, config.exclude)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Latin-1, which decodes any byte string."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def numbered(text: str) -> dict[int, str]:
    """Lines by number as git counts them: split at `\n` only (a form feed or a lone `\r`
    inside a line does not start a new one), without the `\r` of CRLF endings."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return {number: line.removesuffix("\r") for number, line in enumerate(lines, start=1)}


def scan_lines(
    path: str,
    lines: Mapping[int, str],
    config: PhiConfig,
    targets: Sequence[int] | None = None,
) -> list[Hit]:
    """Findings on `targets` (default: every line); the other lines only give context."""
    fmt = detect_format(path, lines.get(1, ""))
    header = table_header(lines, fmt)
    phi_table = header[0] if header is not None and names_phi_columns(header[1]) else None
    wanted = sorted(lines) if targets is None else sorted(targets)
    numbers = candidate_lines(lines, wanted, fmt, phi_table)
    if not numbers:
        return []
    from gitops_health.rules.phi.structure import Document

    hits = _analyze(Document(path, fmt, lines, header), numbers, config)
    return [h for h in _with_identifiers_near_codes(hits) if _reportable(h, lines, config)]


def _analyze(doc: Document, numbers: Sequence[int], config: PhiConfig) -> list[Hit]:
    """Presidio on the chunks where some rule can reach the threshold. Without a spaCy model
    that is decided first with the stdlib alone, so clean files never import Presidio."""
    from gitops_health.rules.phi.specs import any_passing
    from gitops_health.rules.phi.structure import build_chunks

    chunks = build_chunks(doc, numbers)
    if not config.spacy_model:
        chunks = [c for c in chunks if any_passing(c, config.min_score, config.entities)]
    if not chunks:
        return []
    from gitops_health.rules.phi.analyzer import analyze_chunk

    return [h for c in chunks for h in analyze_chunk(c, config.min_score, config.spacy_model)]


def _with_identifiers_near_codes(hits: list[Hit]) -> list[Hit]:
    """ICD-10 codes are a signal, not an identifier: kept only near an identifier."""
    identified = [h.line for h in hits if h.entity_type != "ICD10"]
    return [
        h
        for h in hits
        if h.entity_type != "ICD10"
        or any(abs(h.line - line) <= ICD10_WINDOW for line in identified)
    ]


def _reportable(hit: Hit, lines: Mapping[int, str], config: PhiConfig) -> bool:
    if config.entities and hit.entity_type not in config.entities:
        return False
    if any(re.fullmatch(pattern, hit.value) for pattern in config.allow):
        return False
    here, above = lines.get(hit.line, ""), lines.get(hit.line - 1, "")
    return not (_PRAGMA.search(here) or _PRAGMA.search(above))


def scan_bytes(
    path: str, data: bytes, config: PhiConfig, targets: Sequence[int] | None = None
) -> list[Hit]:
    """Scan one file's content; binary files are only checked for patient images."""
    if is_skipped(path, config):
        return []
    if binary.is_binary(data[:8192]) or binary.image_kind(data[:200]):
        reason = binary.image_reason(path, data[: 1 << 20])
        return [] if reason is None else [_image_hit(path, reason)]
    if len(data) > config.max_file_bytes:
        return []
    return scan_lines(path, numbered(decode_text(data)), config, targets)


def _image_hit(path: str, reason: str) -> Hit:
    return Hit(
        path=path,
        line=1,
        column=1,
        end_column=1,
        entity_type="MEDICAL_IMAGE",
        score=1.0,
        recognizer="medical-image",
        why=reason,
        value=path,
    )


# --- findings --------------------------------------------------------------------------------


def normalized(value: str) -> str:
    from gitops_health.rules.phi.validators import compact

    return value.strip().lower() if "@" in value else compact(value)


@lru_cache(maxsize=8)
def _keyed_hmac(salt: str) -> hmac.HMAC:
    import hashlib
    import hmac

    return hmac.new(salt.encode(), digestmod=hashlib.sha256)


def fingerprint(path: str, entity_type: str, value: str, salt: str = DEFAULT_SALT) -> str:
    """Salted HMAC-SHA256 of (path, type, value): stable when lines move, never the value."""
    digest = _keyed_hmac(salt).copy()
    digest.update(f"{path}\0{entity_type}\0{normalized(value)}".encode())
    return digest.hexdigest()[:40]


_ALNUM = re.compile(r"[A-Za-z0-9]")


def mask(value: str) -> str:
    """Shape without content: letters and digits become `*` (at most 24 shown)."""
    masked = _ALNUM.sub("*", value)
    return masked if len(masked) <= 24 else masked[:24] + "…"


def to_finding(
    hit: Hit, salt: str = DEFAULT_SALT, commit: str = "", key_path: str | None = None
) -> Finding:
    """The report Finding of a hit; `key_path` (default: its path) is what the fingerprint
    names, the repository-relative path when the hit's path is as given on a command line."""
    from gitops_health.rules.report import Finding

    return Finding(
        kind="phi", rule=hit.recognizer,
        message=f"{hit.entity_type} {mask(hit.value)} ({hit.why})",
        path=hit.path, line=hit.line, column=hit.column, end_column=hit.end_column,
        entity_type=hit.entity_type, score=hit.score, severity=hit.severity, commit=commit,
        fingerprint=fingerprint(key_path or hit.path, hit.entity_type, hit.value, salt),
    )  # fmt: skip


def _file_change_hits(file: FileChange, config: PhiConfig) -> list[Hit]:
    if is_skipped(file.path, config):
        return []
    if file.binary:
        suffix = "." + file.path.rsplit(".", 1)[-1].lower() if "." in file.path else ""
        if suffix in _DICOM_SUFFIXES:
            return [_image_hit(file.path, "DICOM object added (contents not inspected)")]
        if suffix in _IMAGE_SUFFIXES and binary.patient_path(file.path):
            return [_image_hit(file.path, "image committed under a patient-related name")]
        return []
    lines = {added.number: added.text for added in file.added_lines}
    return scan_lines(file.path, lines, config) if lines else []


def scan_change(change: Change, config: PhiConfig) -> list[Finding]:
    """PHI findings on the lines a Change adds; entries of the repo's baseline are dropped."""
    from gitops_health.rules.phi.baseline import parse_baseline

    known = None
    if config.baseline in change.base_files:
        known = parse_baseline(change.base_files[config.baseline], config.baseline)
    salt = known.salt if known is not None else DEFAULT_SALT
    findings = [to_finding(hit, salt) for f in change.files for hit in _file_change_hits(f, config)]
    if known is None:
        return findings
    return [f for f in findings if f.fingerprint not in known.entries]
