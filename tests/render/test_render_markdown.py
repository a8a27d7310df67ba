"""The sticky PR comment: marker, one table per section, escaping, PHI, truncation."""

from __future__ import annotations

import re

from render_builders import SSN, full_report, many_findings_report

from gitops_health.rules.render import COMMENT_MARKER, GITHUB_COMMENT_LIMIT, render_markdown
from gitops_health.rules.report import Report

URL = "https://bot.acme.io/details/acme/app/42"


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^#### (.+)$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def table_count(text: str) -> int:
    return len(re.findall(r"^\|(---\|)+$", text, flags=re.MULTILINE))


def test_marker_first_and_hidden() -> None:
    text = render_markdown(full_report(), URL)
    assert text.startswith(COMMENT_MARKER + "\n")
    assert COMMENT_MARKER == "<!-- gitops-health:report -->"
    assert text.count(COMMENT_MARKER) == 1  # the title's copy of the marker is escaped


def test_one_table_per_section() -> None:
    text = render_markdown(full_report(), URL)
    found = sections(text)
    assert list(found) == [
        "⚠️ Policy file errors", "Approvals", "Compliance", "Risk", "Notes", "Findings",
    ]  # fmt: skip
    for name in ("Approvals", "Compliance", "Risk", "Findings"):
        assert table_count(found[name]) == 1, name
    summary = text.split("#### ", 1)[0]
    assert "### ❌ gitops-health #42: failure" in summary
    row = "| 72/100 high, rollout: canary | 2 fail, 1 pending, 1 pass, 1 n/a | pending | 3 |"
    assert row in summary


def test_details_are_collapsible_and_balanced() -> None:
    text = render_markdown(full_report(), URL)
    assert text.count("<details>") == text.count("</details>") == 2
    assert "<summary>Evidence (3)</summary>" in text
    assert "<summary>3 findings (2 error, 1 warning)</summary>" in text


def test_rows_and_people() -> None:
    found = sections(render_markdown(full_report(), URL))
    rule = "| ↳ security team | ⏳ pending | needs 1 approval from security | `carol`, `dave` |"
    assert rule in found["Approvals"]
    assert "| ↳ two reviewers | ✅ approved | approved by bob | approved by `bob` |" in (
        found["Approvals"]
    )
    assert "Review requested from `carol`." in found["Approvals"]
    assert "| hipaa | 164.312(c)(1) Integrity | ❌ fail | commit abc is not signed |" in (
        found["Compliance"]
    )
    evidence = "approved bbbb (commit bbbbbbbbbbbb, review by bob)"
    assert f"- **sox current-approval** (SOX §404): {evidence}" in found["Compliance"]
    assert "| +18.5 | +420 lines across 14 files in 5 directories |" in found["Risk"]
    assert "| error | phi | `data/p.csv:3` | US_SSN (value withheld) | UsSsnRecognizer |" in (
        found["Findings"]
    )


def test_untrusted_text_is_escaped() -> None:
    text = render_markdown(full_report(), URL)
    assert "<b>" not in text
    assert "`src/a b.py:9`" in text
    assert "touches &#96;infra/&#96; (sensitive path)" in text


def test_phi_values_never_appear() -> None:
    assert SSN not in render_markdown(full_report(), URL)


def test_footer_links_the_details_page() -> None:
    text = render_markdown(full_report(), URL)
    assert text.rstrip().endswith(f"[full report]({URL})</sub>")
    assert "`a1b2c3d4e5f6`" in text


def test_long_reports_are_cut_to_the_limit_with_a_pointer() -> None:
    report = many_findings_report(2000)
    text = render_markdown(report, URL)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert text.startswith(COMMENT_MARKER)
    assert f"see [the full report]({URL})" in text
    assert text.count("<details>") == text.count("</details>")
    assert "#### Compliance" in text  # the important sections come before the findings


def test_small_limits_hold_and_without_url_point_to_simulate() -> None:
    whole = len(render_markdown(full_report(), None))
    for limit in (400, 1000, whole - 1):
        text = render_markdown(full_report(), None, max_chars=limit)
        assert len(text) <= limit
        assert "gitops-health simulate" in text
        assert text.count("<details>") == text.count("</details>")
        assert text.startswith(COMMENT_MARKER)


def test_a_report_that_fits_is_not_cut() -> None:
    text = render_markdown(full_report(), URL)
    assert len(text) < GITHUB_COMMENT_LIMIT
    assert "Cut to fit" not in text


def test_an_empty_report_is_short() -> None:
    text = render_markdown(Report(repository="acme/app", forge="github", head_sha="abc"))
    assert "### ✅ gitops-health: success" in text
    assert list(sections(text)) == []
