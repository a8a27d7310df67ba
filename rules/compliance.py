"""Compliance packs: per-framework controls, each decided by named checks, with evidence.

A pack is YAML data in `rules/packs/<name>.yaml` (id, title, citation and the checks of each
control); the checks are the functions of `gitops_health.rules.checks`. A control's verdict
is the worst of its checks' verdicts (fail > pending > pass > not applicable); its reason and
evidence come from the checks that decided it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from gitops_health.rules.change import Change
from gitops_health.rules.checks import CHECKS, CheckContext, Outcome
from gitops_health.rules.config.compliance import known_packs
from gitops_health.rules.config.policy import Policy
from gitops_health.rules.report import ControlVerdict, Finding, RiskResult, Verdict

_SEVERITY = (Verdict.FAIL, Verdict.PENDING, Verdict.PASS, Verdict.NOT_APPLICABLE)


class UnknownPack(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"unknown compliance pack {name!r} in extends (known packs: {', '.join(known_packs())})"
        )


def _required(value: Any) -> str | None:
    return None if value else "is required"


def _known_checks(value: Any) -> str | None:
    unknown = [name for name in value or () if name not in CHECKS]
    if unknown:
        return f"unknown check(s) {', '.join(unknown)} (known checks: {', '.join(sorted(CHECKS))})"
    return _required(value)


@dataclass(frozen=True)
class ControlSpec:
    """One control of a pack and the checks that decide it."""

    id: str = field(default="", metadata={"check": _required})
    title: str = field(default="", metadata={"check": _required})
    citation: str = field(default="", metadata={"check": _required})
    checks: tuple[str, ...] = field(default=(), metadata={"check": _known_checks})
    description: str = ""


@dataclass(frozen=True)
class Pack:
    """A compliance pack (`rules/packs/<name>.yaml`)."""

    name: str = field(default="", metadata={"check": _required})
    title: str = field(default="", metadata={"check": _required})
    controls: tuple[ControlSpec, ...] = field(default=(), metadata={"check": _required})


@cache
def load_pack(name: str) -> Pack:
    """The built-in pack `name`; UnknownPack names the known ones."""
    from gitops_health.rules.config.schema import load_section

    if name not in known_packs():
        raise UnknownPack(name)
    resource = files("gitops_health.rules") / "packs" / f"{name}.yaml"
    return load_section(Pack, resource.read_text(encoding="utf-8"), f"rules/packs/{name}.yaml")


def control_key(pack: Pack, control: ControlSpec) -> str:
    """How `compliance.disabled_controls` names a control: `<pack>.<id>`."""
    return f"{pack.name}.{control.id}"


def evaluate_controls(
    change: Change,
    policy: Policy,
    findings: Sequence[Finding],
    risk: RiskResult | None,
) -> tuple[ControlVerdict, ...]:
    """A verdict for every control of every pack in `policy.extends`."""
    context = CheckContext(change, policy, tuple(findings), risk)
    outcomes: dict[str, Outcome] = {}
    disabled = frozenset(policy.compliance.disabled_controls)
    verdicts = []
    for name in dict.fromkeys(policy.extends):
        pack = load_pack(name)
        for control in pack.controls:
            if control_key(pack, control) in disabled:
                verdicts.append(_disabled(pack, control))
                continue
            for check in control.checks:
                if check not in outcomes:
                    outcomes[check] = CHECKS[check](context)
            verdicts.append(_decide(pack, control, [outcomes[c] for c in control.checks]))
    return tuple(verdicts)


def _decide(pack: Pack, control: ControlSpec, outcomes: list[Outcome]) -> ControlVerdict:
    verdict = min((o.verdict for o in outcomes), key=_SEVERITY.index)
    deciding = [o for o in outcomes if o.verdict is verdict]
    return ControlVerdict(
        framework=pack.name,
        control=control.id,
        title=control.title,
        citation=control.citation,
        verdict=verdict,
        reason="; ".join(dict.fromkeys(o.reason for o in deciding)),
        evidence=tuple(dict.fromkeys(e for o in deciding for e in o.evidence)),
    )


def _disabled(pack: Pack, control: ControlSpec) -> ControlVerdict:
    return ControlVerdict(
        framework=pack.name,
        control=control.id,
        title=control.title,
        citation=control.citation,
        verdict=Verdict.NOT_APPLICABLE,
        reason=f"not evaluated: {control_key(pack, control)} is in compliance.disabled_controls",
    )


def all_control_keys() -> frozenset[str]:
    """Every `<pack>.<id>` of the built-in packs."""
    return frozenset(
        control_key(pack, control)
        for pack in map(load_pack, known_packs())
        for control in pack.controls
    )
