"""PCI DSS v4.0 pack: independent review before release and no card numbers."""

from __future__ import annotations

import pytest
from compliance_builders import ALICE, BOB, OLD, approval, good_change, source_file
from compliance_builders import verdict as _verdict

from gitops_health.rules.change import CheckStatus
from gitops_health.rules.checks import has_card_number
from gitops_health.rules.report import ControlVerdict, Finding, Verdict


def verdict(control: str, findings: tuple[Finding, ...] = (), **changes: object) -> ControlVerdict:
    return _verdict(f"pci-dss.{control}", good_change(**changes), findings)


def test_review_before_release_needs_a_current_independent_approval() -> None:
    assert verdict("6.2.3").verdict is Verdict.PASS
    assert verdict("6.2.3", reviews=(approval(BOB, OLD),)).verdict is Verdict.PENDING
    assert verdict("6.2.3", reviews=()).verdict is Verdict.PENDING


def test_reviewer_other_than_the_author() -> None:
    assert verdict("6.2.3.1").verdict is Verdict.PASS
    result = verdict("6.2.3.1", reviews=(approval(ALICE),))
    assert result.verdict is Verdict.PENDING
    assert "only contributors" in result.reason


def test_change_control_procedure() -> None:
    assert verdict("6.5.1").verdict is Verdict.PASS
    assert verdict("6.5.1", description="").verdict is Verdict.FAIL
    red = (CheckStatus("ci", "failure"),)
    assert verdict("6.5.1", checks=red).verdict is Verdict.FAIL
    assert verdict("6.5.1", reviews=()).verdict is Verdict.PENDING


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('card = "4539 5787 6362 1486"', True),
        ("amex=371449635398432;", False),  # Luhn fails
        ("PAN 5425-2334-3010-9903", True),
        ("test card 4111111111111111", False),  # published test number
        ("sha 4539578763621486abc", False),  # glued to letters: an id, not a PAN
        ("ts = 1700000000000000", False),  # no issuer prefix
    ],
)
def test_card_number_detection(text: str, found: bool) -> None:
    assert has_card_number(text) is found


def test_no_card_numbers_fails_with_location_but_no_digits() -> None:
    files = (source_file("fixtures/orders.json", '{"id": 1}', '{"pan": "4539578763621486"}'),)
    result = verdict("6.5.5", files=files)
    assert result.verdict is Verdict.FAIL
    assert result.reason == "card number on 1 added line (fixtures/orders.json:2)"
    assert "4539" not in repr(result)


def test_card_numbers_from_the_phi_engine_count_and_are_deduplicated() -> None:
    files = (source_file("a.py", "x = 1", "pan = '4539578763621486'"),)
    same = Finding(kind="phi", rule="card-or-account", message="", path="a.py", line=2,
                   entity_type="ACCOUNT_NUMBER")  # fmt: skip
    other = Finding(kind="phi", rule="card-or-account", message="", path="b.py", line=9,
                    entity_type="ACCOUNT_NUMBER")  # fmt: skip
    plain_account = Finding(kind="phi", rule="account-number", message="", path="c.py", line=1,
                            entity_type="ACCOUNT_NUMBER")  # fmt: skip
    result = verdict("6.5.5", (same, other, plain_account), files=files)
    assert result.verdict is Verdict.FAIL
    assert [(e.path, e.line) for e in result.evidence] == [("a.py", 2), ("b.py", 9)]


def test_no_card_numbers_passes_and_is_na_without_files() -> None:
    assert verdict("6.5.5").verdict is Verdict.PASS
    assert verdict("6.5.5", files=()).verdict is Verdict.NOT_APPLICABLE
