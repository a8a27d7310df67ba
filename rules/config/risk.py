"""`risk:` section: risk levels, sensitive paths and rollout recommendations."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RiskThresholds:
    """Lowest score (0-100) of each level above low."""

    medium: int = 30
    high: int = 60
    critical: int = 85


@dataclass(frozen=True)
class RiskConfig:
    """Explained change-risk score."""

    thresholds: RiskThresholds = field(default_factory=RiskThresholds)
    sensitive_paths: tuple[str, ...] = field(
        default=("infra/**", "terraform/**", "deploy/**", "**/migrations/**", ".github/workflows/**"),
        metadata={"doc": "globs whose changes raise the risk"},
    )
    rollout: dict[str, str] = field(
        default_factory=lambda: {
            "low": "standard",
            "medium": "standard",
            "high": "canary",
            "critical": "blue-green",
        },
        metadata={"doc": "rollout strategy recommended per level"},
    )
