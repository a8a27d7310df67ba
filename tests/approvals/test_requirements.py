"""Requirements, options, states, reviewer requests, and/or nesting and disapproval."""

from __future__ import annotations

from approvals_support import (
    AUTHOR,
    HEAD,
    OLD,
    TeamDirectory,
    approve,
    commit,
    make_change,
    rule_policy,
    run,
)

from gitops_health.rules.change import Identity, Review, ReviewState
from gitops_health.rules.report import RuleResult, RuleState

DIRECTORY = TeamDirectory(
    teams={"acme/security": ["sam", "sue"], "acme/infra": ["ivan"]},
    permissions={"mia": "maintain", "wes": "write", "ray": "read", "dana": "admin"},
)
CODEOWNERS = "* @acme/security\n/infra/ @acme/infra ops@example.com\n/docs/ @wes\n"


def one_rule(rule_yaml: str, *reviews: object, **change_fields: object) -> RuleResult:
    change = make_change(reviews=reviews, codeowners=CODEOWNERS, **change_fields)  # type: ignore[arg-type]
    approval, _ = run(rule_policy(rule_yaml), change, DIRECTORY)
    assert approval is not None
    return approval.children[0]


def test_users_count() -> None:
    rule = "requires: {count: 2, users: [alice, bob, carol]}"
    pending = one_rule(rule, approve("alice"))
    assert pending.state is RuleState.PENDING
    assert pending.description == "needs 1 more approval from alice, bob, carol"
    assert pending.approvers == ("alice",)
    assert pending.candidates == ("bob", "carol")
    done = one_rule(rule, approve("alice"), approve("carol"))
    assert done.state is RuleState.APPROVED
    assert done.description == "approved by alice, carol"


def test_approvals_of_people_not_listed_do_not_count() -> None:
    assert one_rule("requires: {users: [alice]}", approve("mallory")).state is RuleState.PENDING


def test_a_display_name_is_not_an_identity() -> None:
    spoof = Review(Identity(login="mallory", name="alice"), ReviewState.APPROVED, commit_sha=HEAD)
    assert one_rule("requires: {users: [alice]}", spoof).state is RuleState.PENDING


def test_teams_are_resolved_through_the_directory() -> None:
    rule = "requires: {teams: [acme/security]}"
    pending = one_rule(rule)
    assert pending.candidates == ("sam", "sue")
    assert "team acme/security" in pending.description
    assert one_rule(rule, approve("sue")).state is RuleState.APPROVED


def test_unknown_team_members_are_named_by_the_team() -> None:
    pending = one_rule("requires: {teams: [acme/ghosts]}")
    assert pending.candidates == ("team:acme/ghosts",)


def test_permission_level_is_a_minimum() -> None:
    rule = "requires: {permission: write}"
    assert one_rule(rule, approve("mia")).state is RuleState.APPROVED  # maintain >= write
    assert one_rule(rule, approve("ray")).state is RuleState.PENDING  # read < write
    pending = one_rule(rule)
    assert set(pending.candidates) == {"mia", "wes"}  # dana is the author
    assert "anyone with write permission or higher" in pending.description


def test_no_approvers_listed_means_anyone_with_write() -> None:
    assert one_rule("requires: {count: 1}", approve("wes")).state is RuleState.APPROVED
    assert one_rule("requires: {count: 1}", approve("ray")).state is RuleState.PENDING


def test_codeowners_any_lets_owners_count() -> None:
    rule = "requires: {count: 1, codeowners: any}"
    result = one_rule(rule, approve("ivan"), paths=["infra/main.tf"])
    assert result.state is RuleState.APPROVED
    pending = one_rule(rule, paths=["infra/main.tf"])
    assert set(pending.candidates) == {"ivan", "ops@example.com"}


def test_codeowners_each_needs_an_owner_of_every_owned_file() -> None:
    rule = "requires: {count: 0, codeowners: each}"
    paths = ["infra/main.tf", "docs/guide.md", "src/app.py"]
    pending = one_rule(rule, approve("ivan"), paths=paths)
    assert pending.state is RuleState.PENDING
    assert "owner of docs/guide.md (wes)" in pending.description
    assert "owner of src/app.py (acme/security)" in pending.description
    assert "infra/main.tf" not in pending.description
    covered = one_rule(rule, approve("wes"), approve("sam"), paths=["docs/guide.md", "src/a.py"])
    assert covered.state is RuleState.APPROVED
    by_email = Review(Identity(email="ops@example.com"), ReviewState.APPROVED, commit_sha=HEAD)
    assert one_rule(rule, by_email, paths=["infra/x.tf"]).state is RuleState.APPROVED


def test_author_approval_does_not_count_unless_allowed() -> None:
    rule = "requires: {users: [dana, alice]}"
    refused = one_rule(rule, approve("dana"))
    assert refused.state is RuleState.PENDING
    assert "dana's approval does not count (is the author)" in refused.description
    assert refused.candidates == ("alice",)
    allowed = one_rule(rule + "\noptions: {allow_author: true}", approve("dana"))
    assert allowed.state is RuleState.APPROVED


def test_contributors_approvals_need_allow_contributor() -> None:
    olga = Identity(name="Olga", email="olga@example.com", login="olga")
    commits = [commit(who=AUTHOR), commit(who=olga)]
    rule = "requires: {users: [olga, pat]}"
    refused = one_rule(rule, approve("olga"), commits=commits)
    assert "(contributed commits)" in refused.description
    allowed = one_rule(rule + "\noptions: {allow_contributor: true}", approve("olga"),
                       commits=commits)  # fmt: skip
    assert allowed.state is RuleState.APPROVED


def test_stale_approvals_do_not_count_by_default() -> None:
    rule = "requires: {users: [alice]}"
    stale = one_rule(rule, approve("alice", OLD))
    assert stale.state is RuleState.PENDING
    assert "alice's approval was given on deadbe0, before the latest push (c0ffee0)" in (
        stale.description
    )
    kept = one_rule(rule + "\noptions: {invalidate_on_push: false}", approve("alice", OLD))
    assert kept.state is RuleState.APPROVED
    assert one_rule(rule, approve("alice", HEAD[:12])).state is RuleState.APPROVED
    assert one_rule(rule, approve("alice", "")).state is RuleState.APPROVED  # forge gave no sha


def test_the_latest_review_of_each_reviewer_decides() -> None:
    rule = "requires: {users: [alice]}"
    revoked = one_rule(
        rule, approve("alice"), approve("alice", state=ReviewState.CHANGES_REQUESTED)
    )
    assert revoked.state is RuleState.PENDING
    commented = one_rule(rule, approve("alice"), approve("alice", state=ReviewState.COMMENTED))
    assert commented.state is RuleState.APPROVED


def test_no_approval_required() -> None:
    result = one_rule("requires: {count: 0}")
    assert (result.state, result.description) == (RuleState.APPROVED, "no approval required")


def test_rule_description_prefixes_the_sentence() -> None:
    result = one_rule("description: Security sign-off\nrequires: {users: [sam]}")
    assert result.description == "Security sign-off: needs 1 more approval from sam"


def test_impossible_user_list_is_an_error() -> None:
    result = one_rule("requires: {count: 2, users: [dana, alice]}")  # dana is the author
    assert result.state is RuleState.ERROR
    assert "can never be approved" in result.description


def test_directory_failure_is_an_error_state() -> None:
    class Broken(TeamDirectory):
        def team_members(self, team: str) -> frozenset[str]:
            raise ConnectionError("GitHub API unreachable")

    change = make_change(reviews=[approve("sam", state=ReviewState.CHANGES_REQUESTED)])
    policy = rule_policy("requires: {teams: [acme/security]}")
    policy += "  disapproval: {requires: {teams: [acme/security]}}\n"
    approval, disapproval = run(policy, change, Broken())
    assert approval is not None and disapproval is not None
    assert approval.state is RuleState.ERROR
    assert "ConnectionError: GitHub API unreachable" in approval.children[0].description
    assert disapproval.state is RuleState.ERROR


# --- reviewer requests -------------------------------------------------------------------------


def test_random_users_are_stable_and_count_the_missing_approvals() -> None:
    rule = "requires: {count: 2, users: [a1, a2, a3, a4, a5]}"
    first = one_rule(rule)
    assert len(first.request) == 2
    assert set(first.request) <= {"a1", "a2", "a3", "a4", "a5"}
    assert one_rule(rule, head_sha="f" * 40).request == first.request  # stable across pushes
    one_left = one_rule(rule, approve("a1"))
    assert len(one_left.request) == 1 and "a1" not in one_left.request


def test_never_request_someone_who_already_reviewed() -> None:
    rule = "requires: {count: 2, users: [a1, a2, a3]}\noptions: {request_review: {mode: all-users}}"
    result = one_rule(rule, approve("a1", OLD), approve("a2", state=ReviewState.COMMENTED))
    assert result.request == ("a3",)


def test_no_requests_on_drafts_or_when_disabled() -> None:
    rule = "requires: {users: [alice]}"
    assert one_rule(rule, draft=True).request == ()
    assert one_rule(rule + "\noptions: {request_review: {enabled: false}}").request == ()
    assert one_rule(rule).request == ("alice",)


def test_teams_mode_requests_teams() -> None:
    rule = "requires: {teams: [acme/security]}\noptions: {request_review: {mode: teams}}"
    assert one_rule(rule).request == ("team:acme/security",)


def test_request_includes_an_owner_of_each_unapproved_file() -> None:
    rule = "requires: {count: 1, users: [zed], codeowners: each}"
    result = one_rule(rule, paths=["docs/guide.md"])
    assert "wes" in result.request
    assert set(result.request) <= {"zed", "wes"}


# --- and/or ----------------------------------------------------------------------------------

RULES = """\
  rules:
    - name: sec
      if: {changed_files: {paths: ["infra/**"]}}
      requires: {users: [sam]}
    - name: lead
      requires: {users: [lee]}
    - name: pair
      requires: {count: 2, users: [ann, ben, cat]}
    - name: docs
      if: {only_changed_files: {paths: ["docs/**"]}}
      requires: {count: 0}
"""


def tree(policy: str, *reviews: object, paths: tuple[str, ...] = ("infra/a.tf",)) -> RuleResult:
    text = f"approvals:\n  policy: {policy}\n{RULES}"
    approval, _ = run(text, make_change(paths, reviews=reviews))  # type: ignore[arg-type]
    assert approval is not None
    return approval


def test_or_is_approved_by_any_branch() -> None:
    result = tree("[{or: [sec, pair]}]", approve("sam"))
    assert result.state is RuleState.APPROVED
    group = result.children[0]
    assert group.name == "any of: sec, pair"
    assert group.description == "approved through sec"


def test_and_waits_for_every_branch_and_collects_candidates() -> None:
    result = tree("[sec, lead]", approve("sam"))
    assert result.state is RuleState.PENDING
    assert result.description == "waiting for lead"
    assert result.candidates == ("lee",)
    assert result.approvers == ("sam",)


def test_an_approved_group_requests_nobody() -> None:
    result = tree("[{or: [sec, pair]}]", approve("sam"))
    pair = result.children[0].children[1]
    assert pair.state is RuleState.PENDING
    assert pair.candidates and pair.request == ()
    assert result.request == ()


def test_nested_groups() -> None:
    policy = "[{or: [{and: [sec, lead]}, pair]}]"
    assert tree(policy, approve("sam"), approve("lee")).state is RuleState.APPROVED
    assert tree(policy, approve("ann"), approve("cat")).state is RuleState.APPROVED
    pending = tree(policy, approve("sam"), approve("ann"))
    assert pending.state is RuleState.PENDING
    assert pending.children[0].description.startswith("waiting for one of:")


def test_skipped_rules_drop_out() -> None:
    # docs-only rule is skipped on infra changes; sec is skipped on docs changes
    assert tree("[{or: [docs, lead]}]").state is RuleState.PENDING
    assert tree("[sec, docs]", paths=("docs/a.md",)).state is RuleState.APPROVED
    result = tree("[sec, lead]", approve("lee"), paths=("src/a.py",))
    assert result.state is RuleState.APPROVED
    assert result.children[0].state is RuleState.SKIPPED


def test_all_rules_skipped_is_an_error() -> None:
    result = tree("[sec, docs]", paths=("src/a.py",))
    assert result.state is RuleState.ERROR
    assert "every rule was skipped" in result.description


def test_no_rules_no_approval_result() -> None:
    assert run("approvals: {}\n", make_change()) == (None, None)


# --- disapproval -------------------------------------------------------------------------------


def blocked(policy: str, *reviews: object, **fields: object) -> RuleResult | None:
    _, disapproval = run(policy, make_change(reviews=reviews, **fields), DIRECTORY)  # type: ignore[arg-type]
    return disapproval


DISAPPROVAL = "approvals:\n  disapproval:\n    requires: {teams: [acme/security]}\n"


def test_changes_requested_by_a_listed_person_blocks() -> None:
    result = blocked(DISAPPROVAL, approve("sue", state=ReviewState.CHANGES_REQUESTED))
    assert result is not None and result.state is RuleState.DISAPPROVED
    assert result.approvers == ("sue",)
    assert "changes requested by sue" in result.description


def test_changes_requested_by_others_or_revoked_do_not_block() -> None:
    outsider = blocked(DISAPPROVAL, approve("ray", state=ReviewState.CHANGES_REQUESTED))
    assert outsider is not None and outsider.state is RuleState.APPROVED
    revoked = blocked(
        DISAPPROVAL, approve("sue", state=ReviewState.CHANGES_REQUESTED), approve("sue")
    )
    assert revoked is not None and revoked.state is RuleState.APPROVED


def test_disapproval_if_and_off_without_requires() -> None:
    conditional = DISAPPROVAL + '    if: {changed_files: {paths: ["infra/**"]}}\n'
    assert blocked(conditional).state is RuleState.SKIPPED  # type: ignore[union-attr]
    assert blocked("approvals:\n  disapproval: {}\n") is None
