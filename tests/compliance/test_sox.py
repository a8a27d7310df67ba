"""SOX ITGC change-management pack: every control, every verdict it can reach."""

from __future__ import annotations

from compliance_builders import ALICE, BOB, CAROL, HEAD, OLD, approval, good_change, signed_commit
from compliance_builders import verdict as _verdict

from gitops_health.rules.change import CheckStatus, Review, ReviewState
from gitops_health.rules.report import ControlVerdict, Verdict


def verdict(control: str, **changes: object) -> ControlVerdict:
    return _verdict(f"sox.{control}", good_change(**changes))


# --- segregation of duties --------------------------------------------------------------------


def test_segregation_passes_with_an_approval_by_someone_else() -> None:
    result = verdict("segregation-of-duties")
    assert result.verdict is Verdict.PASS
    assert result.reason == "approved by bob, who did not author the change"
    assert (result.evidence[0].review, result.evidence[0].commit) == ("bob", HEAD)


def test_segregation_pending_without_approval() -> None:
    result = verdict("segregation-of-duties", reviews=())
    assert result.verdict is Verdict.PENDING
    assert "waiting for an approval from someone other than the author" in result.reason


def test_self_approval_does_not_count() -> None:
    result = verdict("segregation-of-duties", reviews=(approval(ALICE),))
    assert result.verdict is Verdict.PENDING
    assert "only contributors to the change approved it (alice)" in result.reason


def test_approval_by_a_co_author_of_a_commit_does_not_count() -> None:
    commits = (signed_commit(), signed_commit("c" * 40, who=BOB))
    assert verdict("segregation-of-duties", commits=commits).verdict is Verdict.PENDING


def test_a_later_change_request_cancels_the_approval_but_a_comment_does_not() -> None:
    at_13 = approval(hour=13).submitted_at
    later = (approval(hour=12), Review(BOB, ReviewState.CHANGES_REQUESTED, HEAD, at_13))
    assert verdict("segregation-of-duties", reviews=later).verdict is Verdict.PENDING
    comment = Review(BOB, ReviewState.COMMENTED, HEAD, approval(hour=14).submitted_at)
    again = (*later, approval(hour=15), comment)
    assert verdict("segregation-of-duties", reviews=again).verdict is Verdict.PASS


# --- approval on the current head -------------------------------------------------------------


def test_current_approval_passes_when_given_on_the_head() -> None:
    result = verdict("current-approval")
    assert result.verdict is Verdict.PASS
    assert result.reason == f"approved on the current head {HEAD[:12]}"


def test_stale_approval_is_pending_with_the_old_commit_as_evidence() -> None:
    result = verdict("current-approval", reviews=(approval(BOB, OLD),))
    assert result.verdict is Verdict.PENDING
    assert "predates the current head" in result.reason
    assert result.evidence[0].commit == OLD


def test_short_head_sha_counts_and_an_unnamed_commit_is_taken_as_the_head() -> None:
    short = verdict("current-approval", reviews=(approval(BOB, HEAD[:12]),))  # Bitbucket Cloud
    assert short.verdict is Verdict.PASS
    unnamed = verdict("current-approval", reviews=(approval(BOB, ""),))
    assert unnamed.verdict is Verdict.PASS
    assert "forge did not name the commit" in unnamed.evidence[0].text


def test_one_current_independent_approval_is_enough() -> None:
    reviews = (approval(BOB, OLD), approval(CAROL, HEAD))
    assert verdict("current-approval", reviews=reviews).verdict is Verdict.PASS


def test_current_approval_pending_without_independent_approval() -> None:
    assert verdict("current-approval", reviews=(approval(ALICE),)).verdict is Verdict.PENDING


# --- change ticket ----------------------------------------------------------------------------


def test_ticket_found_in_the_title() -> None:
    result = verdict("ticket")
    assert result.verdict is Verdict.PASS
    assert result.reason == "change ticket PROJ-12 referenced in the title"


def test_ticket_found_in_a_commit_message_with_the_commit_as_evidence() -> None:
    commits = (signed_commit(message="fix: handle null\n\nRefs: OPS-991"),)
    result = verdict("ticket", title="fix null", commits=commits)
    assert result.verdict is Verdict.PASS
    assert result.evidence[0].commit == HEAD


def test_ticket_missing_fails_and_names_the_pattern() -> None:
    result = verdict("ticket", title="add x")
    assert result.verdict is Verdict.FAIL
    assert r"[A-Z][A-Z0-9]+-\d+" in result.reason


def test_ticket_pattern_comes_from_the_policy() -> None:
    change = good_change(title="add x (#4711)")
    hash_ticket = "compliance:\n  ticket_pattern: '#\\d+'"
    assert _verdict("sox.ticket", change, policy_text=hash_ticket).verdict is Verdict.PASS


# --- CI ---------------------------------------------------------------------------------------


def test_ci_green_passes() -> None:
    assert verdict("ci").verdict is Verdict.PASS


def test_ci_failure_fails_with_the_check_named() -> None:
    checks = (CheckStatus("ci/test", "success"), CheckStatus("ci/lint", "failure"))
    result = verdict("ci", checks=checks)
    assert result.verdict is Verdict.FAIL
    assert result.reason == "CI failed on the head: ci/lint (failure)"


def test_ci_running_is_pending() -> None:
    result = verdict("ci", checks=(CheckStatus("ci/test", "pending"),))
    assert result.verdict is Verdict.PENDING


def test_ci_unknown_is_not_applicable() -> None:
    assert verdict("ci", checks=()).verdict is Verdict.NOT_APPLICABLE
