"""Every `if` predicate, on hand-built Changes: when it holds and why it does not."""

from __future__ import annotations

from dataclasses import replace

import pytest
from approvals_support import AUTHOR, TeamDirectory, commit, make_change, rule_policy, run

from gitops_health.rules.change import Change, CheckStatus, FileChange, FileStatus, Identity
from gitops_health.rules.report import (
    ControlVerdict,
    Finding,
    Level,
    RiskResult,
    RuleResult,
    RuleState,
    Verdict,
)

OTHER = Identity(name="Olga", email="olga@example.com", login="olga")
TEAMS = TeamDirectory(teams={"acme/devs": ["dana"], "acme/ops": ["olga"]})


def rule(condition: str, change: Change, **context: object) -> RuleResult:
    """The result of rule `r` applying `condition` and needing no approval."""
    policy = rule_policy(f"if: {condition}\nrequires: {{count: 0}}")
    approval, _ = run(policy, change, TEAMS, **context)  # type: ignore[arg-type]
    assert approval is not None
    return approval.children[0]


def applies(condition: str, change: Change, **context: object) -> bool:
    result = rule(condition, change, **context)
    assert result.state in (RuleState.APPROVED, RuleState.SKIPPED), result
    return result.state is RuleState.APPROVED


def test_changed_files_with_ignore_and_renames() -> None:
    cond = '{changed_files: {paths: ["infra/**"], ignore: ["infra/docs/**"]}}'
    assert applies(cond, make_change(["infra/main.tf"]))
    assert not applies(cond, make_change(["infra/docs/readme.md", "src/app.py"]))
    moved = FileChange("attic/main.tf", FileStatus.RENAMED, previous_path="infra/main.tf")
    assert applies(cond, make_change(files=(moved,)))
    skipped = rule(cond, make_change(["src/app.py"]))
    assert skipped.description == "skipped: no changed file matches infra/**"


def test_no_changed_files() -> None:
    cond = '{no_changed_files: {paths: ["*.lock"]}}'
    assert applies(cond, make_change(["src/app.py"]))
    assert not applies(cond, make_change(["poetry.lock"]))


def test_only_changed_files() -> None:
    cond = '{only_changed_files: {paths: ["docs/**", "*.md"]}}'
    assert applies(cond, make_change(["docs/a.rst", "README.md"]))
    assert not applies(cond, make_change(["docs/a.rst", "src/app.py"]))
    assert not applies(cond, make_change([]))
    moved_in = FileChange("docs/app.py", FileStatus.RENAMED, previous_path="src/app.py")
    assert not applies(cond, make_change(files=(moved_in,)))  # code moved out of src/


def test_has_author_in_users_and_teams() -> None:
    assert applies("{has_author_in: {users: [DANA]}}", make_change())
    assert applies("{has_author_in: {teams: [acme/devs]}}", make_change())
    assert applies("{has_author_in: {users: [dana@example.com]}}", make_change())
    assert not applies("{has_author_in: {teams: [acme/ops]}}", make_change())


def test_contributor_predicates() -> None:
    shared = make_change(commits=[commit(who=AUTHOR), commit(who=OTHER)])
    alone = make_change()
    assert applies("{has_contributor_in: {teams: [acme/ops]}}", shared)
    assert not applies("{has_contributor_in: {teams: [acme/ops]}}", alone)
    assert applies("{only_has_contributors_in: {users: [dana, olga]}}", shared)
    assert not applies("{only_has_contributors_in: {users: [dana]}}", shared)
    assert applies("{author_is_only_contributor: true}", alone)
    assert not applies("{author_is_only_contributor: true}", shared)
    assert applies("{author_is_only_contributor: false}", shared)


def test_target_and_source_branch_regexes() -> None:
    change = make_change(base_ref="release/1.2", head_ref="hotfix/crash")
    assert applies('{targets_branch: "^release/"}', change)
    assert not applies('{targets_branch: "^main$"}', change)
    assert applies('{from_branch: "^hotfix/"}', change)
    assert not applies('{from_branch: "^feature/"}', change)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('{additions: "> 100"}', True),
        ('{additions: "<= 100"}', False),
        ('{deletions: "= 20"}', True),
        ('{total: ">= 220", additions: "< 300"}', True),
        ('{total: "< 50"}', False),
    ],
)
def test_modified_lines(condition: str, expected: bool) -> None:
    change = make_change(["a.py", "b.py"], additions=100, deletions=10)  # 200 added, 20 deleted
    assert applies(f"{{modified_lines: {condition}}}", change) is expected


def test_has_labels_needs_all() -> None:
    change = make_change(labels=("Hotfix", "security"))
    assert applies("{has_labels: [hotfix, security]}", change)
    assert not applies("{has_labels: [hotfix, urgent]}", change)


def test_title_matches_and_not_matches() -> None:
    change = make_change(title="fix(api): guard nulls [WIP]")
    assert applies('{title: {matches: ["^fix"]}}', change)
    assert not applies('{title: {matches: ["^feat"]}}', change)
    assert not applies('{title: {not_matches: ["\\\\[WIP\\\\]"]}}', change)
    assert applies('{title: {matches: ["^fix"], not_matches: ["^chore"]}}', change)


def test_has_valid_signatures() -> None:
    good = make_change(commits=[commit(status="G"), commit(status="G")])
    bad = make_change(commits=[commit(status="G"), commit(status="N")])
    assert applies("{has_valid_signatures: true}", good)
    assert not applies("{has_valid_signatures: true}", bad)
    assert applies("{has_valid_signatures: false}", bad)
    forge_verified = make_change(commits=[replace(c := commit(status="E"), signature=replace(
        c.signature, verified_by_forge=True))])  # fmt: skip
    assert applies("{has_valid_signatures: true}", forge_verified)


def test_unknown_validity_counts_only_when_the_signing_policy_accepts_it() -> None:
    change = make_change(commits=[commit(status="U")])
    strict = rule_policy("if: {has_valid_signatures: true}\nrequires: {count: 0}")
    lenient = "signing: {accept_unknown_validity: true}\n" + strict
    assert run(strict, change)[0].children[0].state is RuleState.SKIPPED  # type: ignore[union-attr]
    assert run(lenient, change)[0].children[0].state is RuleState.APPROVED  # type: ignore[union-attr]


def test_has_valid_signatures_by_people_and_keys() -> None:
    change = make_change(commits=[commit(status="G", key="SHA256:abcDEF")])
    assert applies("{has_valid_signatures_by: {teams: [acme/devs]}}", change)
    assert not applies("{has_valid_signatures_by: {users: [olga]}}", change)
    assert applies('{has_valid_signatures_by_keys: ["sha256:abcdef"]}', change)
    assert not applies('{has_valid_signatures_by_keys: ["0123ABCD"]}', change)
    unsigned = make_change(commits=[commit(status="N", key="")])
    assert not applies("{has_valid_signatures_by: {users: [dana]}}", unsigned)


def risk(level: Level) -> RiskResult:
    return RiskResult(score=50, level=level, probability=0.5)


def test_risk_level_is_at_least() -> None:
    change = make_change()
    assert applies("{risk_level: high}", change, risk=risk(Level.HIGH))
    assert applies("{risk_level: high}", change, risk=risk(Level.CRITICAL))
    assert not applies("{risk_level: high}", change, risk=risk(Level.MEDIUM))
    assert rule("{risk_level: low}", change).description == "skipped: the risk was not assessed"


def control(framework: str, control_id: str, verdict: Verdict) -> ControlVerdict:
    return ControlVerdict(framework, control_id, "t", "c", verdict, "r")


def test_compliance_failing_selects_frameworks_and_controls() -> None:
    controls = (
        control("sox", "ticket", Verdict.FAIL),
        control("hipaa", "164.312(b)", Verdict.PASS),
    )
    change = make_change()
    assert applies("{compliance_failing: {}}", change, controls=controls)
    assert applies("{compliance_failing: {frameworks: [sox]}}", change, controls=controls)
    assert applies("{compliance_failing: {controls: [sox.ticket]}}", change, controls=controls)
    assert not applies("{compliance_failing: {frameworks: [hipaa]}}", change, controls=controls)
    assert not applies("{compliance_failing: {}}", change, controls=controls[1:])


def test_has_phi() -> None:
    phi = (Finding(kind="phi", rule="US_SSN", message="US_SSN in added line", path="a.py"),)
    other = (Finding(kind="commit-message", rule="type-enum", message="bad type"),)
    change = make_change()
    assert applies("{has_phi: true}", change, findings=phi)
    assert not applies("{has_phi: true}", change, findings=other)
    assert applies("{has_phi: false}", change, findings=other)


def test_every_condition_must_hold() -> None:
    cond = '{changed_files: {paths: ["src/**"]}, has_labels: [hotfix]}'
    assert not applies(cond, make_change(["src/app.py"]))
    assert applies(cond, make_change(["src/app.py"], labels=("hotfix",)))


def test_has_successful_status() -> None:
    checks = (CheckStatus("ci/build", "success"), CheckStatus("lint", "failure"))
    change = make_change(checks=checks)
    assert applies("{has_successful_status: [ci/build]}", change)
    assert not applies("{has_successful_status: [ci/build, lint]}", change)
    result = rule("{has_successful_status: [deploy]}", change)
    assert result.description == "skipped: check deploy is not reported, not success"
