"""A Report with something in every section, for the renderer tests."""

from __future__ import annotations

from dataclasses import replace

from gitops_health.rules.report import (
    ControlVerdict,
    Evidence,
    Finding,
    Level,
    Report,
    RiskFactor,
    RiskResult,
    RuleResult,
    RuleState,
    Verdict,
)

HEAD = "a1b2c3d4e5f6" + "0" * 28
SSN = "219-09-9991"  # a made-up value the renderers must never show


def full_report() -> Report:
    return Report(
        repository="acme/app",
        forge="github",
        head_sha=HEAD,
        base_sha="f" * 40,
        number=42,
        title="PROJ-7 add | pipes <b>and</b> <!-- gitops-health:report -->",
        policy_digest="d" * 64,
        risk=RiskResult(
            score=72,
            level=Level.HIGH,
            probability=0.41,
            factors=(
                RiskFactor("la", 18.5, "+420 lines across 14 files in 5 directories"),
                RiskFactor("sensitive", 9.0, "touches `infra/` (sensitive path)"),
            ),
            rollout="canary",
            metrics={"la": 420.0, "age": None},
            missing=("exp",),
        ),
        controls=(
            ControlVerdict(
                "hipaa", "164.312(c)(1)", "Integrity", "45 CFR §164.312(c)(1)", Verdict.FAIL,
                "commit abc is not signed", (Evidence("commit abc is not signed", commit=HEAD),),
            ),
            ControlVerdict(
                "hipaa", "164.514", "De-identification of PHI", "45 CFR §164.514", Verdict.FAIL,
                "1 PHI finding in added lines: US_SSN ×1",
                (Evidence("US_SSN found", path="data/p.csv", line=3),),
            ),
            ControlVerdict(
                "sox", "current-approval", "Approval covers the change", "SOX §404",
                Verdict.PENDING, "every approval predates the current head",
                (Evidence("approved bbbb", commit="b" * 40, review="bob"),),
            ),
            ControlVerdict("sox", "ticket", "Change ticket", "SOX §404", Verdict.PASS, "ok"),
            ControlVerdict("sox", "ci", "CI", "SOX §404", Verdict.NOT_APPLICABLE, "no CI"),
        ),
        approval=RuleResult(
            name="policy",
            state=RuleState.PENDING,
            description="1 of 2 rules approved",
            children=(
                RuleResult("two reviewers", RuleState.APPROVED, "approved by bob", ("bob",)),
                RuleResult(
                    "security team", RuleState.PENDING, "needs 1 approval from security",
                    candidates=("carol", "dave"), request=("carol",),
                ),
            ),
        ),
        disapproval=RuleResult("disapproval", RuleState.SKIPPED, "nobody disapproved"),
        findings=(
            Finding(
                kind="phi", rule="UsSsnRecognizer", message=f"SSN {SSN} found",
                path="data/p.csv", line=3, column=5, end_column=16, entity_type="US_SSN",
                fingerprint="fp1",
            ),
            Finding(
                kind="transmission-security", rule="plaintext-http", path="src/a b.py", line=9,
                column=7, end_column=30, message="plain http:// endpoint (api.acme.io): use https://",
            ),
            Finding(
                kind="signature", rule="signature-missing", commit=HEAD, severity="warning",
                message="a1b2c3d4e5f6 'feat: x': the commit is not signed",
            ),
        ),
        notes=("history features absent: no clone",),
        policy_errors=(".gitops-health.yml:3: extends: unknown compliance pack(s) pci",),
    )


def many_findings_report(count: int) -> Report:
    finding = Finding(
        kind="transmission-security", rule="plaintext-http", path="src/generated/client.py",
        message="plain http:// endpoint (api.acme.io): use https://",
    )  # fmt: skip
    findings = tuple(replace(finding, line=n) for n in range(1, count + 1))
    return replace(full_report(), findings=findings)
