"""FDA 21 CFR Part 11 pack: audit trail and signatures linked to records."""

from __future__ import annotations

from dataclasses import replace

from compliance_builders import BOB, HEAD, OLD, approval, good_change, signed_commit
from compliance_builders import verdict as _verdict

from gitops_health.rules.change import Identity, Review, ReviewState
from gitops_health.rules.report import ControlVerdict, Verdict


def verdict(control: str, **changes: object) -> ControlVerdict:
    return _verdict(f"part11.{control}", good_change(**changes))


def test_audit_trail_passes_with_attributed_commits_recorded_by_the_bot() -> None:
    result = verdict("11.10(e)")
    assert result.verdict is Verdict.PASS
    assert "every commit names its author and committer (1 commit)" in result.reason
    assert "audit trail" in result.reason


def test_audit_trail_fails_for_an_anonymous_commit() -> None:
    anonymous = replace(signed_commit(), author=Identity(), committer=Identity())
    result = verdict("11.10(e)", commits=(anonymous,))
    assert result.verdict is Verdict.FAIL
    assert result.evidence[0].commit == HEAD


def test_audit_trail_locally_rests_on_the_commits() -> None:
    assert verdict("11.10(e)", forge="local", number=None).verdict is Verdict.PASS
    none = verdict("11.10(e)", forge="local", number=None, commits=())
    assert none.verdict is Verdict.NOT_APPLICABLE


def test_signature_manifestation_names_reviewer_commit_and_time() -> None:
    result = verdict("11.50")
    assert result.verdict is Verdict.PASS
    assert result.evidence[0].text == "approved by bob at 2026-11-02T12:00:00+00:00"
    assert (result.evidence[0].review, result.evidence[0].commit) == ("bob", HEAD)


def test_signature_manifestation_fails_for_an_unnamed_reviewer() -> None:
    anonymous = Review(Identity(), ReviewState.APPROVED, HEAD)
    result = verdict("11.50", reviews=(anonymous,))
    assert result.verdict is Verdict.FAIL
    assert result.reason == "1 approval without the reviewer's identity"


def test_signature_manifestation_pending_without_approval() -> None:
    assert verdict("11.50", reviews=()).verdict is Verdict.PENDING


def test_signature_record_linking() -> None:
    assert verdict("11.70").verdict is Verdict.PASS
    unsigned = verdict("11.70", commits=(signed_commit(status="N"),))
    assert unsigned.verdict is Verdict.FAIL
    stale = verdict("11.70", reviews=(approval(BOB, OLD),))
    assert stale.verdict is Verdict.PENDING
    only_approval = verdict("11.70", commits=())  # nothing signed to link: the approval decides
    assert only_approval.verdict is Verdict.PASS
