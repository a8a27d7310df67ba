"""What the engine returns: one `Report` per evaluated Change, rendered by `rules/render/`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    PENDING = "pending"
    NOT_APPLICABLE = "not_applicable"


class RuleState(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    SKIPPED = "skipped"
    ERROR = "error"
    DISAPPROVED = "disapproved"


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Finding:
    """A located problem. `message` never holds a PHI value or a secret, only its type."""

    kind: str  # phi | commit-message | signature | transmission-security | policy
    rule: str  # the recognizer or rule id that produced it
    message: str
    path: str = ""
    line: int = 0  # 1-based; 0 when the finding is not tied to a line
    column: int = 0  # 1-based
    end_column: int = 0
    entity_type: str = ""
    score: float = 1.0
    severity: str = "error"  # error | warning | note
    commit: str = ""
    fingerprint: str = ""  # salted hash for baselines; never the value


@dataclass(frozen=True)
class RiskFactor:
    feature: str
    points: float  # contribution to the 0-100 score
    description: str  # human sentence: "+420 lines across 14 files in 5 directories"


@dataclass(frozen=True)
class RiskResult:
    score: int  # 0-100
    level: Level
    probability: float
    factors: tuple[RiskFactor, ...] = ()
    rollout: str = "standard"
    metrics: dict[str, float | None] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # features not available (no clone, no history...)


@dataclass(frozen=True)
class Evidence:
    text: str
    commit: str = ""
    path: str = ""
    line: int = 0
    review: str = ""  # reviewer login


@dataclass(frozen=True)
class ControlVerdict:
    framework: str  # hipaa | sox | soc2 | pci-dss | part11 | custom pack name
    control: str  # e.g. "164.312(c)(1)"
    title: str
    citation: str
    verdict: Verdict
    reason: str  # one human sentence saying why
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class RuleResult:
    """State of one approval rule (or an and/or group of them), with the reason in words."""

    name: str
    state: RuleState
    description: str
    approvers: tuple[str, ...] = ()  # whose approvals counted
    candidates: tuple[str, ...] = ()  # who could still satisfy it
    request: tuple[str, ...] = ()  # reviewers to request
    children: tuple[RuleResult, ...] = ()


@dataclass(frozen=True)
class Report:
    repository: str
    forge: str
    head_sha: str
    base_sha: str = ""
    number: int | None = None
    title: str = ""
    policy_digest: str = ""
    risk: RiskResult | None = None
    controls: tuple[ControlVerdict, ...] = ()
    approval: RuleResult | None = None
    disapproval: RuleResult | None = None
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. "history features absent: no clone"
    policy_errors: tuple[str, ...] = ()  # validation errors of a rules file changed in the PR

    @property
    def failing_controls(self) -> tuple[ControlVerdict, ...]:
        return tuple(c for c in self.controls if c.verdict is Verdict.FAIL)

    @property
    def conclusion(self) -> str:
        """success | failure | pending, for check runs and build statuses."""
        if self.failing_controls or self.policy_errors:
            return "failure"
        blocking = (RuleState.DISAPPROVED, RuleState.ERROR)  # a failed look-up fails closed
        if self.disapproval is not None and self.disapproval.state in blocking:
            return "failure"
        if self.approval is not None and self.approval.state is RuleState.ERROR:
            return "failure"
        pending_control = any(c.verdict is Verdict.PENDING for c in self.controls)
        if pending_control or (
            self.approval is not None and self.approval.state is RuleState.PENDING
        ):
            return "pending"
        return "success"
