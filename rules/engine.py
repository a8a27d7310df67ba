"""Evaluate a Change against a Policy: the one entry point both front-ends call."""

from __future__ import annotations

from collections.abc import Sequence

from gitops_health.rules.change import Change, Directory
from gitops_health.rules.config.policy import Policy
from gitops_health.rules.report import Finding, Report


def collect_findings(change: Change, policy: Policy) -> list[Finding]:
    """Findings of every detector on what the change adds (PHI, messages, signatures, TLS)."""
    from gitops_health.rules.commitmsg import commit_findings
    from gitops_health.rules.signatures import signature_findings
    from gitops_health.rules.transmission import transmission_findings

    findings = commit_findings(change, policy.commit_msg)
    findings += signature_findings(change, policy.signing)
    findings += transmission_findings(change, policy.compliance)
    if policy.phi.enabled:
        from gitops_health.rules.phi import scan_change

        findings += scan_change(change, policy.phi)
    return findings


def evaluate(
    change: Change,
    policy: Policy,
    *,
    directory: Directory | None = None,
    findings: Sequence[Finding] | None = None,
) -> Report:
    """The Report for `change`; `findings` may be passed in when a front-end already has them."""
    from gitops_health.rules.approvals import evaluate_approvals
    from gitops_health.rules.compliance import evaluate_controls
    from gitops_health.rules.risk import assess

    found = tuple(collect_findings(change, policy) if findings is None else findings)
    risk = assess(change, policy.risk, found)
    controls = evaluate_controls(change, policy, found, risk)
    approval, disapproval = evaluate_approvals(
        change, policy, risk=risk, controls=controls, findings=found,
        directory=directory or Directory(),
    )  # fmt: skip
    return Report(
        repository=change.repository,
        forge=change.forge,
        head_sha=change.head_sha,
        base_sha=change.base_sha,
        number=change.number,
        title=change.title,
        policy_digest=policy.digest,
        risk=risk,
        controls=controls,
        approval=approval,
        disapproval=disapproval,
        findings=found,
        notes=change.notes,
    )
