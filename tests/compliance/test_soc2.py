"""SOC 2 CC8.1 pack: authorised, tested, approved, documented."""

from __future__ import annotations

from compliance_builders import BOB, OLD, approval, good_change, signed_commit, source_file
from compliance_builders import verdict as _verdict

from gitops_health.rules.change import CheckStatus
from gitops_health.rules.report import ControlVerdict, Verdict


def verdict(control: str, **changes: object) -> ControlVerdict:
    return _verdict(f"soc2.CC8.1-{control}", good_change(**changes))


def test_authorised_by_a_referenced_ticket() -> None:
    assert verdict("authorised").verdict is Verdict.PASS
    assert verdict("authorised", title="no ticket").verdict is Verdict.FAIL


def test_tested_passes_when_tests_change_with_code() -> None:
    result = verdict("tested", checks=())
    assert result.verdict is Verdict.PASS
    assert result.reason == "1 test file changed with 1 code file"
    assert result.evidence[0].path == "tests/test_app.py"


def test_tested_passes_on_green_ci_without_test_changes() -> None:
    result = verdict("tested", files=(source_file(),))
    assert result.verdict is Verdict.PASS
    assert result.reason == "CI passed on the head (1 check)"


def test_tested_fails_on_red_ci_even_with_test_changes() -> None:
    result = verdict("tested", checks=(CheckStatus("build", "error"),))
    assert result.verdict is Verdict.FAIL


def test_tested_fails_without_tests_and_without_ci() -> None:
    result = verdict("tested", files=(source_file(),), checks=())
    assert result.verdict is Verdict.FAIL
    assert result.evidence[0].path == "src/app.py"


def test_tested_pending_while_ci_runs_and_no_test_changed() -> None:
    result = verdict("tested", files=(source_file(),), checks=(CheckStatus("ci", "pending"),))
    assert result.verdict is Verdict.PENDING


def test_tested_not_applicable_for_documentation_only() -> None:
    docs = (source_file("README.md", "# hi"), source_file("docs/guide.rst", "x"))
    assert verdict("tested", files=docs, checks=()).verdict is Verdict.NOT_APPLICABLE


def test_approved_needs_an_independent_approval_on_the_head() -> None:
    assert verdict("approved").verdict is Verdict.PASS
    assert verdict("approved", reviews=()).verdict is Verdict.PENDING
    assert verdict("approved", reviews=(approval(BOB, OLD),)).verdict is Verdict.PENDING


def test_documented_needs_description_and_ticket() -> None:
    assert verdict("documented").verdict is Verdict.PASS
    assert verdict("documented", description="  ").verdict is Verdict.FAIL
    assert verdict("documented", title="untracked").verdict is Verdict.FAIL


def test_documented_locally_by_commit_bodies() -> None:
    body = signed_commit(message="feat: PROJ-3 add x\n\nBecause y needs it.")
    local = verdict("documented", forge="local", number=None, description="", commits=(body,))
    assert local.verdict is Verdict.PASS
