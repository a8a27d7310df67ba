"""Bitbucket Data Center adapter against a local 1.0 REST server (real atlassian client)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from bitbucket_fakes import SECRET_SSN, FakeBitbucketServer, FakeFile, make_report, serve

from gitops_health.bot.forges.base import PullRequestRef
from gitops_health.bot.forges.bitbucket_common import BitbucketError, RetryPolicy
from gitops_health.bot.forges.bitbucket_server import (
    DIFF_TRUNCATED_NOTE,
    NO_SIGNATURES_NOTE,
    BitbucketServerForge,
)
from gitops_health.bot.settings import BitbucketServerSettings, Settings
from gitops_health.rules.change import FileStatus, ReviewState
from gitops_health.rules.render.markdown import COMMENT_MARKER

REF = PullRequestRef("bitbucket-server", "AT", "atlantis-example", 3)
DETAILS = "https://bot.example.com/pr/bitbucket-server/AT/atlantis-example/3"
POLICY = "extends: [sox]\n"
OLD = "0d" * 20


def changed_path(path: str, kind: str, source: str | None = None) -> dict[str, object]:
    entry: dict[str, object] = {"path": {"toString": path}, "type": kind, "nodeType": "FILE"}
    if source:
        entry["srcPath"] = {"toString": source}
    return entry


def seed(fake: FakeBitbucketServer) -> None:
    fake.changes += [  # after the captured ADD folder/another.tf and MODIFY main.tf
        changed_path("new/name.tf", "MOVE", "old/name.tf"),
        changed_path("gone.tf", "DELETE"),
        changed_path(".gitops-health.yml", "MODIFY"),
    ]
    fake.files = [
        FakeFile("folder/another.tf", added=['resource "x" "y" {}'], status="added"),
        FakeFile("main.tf", added=["a = 1", "b = 2"], removed=1),
        FakeFile("new/name.tf", added=["c = 3"], status="renamed", old_path="old/name.tf"),
        FakeFile("gone.tf", removed=2, status="removed"),
        FakeFile(".gitops-health.yml", added=["extends: [sox, hipaa]"]),
    ]
    alice = fake.user("alice")
    fake.commits = [
        {
            "id": fake.head,
            "displayId": fake.head[:11],
            "message": "feat: add module",
            "author": alice,
            "authorTimestamp": 1_762_000_000_000,
            "committer": {"name": "CI Robot", "emailAddress": "ci@example.com"},
            "parents": [{"id": OLD}],
        },
        {
            "id": OLD,
            "displayId": OLD[:11],
            "message": "chore: start",
            "author": alice,
            "committer": alice,
            "parents": [{"id": fake.base}],
        },
    ]
    fake.pull_request["participants"] = [
        {
            "user": fake.user("carol"),
            "role": "PARTICIPANT",
            "approved": False,
            "status": "NEEDS_WORK",
            "lastReviewedCommit": OLD,
        },
        {
            "user": fake.user("dave"),
            "role": "PARTICIPANT",
            "approved": False,
            "status": "UNAPPROVED",
        },
    ]
    fake.sources = {
        (fake.base, ".gitops-health.yml"): POLICY,
        (fake.base, "CODEOWNERS"): "*.tf @platform\n",
        (fake.base, ".gitops-health/allowed_signers"): "alice@example.com ssh-ed25519 AAAA\n",
        (fake.head, ".gitops-health.yml"): "extends: [sox, hipaa]\n",
    }


@pytest.fixture
def server() -> Iterator[FakeBitbucketServer]:
    fake = FakeBitbucketServer()
    seed(fake)
    with serve(fake):
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def forge(server: FakeBitbucketServer, sleeps: list[float]) -> BitbucketServerForge:
    return BitbucketServerForge(
        url=server.base_url, token="server-token", retry=RetryPolicy(sleep=sleeps.append)
    )


def test_snapshot_builds_the_changefrom_paged_api_reads(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    snapshot = forge.snapshot(REF)
    change = snapshot.change

    assert (change.repository, change.number, change.forge) == (
        "AT/atlantis-example",
        3,
        "bitbucket-server",
    )
    assert (change.head_sha, change.base_sha) == (server.head, server.base)
    assert (change.head_ref, change.base_ref) == ("lkysow/maintf-1532350335286", "main")
    assert change.author.login == "lkysow"
    files = {f.path: f for f in change.files}
    assert list(files) == [
        "folder/another.tf",
        "main.tf",
        "new/name.tf",
        "gone.tf",
        ".gitops-health.yml",
    ]
    assert files["folder/another.tf"].status is FileStatus.ADDED
    main = files["main.tf"]
    assert (main.status, main.additions, main.deletions) == (FileStatus.MODIFIED, 2, 1)
    assert [(x.number, x.text) for x in main.added_lines] == [(1, "a = 1"), (2, "b = 2")]
    assert (files["new/name.tf"].status, files["new/name.tf"].previous_path) == (
        FileStatus.RENAMED,
        "old/name.tf",
    )
    assert (files["gone.tf"].status, files["gone.tf"].deletions) == (FileStatus.REMOVED, 2)
    head_commit = change.commits[0]
    assert (head_commit.sha, head_commit.author.login, head_commit.committer.email) == (
        server.head,
        "alice",
        "ci@example.com",
    )
    assert head_commit.signature.status == "E" and head_commit.authored_at is not None
    reviews = {r.reviewer.login: (r.state, r.commit_sha) for r in change.reviews}
    assert reviews == {
        "another-user": (ReviewState.APPROVED, server.head),  # from the captured response
        "carol": (ReviewState.CHANGES_REQUESTED, OLD),
    }
    assert snapshot.policy_text == POLICY
    assert change.codeowners == "*.tf @platform\n"
    assert change.base_files == {
        ".gitops-health/allowed_signers": "alice@example.com ssh-ed25519 AAAA\n"
    }
    assert snapshot.head_policy_text == "extends: [sox, hipaa]\n"
    assert (snapshot.state, change.draft) == ("open", False)
    assert change.notes[0] == NO_SIGNATURES_NOTE  # then: history absent, no clone cache
    assert len(server.calls("GET", "/changes$")) == 5  # one per page: nextPageStart followed
    assert len(server.calls("GET", "/commits$")) == 2


def test_truncated_diff_is_said_in_the_notes(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    server.diff_truncated = True

    assert DIFF_TRUNCATED_NOTE in forge.snapshot(REF).change.notes


def test_head_policy_of_a_fork_pr_is_read_from_the_fork(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    fork = server.pull_request["fromRef"]["repository"]
    fork["project"]["key"], fork["slug"] = "CONTRIB", "atlantis-fork"
    server.fork_sources = {(server.head, ".gitops-health.yml"): "extends: []\n"}

    snapshot = forge.snapshot(REF)
    assert (snapshot.policy_text, snapshot.head_policy_text) == (POLICY, "extends: []\n")


def test_base_files_are_read_once_per_base_sha(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    forge.snapshot(REF)
    reads = len(server.calls("GET", "/raw/"))
    forge.snapshot(REF)

    assert reads == 5  # policy, 2 CODEOWNERS places, allowed_signers; head policy
    assert len(server.calls("GET", "/raw/")) == reads + 1  # only the head policy again


def test_sticky_comment_is_created_once_then_edited_with_its_version(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    server.add_comment(f"pasted {COMMENT_MARKER}", "mallory")
    forge.publish(REF, make_report(server.head), DETAILS)
    forge.publish(REF, make_report(server.head, conclusion_failing=False), DETAILS)
    restarted = BitbucketServerForge(url=server.base_url, token="server-token")
    restarted.publish(REF, make_report(server.head), DETAILS)

    ours = [c for c in server.comments.values() if c["author"]["name"] == "gitops-bot"]
    assert len(ours) == 1 and COMMENT_MARKER in ours[0]["text"]
    assert len(server.calls("POST", "/comments$")) == 1
    assert [r.body["version"] for r in server.calls("PUT", r"/comments/\d+$")] == [0, 1]
    assert ours[0]["version"] == 2
    assert "mallory" not in {c["author"]["name"] for c in ours}
    assert SECRET_SSN not in json.dumps([r.body for r in server.requests])


def test_stale_comment_version_is_re_read_once(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    forge.publish(REF, make_report(server.head), DETAILS)
    server.fail_next("PUT", r"/comments/\d+$", 409)
    forge.publish(REF, make_report(server.head, conclusion_failing=False), DETAILS)

    (comment,) = server.comments.values()
    assert comment["version"] == 1
    assert len(server.calls("PUT", r"/comments/\d+$")) == 2


def test_build_status_and_capped_code_insights_report(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    forge.publish(REF, make_report(server.head, findings=1203), DETAILS)
    forge.publish(REF, make_report(server.head, findings=1203), DETAILS)  # a re-run

    report = server.reports[(server.head, "gitops-health")]
    assert (report["title"], report["result"], report["link"]) == ("gitops-health", "FAIL", DETAILS)
    assert "Showing 1000 of 1203 findings" in report["details"]
    assert len(report["data"]) <= 6
    annotations = server.annotations[(server.head, "gitops-health")]
    assert len(annotations) == 1000
    assert [len(r.body["annotations"]) for r in server.calls("POST", "/annotations$")] == [
        500,
        500,
        500,
        500,
    ]
    phi = annotations[0]
    assert (phi["path"], phi["line"], phi["severity"], phi["type"]) == (
        "data/patients.csv",
        4,
        "HIGH",
        "VULNERABILITY",
    )
    assert SECRET_SSN not in json.dumps([r.body for r in server.requests])
    assert [s["sha"] for s in server.statuses] == [server.head, server.head]
    assert (server.statuses[-1]["state"], server.statuses[-1]["url"]) == ("FAILED", DETAILS)


def test_a_lowered_annotation_limit_keeps_what_was_accepted(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    server.annotation_limit = 700  # an admin lowered it: the second batch is rejected whole

    forge.publish(REF, make_report(server.head, findings=1203), DETAILS)

    assert len(server.annotations[(server.head, "gitops-health")]) == 500
    assert server.statuses[-1]["state"] == "FAILED"  # the verdict, not a publishing error
    assert len(server.comments) == 1


def test_without_code_insights_the_comment_and_status_still_appear(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    server.fail_next("PUT", "/reports/gitops-health$", 404)  # Bitbucket older than 5.15

    forge.publish(REF, make_report(server.head), DETAILS)

    assert not server.calls("POST", "/annotations$")
    assert len(server.comments) == 1 and len(server.statuses) == 1


def test_pending_report_has_no_result(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    forge.publish(REF, make_report(server.head, conclusion_failing=False), DETAILS)

    assert "result" not in server.reports[(server.head, "gitops-health")]
    assert server.statuses[-1]["state"] == "INPROGRESS"


def test_publish_error_leaves_a_failed_status(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    forge.publish_error(REF, server.head, "forge timed out")

    (status,) = server.statuses
    assert (status["sha"], status["state"]) == (server.head, "FAILED")
    assert "forge timed out" in status["description"]
    assert status["url"] == f"{server.base_url}/projects/AT/repos/atlantis-example/pull-requests/3"


def test_directory_uses_effective_permissions_and_groups(
    forge: BitbucketServerForge, server: FakeBitbucketServer
) -> None:
    server.permissions = {
        "alice": "REPO_ADMIN",
        "alicia": "REPO_WRITE",
        "bob": "REPO_WRITE",
        "carol": "REPO_READ",
    }
    server.groups = {"platform": ["alice", "bob"]}
    directory = forge.snapshot(REF).directory

    assert [directory.permission(u) for u in ("alice", "alicia", "Bob", "carol", "zed")] == [
        "admin",
        "write",
        "write",
        "read",
        "none",
    ]
    assert directory.users_with_permission("write") == {"alice", "alicia", "bob"}
    assert directory.team_members("platform") == {"alice", "bob"}
    assert directory.team_members("nobody") == frozenset()


def test_retry_after_and_unavailable_are_retried(
    forge: BitbucketServerForge, server: FakeBitbucketServer, sleeps: list[float]
) -> None:
    server.fail_next("GET", "/pull-requests/3$", 429, {"Retry-After": "2"})
    server.fail_next("GET", "/changes$", 503)

    assert forge.snapshot(REF).change.files
    assert sleeps == [2.0, 1.0]


def test_bad_token_fails_with_a_clear_error(server: FakeBitbucketServer) -> None:
    forge = BitbucketServerForge(url=server.base_url, token="wrong")

    with pytest.raises(BitbucketError, match=r"Bitbucket Data Center reading .* \(HTTP 401\)"):
        forge.snapshot(REF)


def test_built_from_the_bot_settings(server: FakeBitbucketServer, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="sqlite://",
        queue_url="",
        public_url="https://bot",
        bitbucket_server=BitbucketServerSettings(url=server.base_url, token="server-token"),
    )
    forge = BitbucketServerForge.from_settings(settings)

    assert forge.snapshot(REF).change.number == 3


@pytest.mark.parametrize(
    ("url", "token", "variable"),
    [
        ("", "t", "GITOPS_HEALTH_BITBUCKET_SERVER_URL"),
        ("https://bb.example.com", "", "GITOPS_HEALTH_BITBUCKET_SERVER_TOKEN"),
    ],
)
def test_missing_settings_name_the_variable(url: str, token: str, variable: str) -> None:
    with pytest.raises(ValueError, match=variable):
        BitbucketServerForge(url=url, token=token)
