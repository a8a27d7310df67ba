"""The sticky pull-request comment: GitHub-flavoured Markdown, one table per section.

The comment starts with `COMMENT_MARKER` so the bot can find and edit its own comment. Every
text that comes from the change (titles, reasons, messages) is escaped, so a PR title cannot
open HTML, fake the marker or break a table. PHI findings show their type and place only.
Reviewers are written as code (`alice`), which GitHub does not turn into a notification.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gitops_health.rules.render.text import (
    VERDICT_LABELS,
    approval_headline,
    evidence_text,
    finding_location,
    finding_text,
    risk_headline,
    rule_rows,
    severity_counts,
    short,
    verdict_counts,
)
from gitops_health.rules.report import Report, RuleResult, RuleState, Verdict

COMMENT_MARKER = "<!-- gitops-health:report -->"
GITHUB_COMMENT_LIMIT = 65_535  # characters in an issue comment or check-run summary

_VERDICT_ICONS = {
    Verdict.PASS: "✅",
    Verdict.FAIL: "❌",
    Verdict.PENDING: "⏳",
    Verdict.NOT_APPLICABLE: "➖",
}
_STATE_ICONS = {
    RuleState.APPROVED: "✅",
    RuleState.PENDING: "⏳",
    RuleState.SKIPPED: "➖",
    RuleState.ERROR: "⚠️",
    RuleState.DISAPPROVED: "❌",
}
_CONCLUSION_ICONS = {"success": "✅", "failure": "❌", "pending": "⏳"}
_DETAILS_OPEN, _DETAILS_CLOSE = "<details>", "</details>"


def escape(text: str) -> str:
    """Text safe inside a table cell or a line: no HTML, no cell breaks, one line."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("|", "\\|").replace("`", "&#96;")
    return " ".join(text.split())


def code(text: str) -> str:
    """Inline code; `|` stays escaped because GitHub splits table cells inside code too."""
    return "`" + text.replace("`", "").replace("|", "\\|") + "`"


def people(names: Iterable[str]) -> str:
    return ", ".join(code(n) for n in names) or "-"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def details(summary: str, body: str) -> str:
    return f"{_DETAILS_OPEN}<summary>{summary}</summary>\n\n{body}\n\n{_DETAILS_CLOSE}"


def render_markdown(
    report: Report, details_url: str | None = None, max_chars: int = GITHUB_COMMENT_LIMIT
) -> str:
    """The PR comment for `report`, cut to `max_chars` with a pointer to the full report."""
    blocks = [
        COMMENT_MARKER,
        _summary(report),
        _policy_errors(report),
        _approvals(report),
        _compliance(report),
        _risk(report),
        _notes(report),
        _findings(report),
        _footer(report, details_url),
    ]
    text = "\n\n".join(b for b in blocks if b) + "\n"
    return text if len(text) <= max_chars else truncate(text, max_chars, details_url)


def _summary(report: Report) -> str:
    conclusion = report.conclusion
    target = f" #{report.number}" if report.number else ""
    heading = f"### {_CONCLUSION_ICONS[conclusion]} gitops-health{target}: {conclusion}"
    row = [
        escape(risk_headline(report)),
        verdict_counts(report.controls),
        approval_headline(report),
        str(len(report.findings)),
    ]
    return heading + "\n\n" + table(["Risk", "Compliance", "Approvals", "Findings"], [row])


def _policy_errors(report: Report) -> str:
    if not report.policy_errors:
        return ""
    lines = ["#### ⚠️ Policy file errors", ""]
    lines += [f"- {escape(e)}" for e in report.policy_errors]
    lines.append("\nThe rules of the base branch were used for this report.")
    return "\n".join(lines)


def _approvals(report: Report) -> str:
    if report.approval is None and report.disapproval is None:
        return ""
    parts = ["#### Approvals"]
    rules = [*rule_rows(report.approval), *rule_rows(report.disapproval)]
    rows = [_rule_row(depth, rule) for depth, rule in rules]
    parts.append(table(["Rule", "State", "Why", "Who can approve"], rows))
    requested = sorted({name for _, rule in rules for name in rule.request})
    if requested:
        parts.append(f"Review requested from {people(requested)}.")
    return "\n\n".join(parts)


def _rule_row(depth: int, rule: RuleResult) -> list[str]:
    name = ("↳ " * min(depth, 1)) + ("&nbsp;&nbsp;" * max(depth - 1, 0)) + escape(rule.name)
    state = f"{_STATE_ICONS[rule.state]} {rule.state.value}"
    if rule.state is RuleState.APPROVED and rule.approvers:
        who = f"approved by {people(rule.approvers)}"
    elif rule.state is RuleState.DISAPPROVED and rule.approvers:
        who = f"blocked by {people(rule.approvers)}"
    else:
        who = people(rule.candidates)
    return [name, state, escape(rule.description), who]


def _compliance(report: Report) -> str:
    if not report.controls:
        return ""
    rows = [
        [
            escape(c.framework),
            f"{escape(c.control)} {escape(c.title)}",
            f"{_VERDICT_ICONS[c.verdict]} {VERDICT_LABELS[c.verdict]}",
            escape(c.reason),
        ]
        for c in report.controls
    ]
    parts = ["#### Compliance", table(["Framework", "Control", "Verdict", "Reason"], rows)]
    evidence = [
        f"- **{escape(c.framework)} {escape(c.control)}** ({escape(c.citation)}): "
        f"{escape(evidence_text(e))}"
        for c in report.controls
        for e in c.evidence
    ]
    if evidence:
        parts.append(details(f"Evidence ({len(evidence)})", "\n".join(evidence)))
    return "\n\n".join(parts)


def _risk(report: Report) -> str:
    risk = report.risk
    if risk is None:
        return ""
    parts = [
        "#### Risk",
        f"**{risk.score}/100 ({risk.level.value})**, "
        f"recommended rollout: **{escape(risk.rollout)}**",
    ]
    if risk.factors:
        rows = [[f"{f.points:+.1f}", escape(f.description)] for f in risk.factors]
        parts.append(table(["Points", "Factor"], rows))
    if risk.missing:
        parts.append(f"_Not available: {escape(', '.join(risk.missing))}._")
    return "\n\n".join(parts)


def _notes(report: Report) -> str:
    if not report.notes:
        return ""
    return "#### Notes\n\n" + "\n".join(f"- {escape(n)}" for n in report.notes)


def _findings(report: Report) -> str:
    if not report.findings:
        return ""
    rows = [
        [
            escape(f.severity),
            escape(f.kind),
            code(finding_location(f)),
            escape(finding_text(f)),
            escape(f.rule),
        ]
        for f in report.findings
    ]
    summary = f"{len(report.findings)} findings ({severity_counts(report.findings)})"
    body = table(["Severity", "Kind", "Location", "Finding", "Rule"], rows)
    return "#### Findings\n\n" + details(summary, body)


def _footer(report: Report, details_url: str | None) -> str:
    parts = [f"head {code(short(report.head_sha) or '-')}"]
    if report.policy_digest:
        parts.append(f"policy {code('sha256:' + report.policy_digest[:12])}")
    if details_url:
        parts.append(f"[full report]({details_url})")
    return "<sub>" + " · ".join(parts) + "</sub>"


def _truncation_notice(details_url: str | None) -> str:
    where = (
        f"[the full report]({details_url})"
        if details_url
        else "the full report with `gitops-health simulate`"
    )
    return f"\n\n> ✂️ Cut to fit the comment size limit: see {where}.\n"


def truncate(text: str, max_chars: int, details_url: str | None = None) -> str:
    """`text` cut at a line end, open `<details>` closed, and a pointer to the full report."""
    notice = _truncation_notice(details_url)
    budget = max_chars - len(notice)
    while budget > 0:
        cut = text.rfind("\n", 0, budget)
        kept = text[: max(cut, 0)]
        unclosed = kept.count(_DETAILS_OPEN) - kept.count(_DETAILS_CLOSE)
        result = kept + f"\n\n{_DETAILS_CLOSE}" * unclosed + notice
        if len(result) <= max_chars:
            return result
        budget = min(budget - 1, cut) if cut > 0 else 0
    return (COMMENT_MARKER + notice)[:max_chars]
