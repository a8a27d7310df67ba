"""`compliance:` section: tuning of the packs named in `extends`."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from gitops_health.rules.config.schema import check_regex


def known_packs() -> tuple[str, ...]:
    """Names of the built-in packs (`rules/packs/<name>.yaml`)."""
    folder = files("gitops_health.rules") / "packs"
    names = (p.name for p in folder.iterdir())
    return tuple(sorted(n.removesuffix(".yaml") for n in names if n.endswith(".yaml")))


def check_pack_names(value: Any) -> str | None:
    """Field check for `extends`: every name must be a built-in pack."""
    known = known_packs()
    unknown = [name for name in value or () if name not in known]
    if unknown:
        return f"unknown compliance pack(s) {', '.join(unknown)} (known packs: {', '.join(known)})"
    return None


def check_control_keys(value: Any) -> str | None:
    """Field check for `disabled_controls`: each must be `<pack>.<id>` of a built-in control."""
    from gitops_health.rules.compliance import all_control_keys

    known = all_control_keys()
    unknown = [key for key in value or () if key not in known]
    if unknown:
        hint = "write them as <pack>.<id>, e.g. sox.ticket"
        return f"unknown control(s) {', '.join(unknown)} ({hint})"
    return None


@dataclass(frozen=True)
class ComplianceConfig:
    """Settings the compliance packs read."""

    ticket_pattern: str = field(
        default=r"[A-Z][A-Z0-9]+-\d+",
        metadata={
            "check": check_regex,
            "doc": "change ticket id, searched in the title, description, branch and commits",
        },
    )
    disabled_controls: tuple[str, ...] = field(
        default=(),
        metadata={
            "check": check_control_keys,
            "doc": "controls reported as not applicable, as <pack>.<id> (e.g. sox.ticket)",
        },
    )
    transmission_exclude: tuple[str, ...] = field(
        default=("*.md", "*.rst", "*.txt", "*.adoc", "docs/", "LICENSE*", "NOTICE*"),
        metadata={"doc": "path globs (gitignore style) the transmission-security check skips"},
    )
    allowed_http_hosts: tuple[str, ...] = field(
        default=(),
        metadata={"doc": "hosts (and their subdomains) allowed behind plain http://"},
    )
