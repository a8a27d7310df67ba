"""`compliance:` section: tuning of the packs named in `extends`."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitops_health.rules.config.schema import check_regex


@dataclass(frozen=True)
class ComplianceConfig:
    """Settings the compliance packs read."""

    ticket_pattern: str = field(
        default=r"[A-Z][A-Z0-9]+-\d+", metadata={"check": check_regex, "doc": "change ticket id"}
    )
    disabled_controls: tuple[str, ...] = field(
        default=(), metadata={"doc": "control ids (e.g. sox.ticket) not evaluated"}
    )
