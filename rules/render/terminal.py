"""Plain-text report for a terminal; ANSI colours only when asked (the caller checks isatty)."""

from __future__ import annotations

import re

from gitops_health.rules.render.text import (
    VERDICT_LABELS,
    approval_headline,
    evidence_text,
    finding_location,
    finding_text,
    risk_headline,
    rule_rows,
    short,
    verdict_counts,
)
from gitops_health.rules.report import Report, RuleResult, RuleState, Verdict

_RESET = "\033[0m"
_STYLES = {
    "bold": "\033[1m",
    "dim": "\033[2m",
    "red": "\033[31m",
    "green": "\033[32m",
    "yellow": "\033[33m",
}
_VERDICT_STYLE = {
    Verdict.PASS: "green",
    Verdict.FAIL: "red",
    Verdict.PENDING: "yellow",
    Verdict.NOT_APPLICABLE: "dim",
}
_STATE_STYLE = {
    RuleState.APPROVED: "green",
    RuleState.PENDING: "yellow",
    RuleState.SKIPPED: "dim",
    RuleState.ERROR: "red",
    RuleState.DISAPPROVED: "red",
}
_CONCLUSION_STYLE = {"success": "green", "failure": "red", "pending": "yellow"}
_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "note": "dim"}


# Styles are marked with private-use sentinels while the text is built, so control characters
# coming from the change (a PR title with escape codes) can be stripped before colour goes in.
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARK = re.compile(f"{_OPEN}(\\w*){_CLOSE}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def paint(text: str, style: str) -> str:
    return f"{_OPEN}{style}{_CLOSE}{text}{_OPEN}{_CLOSE}" if style in _STYLES else text


def _finish(text: str, color: bool) -> str:
    text = _CONTROL.sub("", text)
    if not color:
        return _MARK.sub("", text)
    return _MARK.sub(lambda m: _STYLES.get(m.group(1), _RESET), text)


def render_terminal(report: Report, color: bool = False) -> str:
    """The whole report as text for a terminal, sections in reading order."""
    blocks = [
        _header(report),
        _policy_errors(report),
        _risk(report),
        _compliance(report),
        _approvals(report),
        _findings(report),
        _notes(report),
    ]
    return _finish("\n\n".join(b for b in blocks if b), color) + "\n"


def _header(report: Report) -> str:
    target = f"{report.repository} #{report.number}" if report.number else report.repository
    title = f' "{report.title}"' if report.title else ""
    conclusion = report.conclusion
    lines = [
        paint(f"gitops-health: {target}{title}", "bold"),
        f"head {short(report.head_sha) or '-'}  base {short(report.base_sha) or '-'}"
        f"  policy sha256:{report.policy_digest[:12] or '-'}",
        "conclusion: " + paint(conclusion.upper(), _CONCLUSION_STYLE[conclusion]),
    ]
    return "\n".join(lines)


def _policy_errors(report: Report) -> str:
    if not report.policy_errors:
        return ""
    lines = [paint("Policy file errors", "bold")]
    lines += [f"  {paint('error', 'red')}  {e}" for e in report.policy_errors]
    return "\n".join(lines)


def _risk(report: Report) -> str:
    lines = [paint("Risk", "bold") + f"  {risk_headline(report)}"]
    if report.risk is not None:
        lines += [f"  {f.points:+6.1f}  {f.description}" for f in report.risk.factors]
        if report.risk.missing:
            lines.append(paint(f"  not available: {', '.join(report.risk.missing)}", "dim"))
    return "\n".join(lines)


def _compliance(report: Report) -> str:
    if not report.controls:
        return paint("Compliance", "bold") + "  no packs (add `extends:` to the policy)"
    lines = [paint("Compliance", "bold") + f"  {verdict_counts(report.controls)}"]
    framework_width = max(len(c.framework) for c in report.controls)
    control_width = max(len(c.control) for c in report.controls)
    for control in report.controls:
        label = VERDICT_LABELS[control.verdict].ljust(7)
        lines.append(
            f"  {control.framework.ljust(framework_width)}  {control.control.ljust(control_width)}"
            f"  {paint(label, _VERDICT_STYLE[control.verdict])}  {control.title}: {control.reason}"
        )
        if control.verdict in (Verdict.FAIL, Verdict.PENDING):
            indent = " " * (framework_width + control_width + 6)
            lines += [paint(f"{indent}- {evidence_text(e)}", "dim") for e in control.evidence]
    return "\n".join(lines)


def _approvals(report: Report) -> str:
    lines = [paint("Approvals", "bold") + f"  {approval_headline(report)}"]
    lines += _rule_lines(report.approval, "approved by")
    if report.disapproval is not None:
        lines.append(paint("Disapproval", "bold"))
        lines += _rule_lines(report.disapproval, "blocked by")
    return "\n".join(lines)


def _rule_lines(rule: RuleResult | None, counted_as: str) -> list[str]:
    """`counted_as` names what the people in `approvers` did: approved, or blocked."""
    lines = []
    for depth, node in rule_rows(rule):
        indent = "  " * (depth + 1)
        state = paint(node.state.value, _STATE_STYLE[node.state])
        lines.append(f"{indent}[{state}] {node.name}: {node.description}")
        if node.approvers:
            lines.append(f"{indent}    {counted_as}: {', '.join(node.approvers)}")
        if node.candidates and node.state is not RuleState.APPROVED:
            lines.append(f"{indent}    can approve: {', '.join(node.candidates)}")
        if node.request:
            lines.append(f"{indent}    review requested from: {', '.join(node.request)}")
    return lines


def _findings(report: Report) -> str:
    if not report.findings:
        return paint("Findings", "bold") + "  none"
    lines = [paint("Findings", "bold") + f"  {len(report.findings)}"]
    for finding in report.findings:
        severity = paint(finding.severity.ljust(7), _SEVERITY_STYLE.get(finding.severity, ""))
        lines.append(
            f"  {severity}  {finding.kind}  {finding_location(finding)}  "
            f"{finding_text(finding)}  [{finding.rule}]"
        )
    return "\n".join(lines)


def _notes(report: Report) -> str:
    if not report.notes:
        return ""
    return "\n".join([paint("Notes", "bold"), *(f"  - {n}" for n in report.notes)])
