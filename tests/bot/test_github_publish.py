"""Publishing through the real PyGithub against the local GitHub: what requests the bot makes."""

from __future__ import annotations

import threading
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
from github_fake import INSTALLATION_TOKEN, FakeGitHub, PullData, commit_entry, file_entry

from gitops_health.bot.db import make_engine, upgrade
from gitops_health.bot.forges.base import PullRequestRef
from gitops_health.bot.forges.github import GitHubForge
from gitops_health.bot.settings import Settings
from gitops_health.bot.store import Store
from gitops_health.rules.diff import added_lines
from gitops_health.rules.render import COMMENT_MARKER
from gitops_health.rules.report import (
    Finding,
    Level,
    Report,
    RiskResult,
    RuleResult,
    RuleState,
)

REF = PullRequestRef("github", "Codertocat", "Hello-World", 7, installation_id=42)
DETAILS = "https://bot.example.test/pr/github/Codertocat/Hello-World/7?t=x"


@pytest.fixture
def forge(bot_env: dict[str, str], tmp_path: Path) -> GitHubForge:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    return GitHubForge(Settings.from_env(bot_env), Store(engine))


@pytest.fixture
def pull(fake_github: FakeGitHub) -> PullData:
    return fake_github.add_pull(
        PullData(
            7,
            head_sha="c" * 40,
            base_sha="b" * 40,
            author="alice",
            files=[file_entry("app.py", ["print('hi')"])],
            commits=[commit_entry("c" * 40, "feat: greet")],
            reviews=[
                {
                    "id": 1,
                    "user": {"login": "bob"},
                    "state": "COMMENTED",
                    "body": "",
                    "commit_id": "c" * 40,
                    "submitted_at": "2026-01-01T00:00:00Z",
                }
            ],
        )
    )


def report(findings: int = 0, level: Level = Level.MEDIUM, **changes: object) -> Report:
    risk = RiskResult(score=42, level=level, probability=0.42)
    found = tuple(
        Finding(
            kind="phi",
            rule="US_SSN",
            message="US_SSN found (value not shown)",
            path=f"f{i}.txt",
            line=i + 1,
        )
        for i in range(findings)
    )
    fields: dict[str, object] = {
        "repository": "Codertocat/Hello-World",
        "forge": "github",
        "head_sha": "c" * 40,
        "number": 7,
        "risk": risk,
        "findings": found,
    }
    fields.update(changes)
    return Report(**fields)  # type: ignore[arg-type]


def test_comment_created_once_then_edited(
    forge: GitHubForge, fake_github: FakeGitHub, pull: PullData
) -> None:
    forge.publish(REF, report(), DETAILS)
    forge.publish(REF, report(level=Level.HIGH), DETAILS)
    assert len(fake_github.calls("POST", r"/issues/7/comments$")) == 1
    assert len(fake_github.calls("PATCH", r"/issues/comments/\d+$")) == 1
    (comment,) = fake_github.comments.values()
    assert COMMENT_MARKER in comment["body"]
    # App auth: JWT for the installation token, then the token on every call
    token_call = fake_github.calls("POST", r"/app/installations/42/access_tokens")[0]
    assert token_call.headers["authorization"].startswith("Bearer ")
    assert fake_github.calls("PATCH")[0].headers["authorization"] == f"token {INSTALLATION_TOKEN}"


def test_lost_comment_id_is_found_by_marker_and_login(
    forge: GitHubForge, fake_github: FakeGitHub, pull: PullData, tmp_path: Path
) -> None:
    fake_github.comments[5] = {"issue": 7, "body": f"{COMMENT_MARKER}\nold", "user": "mallory"}
    fake_github.comments[6] = {
        "issue": 7,
        "body": f"{COMMENT_MARKER}\nold",
        "user": fake_github.bot_login,
    }
    forge.publish(REF, report(), DETAILS)
    assert not fake_github.calls("POST", r"/issues/7/comments$")
    assert [c.path for c in fake_github.calls("PATCH")] == [
        "/repos/Codertocat/Hello-World/issues/comments/6"
    ]
    assert fake_github.comments[5]["body"].endswith("old")  # someone else's: untouched


def test_check_run_annotations_batched_by_50(
    forge: GitHubForge, fake_github: FakeGitHub, pull: PullData
) -> None:
    forge.publish(REF, report(findings=120), DETAILS)
    (create,) = fake_github.calls("POST", r"/check-runs$")
    edits = fake_github.calls("PATCH", r"/check-runs/\d+$")
    sizes = [len(call.body["output"]["annotations"]) for call in [create, *edits]]
    assert sizes == [50, 50, 20]
    assert create.body["name"] == "gitops-health"
    assert create.body["details_url"] == DETAILS
    assert create.body["conclusion"] == "success"
    assert create.body["output"]["annotations"][0] == {
        "path": "f0.txt",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "failure",
        "title": "US_SSN",
        "message": "US_SSN found (value not shown)",
    }


def test_check_summary_truncated_under_the_limit(
    forge: GitHubForge, fake_github: FakeGitHub, pull: PullData
) -> None:
    notes = tuple(f"note {i} " + "x" * 200 for i in range(600))
    forge.publish(REF, report(notes=notes), DETAILS)
    (create,) = fake_github.calls("POST", r"/check-runs$")
    summary = create.body["output"]["summary"]
    assert len(summary) < 65_535
    assert DETAILS in summary[-400:]
    (comment,) = fake_github.comments.values()
    assert len(comment["body"]) < 65_535


def test_risk_label_replaces_the_previous_one(
    forge: GitHubForge, fake_github: FakeGitHub, pull: PullData
) -> None:
    pull.labels = ["risk:low", "area:api"]
    forge.snapshot(REF)
    forge.publish(REF, report(level=Level.HIGH), DETAILS)
    assert [c.path for c in fake_github.calls("DELETE")] == [
        "/repos/Codertocat/Hello-World/issues/7/labels/risk:low"
    ]
    assert fake_github.calls("POST", r"/labels$")[0].body == ["risk:high"]
    assert pull.labels == ["area:api", "risk:high"]
    forge.snapshot(REF)
    forge.publish(REF, report(level=Level.HIGH), DETAILS)
    assert len(fake_github.calls("POST", r"/labels$")) == 1  # already right: no write


def pending(*request: str) -> RuleResult:
    child = RuleResult("security review", RuleState.PENDING, "needs 1 of security", request=request)
    done = RuleResult("docs", RuleState.APPROVED, "ok", request=("zed",))
    return RuleResult("policy", RuleState.PENDING, "all of", children=(child, done))


def test_review_requests_skip_author_reviewers_and_already_requested(
    forge: GitHubForge, fake_github: FakeGitHub, pull: PullData
) -> None:
    pull.requested_reviewers = ["carol"]
    forge.snapshot(REF)
    forge.publish(
        REF, report(approval=pending("alice", "bob", "carol", "dave", "team:acme/sec")), DETAILS
    )
    (call,) = fake_github.calls("POST", r"/requested_reviewers$")
    assert call.body == {"reviewers": ["dave"], "team_reviewers": ["sec"]}


def test_no_review_requests_on_drafts(
    forge: GitHubForge, fake_github: FakeGitHub, pull: PullData
) -> None:
    pull.draft = True
    forge.snapshot(REF)
    forge.publish(REF, report(approval=pending("dave")), DETAILS)
    assert not fake_github.calls("POST", r"/requested_reviewers$")


def test_token_mode_reports_a_commit_status(
    bot_env: dict[str, str], tmp_path: Path, fake_github: FakeGitHub, pull: PullData
) -> None:
    env = {k: v for k, v in bot_env.items() if "APP_ID" not in k and "PRIVATE_KEY" not in k}
    env["GITOPS_HEALTH_GITHUB_TOKEN"] = "ghp_plaintoken"
    engine = make_engine(f"sqlite:///{tmp_path / 'token.db'}")
    upgrade(engine)
    forge = GitHubForge(Settings.from_env(env), Store(engine))
    forge.publish(REF, report(approval=pending("dave")), DETAILS)
    assert not fake_github.calls("POST", r"/check-runs$")
    (status,) = fake_github.statuses
    assert (status["state"], status["context"], status["target_url"]) == (
        "pending",
        "gitops-health",
        DETAILS,
    )
    assert fake_github.calls("POST")[0].headers["authorization"] == "token ghp_plaintoken"
    forge.publish_error(REF, "", "the forge API answered HTTP 502")
    assert fake_github.statuses[-1]["state"] == "error"
    assert fake_github.statuses[-1]["sha"] == "c" * 40


def test_publish_error_in_app_mode_is_a_failed_check(
    forge: GitHubForge, fake_github: FakeGitHub, pull: PullData
) -> None:
    forge.publish_error(REF, "c" * 40, "the forge API answered HTTP 502 (GithubException)")
    (call,) = fake_github.calls("POST", r"/check-runs$")
    assert call.body["conclusion"] == "failure"
    assert "HTTP 502" in call.body["output"]["summary"]


def test_secondary_rate_limit_and_5xx_are_retried(
    forge: GitHubForge, fake_github: FakeGitHub, pull: PullData
) -> None:
    fake_github.fail("GET", r"/pulls/7$", 403, **{"Retry-After": "1"})
    fake_github.fail("GET", r"/pulls/7/files$", 502)
    fake_github.fail("PATCH", r"/issues/comments/", 503)
    snapshot = forge.snapshot(REF)
    assert snapshot.change.paths == ("app.py",)
    assert len(fake_github.calls("GET", r"/pulls/7$")) == 2
    forge.publish(REF, report(), DETAILS)
    forge.publish(REF, report(), DETAILS)
    assert len(fake_github.calls("PATCH", r"/issues/comments/")) == 2  # 503 retried


def test_failed_comment_post_is_not_repeated(
    forge: GitHubForge, fake_github: FakeGitHub, pull: PullData
) -> None:
    from github import GithubException

    fake_github.fail("POST", r"/issues/7/comments$", 502)
    with pytest.raises(GithubException):
        forge.publish(REF, report(), DETAILS)
    assert len(fake_github.calls("POST", r"/issues/7/comments$")) == 1


def test_added_lines_are_numbered_in_the_new_file() -> None:
    patch = "@@ -1,3 +1,4 @@\n keep\n-gone\n+new one\n+new two\n keep\n\\ No newline at end of file"
    assert [(a.number, a.text) for a in added_lines(patch)] == [(2, "new one"), (3, "new two")]
    assert added_lines(None) == ()


def test_writes_of_one_installation_are_spaced_across_threads(
    bot_env: dict[str, str], tmp_path: Path, fake_github: FakeGitHub, pull: PullData
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'paced.db'}")
    upgrade(engine)
    paced = Settings.from_env({**bot_env, "GITOPS_HEALTH_GITHUB_SECONDS_BETWEEN_WRITES": "0.1"})
    forge = GitHubForge(paced, Store(engine))
    other = PullRequestRef("github", "Codertocat", "Hello-World", 8, installation_id=42)
    fake_github.add_pull(replace(pull, number=8))
    threads = [
        threading.Thread(target=forge.publish, args=(ref, report(number=ref.number), DETAILS))
        for ref in (REF, other)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writes = [r.at for r in fake_github.requests if r.method in {"POST", "PATCH", "PUT"}]
    writes = writes[1:]  # the installation token request is not paced
    assert len(writes) >= 6
    assert min(b - a for a, b in pairwise(writes)) >= 0.09
