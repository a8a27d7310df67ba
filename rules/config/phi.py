"""`phi:` section: PHI detection settings."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PhiConfig:
    """Protected health information detection (HIPAA Safe Harbor identifiers)."""

    enabled: bool = True
    spacy_model: str | None = field(
        default=None, metadata={"doc": "an installed spaCy model (e.g. en_core_web_sm) for NER"}
    )
    entities: tuple[str, ...] = field(default=(), metadata={"doc": "only these types; empty = all"})
    exclude: tuple[str, ...] = field(default=(), metadata={"doc": "path globs never scanned"})
    baseline: str = ".gitops-health/phi-baseline.json"
    min_score: float = 0.5
    max_file_bytes: int = 5_000_000
