"""Scanning documents and Changes: pre-filter, Presidio on candidates, suppression, Findings.

Everything here is stdlib-only until a candidate line exists; then `analyzer` (Presidio and
spaCy) is imported once per process.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from gitops_health.rules.config.phi import PhiConfig
from gitops_health.rules.globs import matches
from gitops_health.rules.phi import binary
from gitops_health.rules.phi.structure import build_chunks, detect_format
from gitops_health.rules.phi.validators import compact

if TYPE_CHECKING:  # the hook's clean path never needs these modules
    from gitops_health.rules.change import Change, FileChange
    from gitops_health.rules.report import Finding

DEFAULT_SALT = "gitops-health/phi/v1"
ALWAYS_SKIPPED = (
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock",
    "Cargo.lock", "go.sum", "composer.lock", "Gemfile.lock", "uv.lock", "*.min.js", "*.min.css",
    "*.map", ".secrets.baseline",
)  # fmt: skip
_PRAGMA = re.compile(r"phi:allow\b")
_DICOM_SUFFIXES = (".dcm", ".dicom")
ICD10_WINDOW = 10  # lines


def _new_hit(**fields):  # type: ignore[no-untyped-def]
    from gitops_health.rules.phi.analyzer import Hit

    return Hit(**fields)


def is_skipped(path: str, config: PhiConfig) -> bool:
    return (
        matches(path, ALWAYS_SKIPPED) or matches(path, config.exclude) or (path == config.baseline)
    )


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Latin-1, which decodes any byte string."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def numbered(text: str) -> dict[int, str]:
    return {number: line for number, line in enumerate(text.splitlines(), start=1)}


def scan_lines(
    path: str,
    lines: Mapping[int, str],
    config: PhiConfig,
    targets: Sequence[int] | None = None,
) -> list:  # list[Hit]
    """Findings on `targets` (default: every line); the other lines only give context."""
    fmt = detect_format(path, lines.get(1, ""))
    wanted = sorted(lines) if targets is None else sorted(targets)
    chunks = build_chunks(path, fmt, lines, wanted)
    if not chunks:
        return []
    from gitops_health.rules.phi.analyzer import analyze_chunk

    hits = [
        h for chunk in chunks for h in analyze_chunk(chunk, config.min_score, config.spacy_model)
    ]
    return [h for h in _with_identifiers_near_codes(hits) if _reportable(h, lines, config)]


def _with_identifiers_near_codes(hits: list) -> list:  # type: ignore[type-arg]
    """ICD-10 codes are a signal, not an identifier: kept only near an identifier."""
    identified = [h.line for h in hits if h.entity_type != "ICD10"]
    return [
        h
        for h in hits
        if h.entity_type != "ICD10"
        or any(abs(h.line - line) <= ICD10_WINDOW for line in identified)
    ]


def _reportable(hit, lines: Mapping[int, str], config: PhiConfig) -> bool:  # type: ignore[no-untyped-def]
    if config.entities and hit.entity_type not in config.entities:
        return False
    if any(re.fullmatch(pattern, hit.value) for pattern in config.allow):
        return False
    here, above = lines.get(hit.line, ""), lines.get(hit.line - 1, "")
    return not (_PRAGMA.search(here) or _PRAGMA.search(above))


def scan_bytes(
    path: str, data: bytes, config: PhiConfig, targets: Sequence[int] | None = None
) -> list:  # list[Hit]
    """Scan one file's content; binary files are only checked for patient images."""
    if is_skipped(path, config):
        return []
    if binary.is_binary(data[:8192]) or binary.image_kind(data[:200]):
        reason = binary.image_reason(path, data[: 1 << 20])
        return [] if reason is None else [_image_hit(path, reason)]
    if len(data) > config.max_file_bytes:
        return []
    return scan_lines(path, numbered(decode_text(data)), config, targets)


def _image_hit(path: str, reason: str):  # type: ignore[no-untyped-def]
    return _new_hit(
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
    return value.strip().lower() if "@" in value else compact(value)


def fingerprint(path: str, entity_type: str, value: str, salt: str = DEFAULT_SALT) -> str:
    """Salted HMAC-SHA256 of (path, type, value): stable when lines move, never the value."""
    message = f"{path}\0{entity_type}\0{normalized(value)}".encode()
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()[:40]


def mask(value: str) -> str:
    """Shape without content: letters and digits become `*` (at most 24 shown)."""
    masked = re.sub(r"[A-Za-z0-9]", "*", value)
    return masked if len(masked) <= 24 else masked[:24] + "…"


def to_finding(hit, salt: str = DEFAULT_SALT, commit: str = "") -> Finding:  # type: ignore[no-untyped-def]
    from gitops_health.rules.report import Finding

    return Finding(
        kind="phi", rule=hit.recognizer,
        message=f"{hit.entity_type} {mask(hit.value)} ({hit.why})",
        path=hit.path, line=hit.line, column=hit.column, end_column=hit.end_column,
        entity_type=hit.entity_type, score=hit.score, severity=hit.severity, commit=commit,
        fingerprint=fingerprint(hit.path, hit.entity_type, hit.value, salt),
    )  # fmt: skip


def _file_change_hits(file: FileChange, config: PhiConfig) -> list:  # type: ignore[type-arg]
    if is_skipped(file.path, config):
        return []
    if file.binary:
        suffix = PurePosixPath(file.path).suffix.lower()
        if suffix in _DICOM_SUFFIXES:
            return [_image_hit(file.path, "DICOM object added (contents not inspected)")]
        if binary.path_words(file.path) & binary.PATIENT_IMAGE_WORDS and suffix in (
            ".png",
            ".jpg",
            ".jpeg",
            ".gif",
            ".bmp",
            ".tif",
            ".tiff",
            ".webp",
        ):
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
