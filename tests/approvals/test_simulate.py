"""`gitops-health simulate` (main()) and the end-to-end path: real repo → build_change →
rules.engine.evaluate → report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from approvals_support import git

from gitops_health.hooks.git_change import build_change
from gitops_health.hooks.simulate import main
from gitops_health.rules.change import Identity, Review, ReviewState
from gitops_health.rules.config.policy import parse_policy
from gitops_health.rules.engine import evaluate
from gitops_health.rules.report import RuleState, Verdict

POLICY = """\
extends: [sox]
signing: {required: false}
approvals:
  policy:
    - or: [infra, two-reviewers]
  rules:
    - name: infra
      if: {changed_files: {paths: ["infra/**"]}}
      requires: {users: [sam]}
    - name: two-reviewers
      requires: {count: 2}
"""


@pytest.fixture
def pr_repo(repo: Path) -> Path:
    """main holds the policy; branch `feature/ABC-12` changes infra/."""
    (repo / ".gitops-health.yml").write_text(POLICY)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "chore: add the policy")
    git(repo, "switch", "-q", "-c", "feature/ABC-12")
    (repo / "infra").mkdir()
    (repo / "infra" / "bucket.tf").write_text('resource "bucket" "logs" {}\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feat(infra): add the logs bucket", "-m", "Refs ABC-12")
    return repo


def run_json(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["--repo", str(repo), "--base", "main", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_end_to_end_engine_report(pr_repo: Path) -> None:
    change = build_change(pr_repo, "main", "HEAD")
    policy = parse_policy(POLICY)
    head = change.head_sha
    sam = Review(Identity(login="sam"), ReviewState.APPROVED, commit_sha=head)

    waiting = evaluate(change, policy)
    assert waiting.approval is not None and waiting.approval.state is RuleState.PENDING
    assert waiting.approval.children[0].description == "waiting for one of: infra, two-reviewers"
    assert "sam" in waiting.approval.candidates

    approved = evaluate(change.with_reviews(sam), policy)
    assert approved.approval is not None and approved.approval.state is RuleState.APPROVED
    assert approved.approval.approvers == ("sam",)
    verdicts = {c.control: c.verdict for c in approved.controls if c.framework == "sox"}
    assert verdicts["segregation-of-duties"] is Verdict.PASS
    assert verdicts["ticket"] is Verdict.PASS
    assert approved.risk is not None and approved.risk.factors
    assert approved.policy_digest == policy.digest

    stale = evaluate(change.with_reviews(sam), policy)  # same head: still fine
    assert stale.approval == approved.approval
    (pr_repo / "infra" / "bucket.tf").write_text('resource "bucket" "logs" { acl = "public" }\n')
    git(pr_repo, "commit", "-q", "-am", "fix(infra): tighten ABC-12")
    pushed = build_change(pr_repo, "main", "HEAD").with_reviews(sam)
    after_push = evaluate(pushed, policy)
    assert after_push.approval is not None and after_push.approval.state is RuleState.PENDING
    infra = after_push.approval.children[0].children[0]
    assert f"given on {head[:7]}, before the latest push" in infra.description


def test_simulate_approvals_from_the_command_line(
    pr_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_json(pr_repo, capsys)
    assert code == 1
    assert report["approval"]["state"] == "pending"  # type: ignore[index]
    code, report = run_json(pr_repo, capsys, "--approve", "sam")
    assert report["approval"]["state"] == "approved"  # type: ignore[index]
    code, report = run_json(pr_repo, capsys, "--approve", "alice@example.com,bob")
    assert report["approval"]["state"] == "pending"  # type: ignore[index]
    # alice is the author (her e-mail): her approval does not count toward two-reviewers
    assert "is the author" in json.dumps(report["approval"])


def test_simulate_disapproval(
    pr_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "block.yml"
    policy.write_text(
        "approvals:\n  rules: [{name: any, requires: {count: 1}}]\n"
        "  disapproval: {requires: {users: [sec]}}\n"
    )
    args = ("--policy", str(policy), "--approve", "zoe", "--request-changes", "sec")
    code, report = run_json(pr_repo, capsys, *args)
    assert code == 1
    assert report["disapproval"]["state"] == "disapproved"  # type: ignore[index]


def test_simulate_terminal_output_and_pr_fields(
    pr_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--repo", str(pr_repo), "--title", "Logs bucket", "--label", "infra", "--no-color"])
    out = capsys.readouterr().out
    assert "gitops-health: " in out and '"Logs bucket"' in out
    assert "\033[" not in out
    assert "infra" in out and "waiting for" in out


def test_simulate_uses_the_base_policy_and_reports_the_changed_one(
    pr_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pr_repo / ".gitops-health.yml").write_text("approvals:\n  rules: []\n  nonsense: 1\n")
    git(pr_repo, "commit", "-q", "-am", "chore: loosen the policy ABC-12")
    code, report = run_json(pr_repo, capsys, "--approve", "sam")
    assert report["approval"]["state"] == "approved"  # type: ignore[index]  # base rules
    (error,) = report["policy_errors"]  # type: ignore[misc]
    assert "HEAD:.gitops-health.yml: line 3: approvals.nonsense: unknown key" in error
    assert code == 1


def test_simulate_with_policy_and_admin_policy_files(
    pr_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = tmp_path / "local.yml"
    local.write_text("approvals:\n  rules: [{name: any, requires: {count: 1}}]\n")
    code, report = run_json(pr_repo, capsys, "--policy", str(local), "--approve", "zoe")
    assert (code, report["approval"]["state"]) == (0, "approved")  # type: ignore[index]
    admin = tmp_path / "admin.yml"
    admin.write_text(
        "policy:\n  approvals:\n    rules: [{name: lead, requires: {users: [lee]}}]\n"
        "allowed_overrides: [approvals.rules]\n"
    )
    args = ("--policy", str(local), "--admin-policy", str(admin), "--approve", "zoe")
    code, report = run_json(pr_repo, capsys, *args)
    assert report["approval"]["state"] == "pending"  # type: ignore[index]
    admin.write_text("allowed_overrides: []\n")
    assert main(["--repo", str(pr_repo), *args]) == 2
    assert f"{local}:2: approvals.rules: not allowed by the admin" in capsys.readouterr().err


def test_simulate_bad_input_exits_2(
    pr_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--repo", str(pr_repo), "--base", "no-such-branch"]) == 2
    assert "unknown revision 'no-such-branch'" in capsys.readouterr().err
    broken = tmp_path / "broken.yml"
    broken.write_text("approvals:\n  rules: [{count: 1}]\n")
    assert main(["--repo", str(pr_repo), "--policy", str(broken)]) == 2
    assert "missing required key 'name'" in capsys.readouterr().err
    assert main(["--repo", str(tmp_path)]) == 2
    assert "not inside a git repository" in capsys.readouterr().err
