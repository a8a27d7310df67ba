"""`gitops-health risk`: the explained risk score of a local commit range.

`--rev A..B` scores what B adds since it forked from A, as a pull request of B into A would be
scored (`A...B` is the same); a single revision X means `X~1..X`; the default is the last
commit. The risk settings come from the base's `.gitops-health.yml` (or `--policy FILE`).
Signature problems count as a factor; PHI findings only with `--phi` (it loads the PHI scanner).
Exit status: 0 when scored, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from gitops_health.hooks.git_change import GitError, build_change
from gitops_health.hooks.simulate import InputError, read_policy, repo_root
from gitops_health.rules.change import Change
from gitops_health.rules.config.policy import Policy
from gitops_health.rules.report import Finding, Report, RiskResult


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitops-health risk",
        description="Explained risk score (0-100) of a commit range, with its top reasons.",
    )
    parser.add_argument("--repo", default=".", help="repository (default: the current one)")
    parser.add_argument(
        "--rev",
        default="HEAD~1..HEAD",
        help="BASE..HEAD range, or one commit (default: HEAD~1..HEAD)",
    )
    parser.add_argument("--policy", type=Path, help="policy file (default: the base's own)")
    parser.add_argument("--phi", action="store_true", help="also scan added lines for PHI")
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def split_range(rev: str) -> tuple[str, str]:
    """(base, head) of `A..B`, `A...B` or a single revision X (= X~1..X)."""
    for separator in ("...", ".."):
        if separator in rev:
            base, _, head = rev.partition(separator)
            if not base or not head:
                raise InputError(f"--rev {rev!r}: give both ends, e.g. main..HEAD")
            return base, head
    return f"{rev}~1", rev


def findings_of(change: Change, policy: Policy, with_phi: bool) -> list[Finding]:
    from gitops_health.rules.signatures import signature_findings

    findings = signature_findings(change, policy.signing)
    if with_phi and policy.phi.enabled:
        from gitops_health.rules.phi import scan_change

        findings += scan_change(change, policy.phi)
    return findings


def assess_range(args: argparse.Namespace) -> tuple[Change, RiskResult]:
    from gitops_health.rules.risk import assess

    root = repo_root(args.repo)
    args.base, head = split_range(args.rev)
    args.admin_policy = None
    policy = read_policy(args, root)
    try:
        change = build_change(
            root, args.base, head, allowed_signers_file=policy.signing.allowed_signers_file
        )
    except GitError as exc:
        raise InputError(str(exc)) from None
    return change, assess(change, policy.risk, findings_of(change, policy, args.phi))


def as_report(change: Change, risk: RiskResult) -> Report:
    return Report(
        repository=change.repository,
        forge=change.forge,
        head_sha=change.head_sha,
        base_sha=change.base_sha,
        risk=risk,
        notes=change.notes,
    )


def render_text(report: Report) -> str:
    from gitops_health.rules.render.text import risk_headline

    assert report.risk is not None
    lines = [f"Risk {risk_headline(report)}"]
    lines += [f"  {f.points:+6.1f}  {f.description}" for f in report.risk.factors]
    if report.risk.missing:
        lines.append(f"  not available: {', '.join(report.risk.missing)}")
    lines += [f"  note: {note}" for note in report.notes]
    return "\n".join(lines)


def render_json(report: Report) -> str:
    from gitops_health.rules.render.json_report import report_to_dict

    full = report_to_dict(report)
    keys = ("repository", "base_sha", "head_sha", "risk", "notes")
    return json.dumps({k: full[k] for k in keys if k in full}, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        change, risk = assess_range(args)
    except InputError as exc:
        print(f"gitops-health risk: {exc}", file=sys.stderr)
        return 2
    report = as_report(change, risk)
    print(render_json(report) if args.json else render_text(report))
    return 0
