"""Pack loading, validation and how a control's checks combine into one verdict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from compliance_builders import ALL_PACKS, good_change, verdicts

from gitops_health.rules.compliance import (
    Pack,
    UnknownPack,
    all_control_keys,
    evaluate_controls,
    load_pack,
)
from gitops_health.rules.config.compliance import known_packs
from gitops_health.rules.config.policy import Policy, parse_policy
from gitops_health.rules.config.schema import ConfigInvalid, load_section
from gitops_health.rules.report import Verdict

ROOT = Path(__file__).resolve().parents[2]


def test_every_pack_loads_with_controls_that_name_known_checks() -> None:
    assert set(known_packs()) == set(ALL_PACKS)
    for name in ALL_PACKS:
        pack = load_pack(name)
        assert pack.name == name
        assert pack.controls
        for control in pack.controls:
            assert control.id and control.title and control.citation and control.checks


def test_minimum_controls_of_the_issue_are_present() -> None:
    assert {
        "hipaa.164.312(b)", "hipaa.164.312(c)(1)", "hipaa.164.312(d)", "hipaa.164.312(e)(1)",
        "hipaa.164.514", "sox.segregation-of-duties", "sox.current-approval", "sox.ticket",
        "sox.ci", "soc2.CC8.1-authorised", "soc2.CC8.1-tested", "soc2.CC8.1-approved",
        "soc2.CC8.1-documented", "pci-dss.6.2.3", "pci-dss.6.2.3.1", "pci-dss.6.5.5",
        "part11.11.10(e)", "part11.11.50", "part11.11.70",
    } <= all_control_keys()  # fmt: skip


def test_a_good_change_passes_every_control() -> None:
    results = verdicts(good_change()).items()
    assert {key: v.reason for key, v in results if v.verdict is not Verdict.PASS} == {}


def test_verdicts_follow_extends_order_and_carry_pack_metadata() -> None:
    controls = evaluate_controls(good_change(), parse_policy("extends: [sox, hipaa]"), (), None)
    assert [c.framework for c in controls] == ["sox"] * 4 + ["hipaa"] * 5
    integrity = next(c for c in controls if c.control == "164.312(c)(1)")
    assert integrity.title == "Integrity"
    assert integrity.citation == "45 CFR §164.312(c)(1)"


def test_no_packs_no_verdicts() -> None:
    assert evaluate_controls(good_change(), Policy(), (), None) == ()


def test_unknown_pack_is_a_clear_error_naming_the_known_ones() -> None:
    with pytest.raises(UnknownPack, match=r"'hipa'.*known packs: hipaa, part11, pci-dss"):
        evaluate_controls(good_change(), Policy(extends=("hipa",)), (), None)


def test_unknown_pack_is_rejected_when_the_policy_is_loaded() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_policy("risk: {}\nextends: [sox, pci]\n")
    (error,) = caught.value.errors
    assert error.line == 2 and error.path == "extends"
    assert "unknown compliance pack(s) pci (known packs: hipaa, part11, pci-dss" in error.message


def test_disabled_control_is_reported_not_applicable_with_the_reason() -> None:
    disabled = "compliance:\n  disabled_controls: [sox.ticket]"
    result = verdicts(good_change(title="no ticket"), policy_text=disabled)
    assert result["sox.ticket"].verdict is Verdict.NOT_APPLICABLE
    assert "compliance.disabled_controls" in result["sox.ticket"].reason
    assert result["soc2.CC8.1-authorised"].verdict is Verdict.FAIL  # same check, not disabled


def test_unknown_disabled_control_is_rejected_at_load_time() -> None:
    with pytest.raises(ConfigInvalid, match=r"yml:2: .*unknown control\(s\) sox.tickets"):
        parse_policy("compliance:\n  disabled_controls: [sox.tickets]\n")


def test_worst_check_decides_and_gives_the_reason() -> None:
    # soc2 CC8.1-documented = description_present (fails here) + ticket_referenced (passes)
    result = verdicts(good_change(description=""))["soc2.CC8.1-documented"]
    assert result.verdict is Verdict.FAIL
    assert result.reason == "the change has no description: say what changes and why"
    assert result.evidence == ()


def test_malformed_pack_yaml_reports_path_and_line() -> None:
    text = "name: x\ntitle: X\ncontrols:\n  - id: a\n    title: A\n    citation: c\n"
    text += "    checks: [nope]\n"
    with pytest.raises(ConfigInvalid) as caught:
        load_section(Pack, text, "x.yaml")
    (error,) = caught.value.errors
    assert error.line == 7 and error.path == "controls[0].checks"
    assert "unknown check(s) nope" in error.message


def test_readme_lists_every_control() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section:compliance -->", 1)[1].split("<!-- section:", 1)[0]
    for key in sorted(all_control_keys()):
        control = key.split(".", 1)[1]
        assert re.search(rf"`{re.escape(control)}`", section), f"README misses {key}"
