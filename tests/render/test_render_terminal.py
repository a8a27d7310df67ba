"""Terminal renderer: sections in order, no colour unless asked, PHI by type only."""

from __future__ import annotations

import re
from dataclasses import replace

from render_builders import SSN, full_report

from gitops_health.rules.render import render_terminal
from gitops_health.rules.report import Report

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_plain_output_has_every_section_in_order_and_no_escape_codes() -> None:
    text = render_terminal(full_report())
    assert not ANSI.search(text)
    headings = [line for line in text.splitlines() if line and not line.startswith(" ")]
    assert [h.split()[0] for h in headings[3:]] == [
        "Policy", "Risk", "Compliance", "Approvals", "Disapproval", "Findings", "Notes",
    ]  # fmt: skip
    assert headings[0].startswith('gitops-health: acme/app #42 "PROJ-7')
    assert headings[2] == "conclusion: FAILURE"


def test_rows_read_like_a_report() -> None:
    lines = render_terminal(full_report()).splitlines()
    assert "Risk  72/100 high, rollout: canary" in lines
    assert "   +18.5  +420 lines across 14 files in 5 directories" in lines
    assert "Compliance  2 fail, 1 pending, 1 pass, 1 n/a" in lines
    row = re.compile(r"  hipaa +164\.312\(c\)\(1\) +fail +Integrity: commit abc is not signed")
    assert any(row.fullmatch(line) for line in lines)
    assert any(x.strip() == "- approved bbbb (commit bbbbbbbbbbbb, review by bob)" for x in lines)
    assert "    [pending] security team: needs 1 approval from security" in lines
    assert "        can approve: carol, dave" in lines
    assert "  error    phi  data/p.csv:3  US_SSN (value withheld)  [UsSsnRecognizer]" in lines


def test_phi_values_are_never_printed() -> None:
    assert SSN not in render_terminal(full_report())


def test_colour_marks_verdicts_when_asked() -> None:
    text = render_terminal(full_report(), color=True)
    assert "\x1b[31mfail" in text and "\x1b[33mpending" in text and "\x1b[32mpass" in text
    assert ANSI.sub("", text) == render_terminal(full_report())


def test_an_empty_report_renders() -> None:
    text = render_terminal(Report(repository="/tmp/r", forge="local", head_sha=""))
    assert "conclusion: SUCCESS" in text
    assert "Risk  not assessed" in text
    assert "Compliance  no packs (add `extends:` to the policy)" in text
    assert "Findings  none" in text


def test_escape_codes_from_the_change_are_stripped() -> None:
    hostile = replace(full_report(), title="fix \x1b[2J\x1b]0;pwned\x07 \ue000red\ue001x")
    for color in (False, True):
        header = render_terminal(hostile, color=color).splitlines()[0]
        assert "\x1b[2J" not in header and "\x07" not in header
