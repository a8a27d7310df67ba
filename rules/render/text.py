"""Wording shared by every renderer: labels, locations, evidence and PHI-safe finding text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from gitops_health.rules.report import (
    ControlVerdict,
    Evidence,
    Finding,
    Report,
    RuleResult,
    RuleState,
    Verdict,
)

VERDICT_LABELS = {
    Verdict.PASS: "pass",
    Verdict.FAIL: "fail",
    Verdict.PENDING: "pending",
    Verdict.NOT_APPLICABLE: "n/a",
}
VERDICT_ORDER = (Verdict.FAIL, Verdict.PENDING, Verdict.PASS, Verdict.NOT_APPLICABLE)
RULE_STATES_BLOCKING = (RuleState.ERROR, RuleState.DISAPPROVED, RuleState.PENDING)


def short(sha: str) -> str:
    return sha[:12]


def finding_text(finding: Finding) -> str:
    """What may be shown of a finding: PHI is named by type only, never by its message."""
    if finding.kind == "phi":
        return f"{finding.entity_type or 'PHI'} (value withheld)"
    return finding.message


def finding_location(finding: Finding) -> str:
    if finding.path:
        return f"{finding.path}:{finding.line}" if finding.line else finding.path
    if finding.commit:
        return f"commit {short(finding.commit)}"
    return "-"


def evidence_text(evidence: Evidence) -> str:
    """One line: the fact, then where it is (file:line, commit, review)."""
    where = []
    if evidence.path:
        where.append(f"{evidence.path}:{evidence.line}" if evidence.line else evidence.path)
    if evidence.commit:
        where.append(f"commit {short(evidence.commit)}")
    if evidence.review:
        where.append(f"review by {evidence.review}")
    return f"{evidence.text} ({', '.join(where)})" if where else evidence.text


def verdict_counts(controls: Sequence[ControlVerdict]) -> str:
    """"2 fail, 1 pending, 9 pass", most severe first; "none" without controls."""
    counts = Counter(c.verdict for c in controls)
    parts = [f"{counts[v]} {VERDICT_LABELS[v]}" for v in VERDICT_ORDER if counts[v]]
    return ", ".join(parts) or "none"


def severity_counts(findings: Sequence[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    return ", ".join(f"{n} {severity}" for severity, n in counts.most_common())


def rule_rows(rule: RuleResult | None, depth: int = 0) -> Iterator[tuple[int, RuleResult]]:
    """The rule tree, depth-first, with each rule's nesting depth."""
    if rule is None:
        return
    yield depth, rule
    for child in rule.children:
        yield from rule_rows(child, depth + 1)


def risk_headline(report: Report) -> str:
    risk = report.risk
    if risk is None:
        return "not assessed"
    return f"{risk.score}/100 {risk.level.value}, rollout: {risk.rollout}"


def approval_headline(report: Report) -> str:
    if report.disapproval is not None and report.disapproval.state is RuleState.DISAPPROVED:
        return "disapproved"
    if report.approval is None:
        return "no rules"
    return report.approval.state.value
