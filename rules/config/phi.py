"""`phi:` section: PHI detection settings."""

from __future__ import annotations

from dataclasses import dataclass, field

ENTITY_TYPES = (
    "PERSON", "ADDRESS", "DATE", "AGE_OVER_89", "PHONE", "EMAIL", "SSN", "MRN", "HEALTH_PLAN_ID",
    "MBI", "ACCOUNT_NUMBER", "LICENSE_NUMBER", "VIN", "DEVICE_ID", "URL", "IP_ADDRESS", "NPI",
    "DEA", "ICD10", "MEDICAL_IMAGE",
)  # fmt: skip


def _check_entities(value: tuple[str, ...]) -> str | None:
    unknown = [name for name in value if name not in ENTITY_TYPES]
    return (
        f"unknown type(s) {', '.join(unknown)}; known: {', '.join(ENTITY_TYPES)}"
        if unknown
        else None
    )


def _check_allow(value: tuple[str, ...]) -> str | None:
    """The schema machinery (and PyYAML) load only when a policy file is read, not in the hook."""
    from gitops_health.rules.config.schema import check_regex

    return check_regex(value)


def _check_score(value: float) -> str | None:
    return None if 0.0 < value <= 1.0 else "must be between 0 (exclusive) and 1"


@dataclass(frozen=True)
class PhiConfig:
    """Protected health information detection (HIPAA Safe Harbor identifiers)."""

    enabled: bool = True
    spacy_model: str | None = field(
        default=None, metadata={"doc": "an installed spaCy model (e.g. en_core_web_sm) for NER"}
    )
    entities: tuple[str, ...] = field(
        default=(), metadata={"doc": "only these types; empty = all", "check": _check_entities}
    )
    exclude: tuple[str, ...] = field(default=(), metadata={"doc": "path globs never scanned"})
    allow: tuple[str, ...] = field(
        default=(),
        metadata={"doc": "regexes of values never reported (full match)", "check": _check_allow},
    )
    baseline: str = field(
        default=".gitops-health/phi-baseline.json",
        metadata={"doc": "baseline of accepted findings (salted hashes), relative to the repo"},
    )
    min_score: float = field(default=0.5, metadata={"check": _check_score})
    max_file_bytes: int = field(
        default=5_000_000, metadata={"doc": "larger text files are skipped by `phi scan`"}
    )
