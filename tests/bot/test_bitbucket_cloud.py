"""Bitbucket Cloud adapter against a local 2.0 REST server (real atlassian client, real HTTP)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from bitbucket_fakes import SECRET_SSN, FakeBitbucketCloud, FakeFile, make_report, serve

from gitops_health.bot.forges.base import PullRequestRef
from gitops_health.bot.forges.bitbucket_cloud import NO_SIGNATURES_NOTE, BitbucketCloudForge
from gitops_health.bot.forges.bitbucket_common import BitbucketError, RetryPolicy
from gitops_health.bot.settings import BitbucketCloudSettings, Settings
from gitops_health.rules.change import FileStatus, ReviewState
from gitops_health.rules.render.markdown import COMMENT_MARKER

REF = PullRequestRef("bitbucket-cloud", "acme", "payments", 7)
DETAILS = "https://bot.example.com/pr/bitbucket-cloud/acme/payments/7"
POLICY = "extends: [hipaa]\nsigning:\n  allowed_signers_file: .keys/allowed_signers\n"
C2, C3 = "c2" * 20, "c3" * 20


def user(name: str) -> dict[str, str]:
    return {"type": "user", "uuid": f"{{{name}}}", "nickname": name, "display_name": name.title()}


def commit(sha: str, parent: str, message: str) -> dict[str, object]:
    author = {"type": "author", "raw": "Alice Example <alice@example.com>", "user": user("alice")}
    return {
        "type": "commit",
        "hash": sha,
        "message": message,
        "author": author,
        "date": "2026-11-01T10:00:00+00:00",
        "parents": [{"hash": parent}],
    }


def update(sha: str) -> dict[str, object]:
    return {"update": {"source": {"commit": {"hash": sha[:12]}}, "date": "2026-11-01"}}


def seed(fake: FakeBitbucketCloud) -> None:
    fake.files = [
        FakeFile("src/app.py", added=["import os", "print('hi')"], removed=1),
        FakeFile("data/patients.csv", added=["name,ssn", "x,1"], status="added"),
        FakeFile("new/name.py", added=["x = 1"], status="renamed", old_path="old/name.py"),
        FakeFile("docs/gone.md", removed=3, status="removed"),
        FakeFile("logo.png", binary=True),
        FakeFile(".gitops-health.yml", added=["extends: [hipaa, sox]"]),
    ]
    fake.commits = [
        commit(fake.head, C2, "feat: export"),
        commit(C2, C3, "fix: typo"),
        commit(C3, fake.base, "chore: start"),
    ]
    fake.participants = [
        {
            "type": "participant",
            "role": "REVIEWER",
            "approved": True,
            "state": "approved",
            "user": user("bob"),
            "participated_on": "2026-11-02T10:00:00+00:00",
        },
        {
            "type": "participant",
            "role": "REVIEWER",
            "approved": False,
            "state": "changes_requested",
            "user": user("carol"),
        },
        {
            "type": "participant",
            "role": "PARTICIPANT",
            "approved": False,
            "state": None,
            "user": user("dave"),
        },
    ]
    fake.activity = [  # newest first
        {"approval": {"date": "2026-11-02", "user": user("bob")}},
        update(fake.head),
        {"changes_request": {"date": "2026-11-01", "user": user("carol")}},
        {"approval": {"date": "2026-11-01", "user": user("bob")}},
        update(C2),
        {"comment": {"id": 1}},
        update(C3),
    ]
    fake.sources = {
        (fake.base, ".gitops-health.yml"): POLICY,
        (fake.base, ".bitbucket/CODEOWNERS"): "* @acme/maintainers\n",
        (fake.base, ".keys/allowed_signers"): "alice@example.com ssh-ed25519 AAAA\n",
        (fake.head, ".gitops-health.yml"): "extends: [hipaa, sox]\n",
    }


@pytest.fixture
def cloud() -> Iterator[FakeBitbucketCloud]:
    fake = FakeBitbucketCloud()
    seed(fake)
    with serve(fake):
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def forge(cloud: FakeBitbucketCloud, sleeps: list[float]) -> BitbucketCloudForge:
    return BitbucketCloudForge(
        api_url=cloud.base_url, token="cloud-token", retry=RetryPolicy(sleep=sleeps.append)
    )


def sent_bodies(fake: FakeBitbucketCloud) -> str:
    return json.dumps([r.body for r in fake.requests])


def test_snapshot_builds_the_change_from_paged_api_reads(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud
) -> None:
    snapshot = forge.snapshot(REF)
    change = snapshot.change

    assert (change.forge, change.repository, change.number) == (
        "bitbucket-cloud",
        "acme/payments",
        7,
    )
    assert change.head_sha == cloud.head  # the 12-character PR hash, expanded from the commits
    assert change.base_sha == cloud.base[:12]
    assert (change.base_ref, change.title, change.draft) == ("main", change.title, False)
    files = {f.path: f for f in change.files}
    assert [f.path for f in change.files] == [f.path for f in cloud.files]
    app = files["src/app.py"]
    assert (app.status, app.additions, app.deletions) == (FileStatus.MODIFIED, 2, 1)
    assert [(line.number, line.text) for line in app.added_lines] == [
        (1, "import os"),
        (2, "print('hi')"),
    ]
    assert files["data/patients.csv"].status is FileStatus.ADDED
    assert files["new/name.py"].previous_path == "old/name.py"
    assert files["docs/gone.md"].status is FileStatus.REMOVED
    assert files["logo.png"].binary
    assert [c.sha for c in change.commits] == [cloud.head, C2, C3]
    assert change.commits[0].author.login == "alice"
    assert change.commits[0].author.email == "alice@example.com"
    assert change.commits[0].signature.status == "E"
    assert NO_SIGNATURES_NOTE in change.notes
    reviews = {r.reviewer.login: (r.state, r.commit_sha) for r in change.reviews}
    assert reviews == {
        "bob": (ReviewState.APPROVED, cloud.head),
        "carol": (ReviewState.CHANGES_REQUESTED, C2),
    }
    assert snapshot.policy_text == POLICY
    assert change.codeowners == "* @acme/maintainers\n"
    assert change.base_files == {".keys/allowed_signers": "alice@example.com ssh-ed25519 AAAA\n"}
    assert snapshot.head_policy_text == "extends: [hipaa, sox]\n"
    assert snapshot.state == "open"
    assert len(cloud.calls("GET", "/diffstat$")) == 3  # 6 files, 2 per page, `next` followed
    assert len(cloud.calls("GET", r"/diff/")) == 1  # the /diff redirect was followed
    assert len(cloud.calls("GET", "/activity$")) == 3  # stops once every verdict is placed


def test_head_policy_of_a_fork_pr_is_read_from_the_fork(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud
) -> None:
    cloud.source_repository = "contrib/payments-fork"
    cloud.fork_sources = {(cloud.head, ".gitops-health.yml"): "extends: []\n"}

    snapshot = forge.snapshot(REF)
    assert (snapshot.policy_text, snapshot.head_policy_text) == (POLICY, "extends: []\n")


def test_base_files_are_read_once_per_base_sha(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud
) -> None:
    forge.snapshot(REF)
    reads = len(cloud.calls("GET", f"/src/{cloud.base[:12]}/"))
    forge.snapshot(REF)

    assert reads == 6  # policy, CODEOWNERS in 4 places (found in the last), allowed_signers
    assert len(cloud.calls("GET", f"/src/{cloud.base[:12]}/")) == reads


def test_sticky_comment_is_created_once_then_edited_in_place(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud
) -> None:
    cloud.add_comment(f"quoting the bot: {COMMENT_MARKER}", user("mallory"))
    forge.publish(REF, make_report(cloud.head), DETAILS)
    forge.publish(REF, make_report(cloud.head, conclusion_failing=False), DETAILS)
    forge.publish(REF, make_report(cloud.head, conclusion_failing=False), DETAILS)
    restarted = BitbucketCloudForge(api_url=cloud.base_url, token="cloud-token")
    restarted.publish(REF, make_report(cloud.head), DETAILS)

    ours = [c for c in cloud.comments.values() if c["user"]["uuid"] == cloud.me["uuid"]]
    assert len(ours) == 1
    assert COMMENT_MARKER in ours[0]["content"]["raw"]
    assert len(cloud.calls("POST", "/comments$")) == 1
    edits = cloud.calls("PUT", r"/comments/\d+$")
    assert len(edits) == 2  # the unchanged third publish wrote nothing
    assert {e.path.rsplit("/", 1)[1] for e in edits} == {str(ours[0]["id"])}
    assert SECRET_SSN not in sent_bodies(cloud)


def test_report_status_and_batched_annotations(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud
) -> None:
    forge.publish(REF, make_report(cloud.head, findings=250), DETAILS)

    report = cloud.reports[(cloud.head, "gitops-health")]
    assert (report["result"], report["report_type"], report["link"]) == (
        "FAILED",
        "SECURITY",
        DETAILS,
    )
    batches = cloud.calls("POST", "/annotations$")
    assert [len(b.body) for b in batches] == [100, 100, 50]
    first = batches[0].body[0]
    assert (first["path"], first["line"], first["severity"]) == ("data/patients.csv", 4, "HIGH")
    assert first["annotation_type"] == "VULNERABILITY"
    assert "US_SSN" in first["summary"] and SECRET_SSN not in sent_bodies(cloud)
    (status,) = cloud.statuses
    assert (status["sha"], status["state"], status["key"], status["url"]) == (
        cloud.head,
        "FAILED",
        "gitops-health",
        DETAILS,
    )
    assert len(status["description"]) <= 255


def test_annotations_are_capped_per_report_and_reruns_replace_them(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud
) -> None:
    forge.publish(REF, make_report(cloud.head, findings=1203), DETAILS)
    forge.publish(REF, make_report(cloud.head, findings=1203), DETAILS)

    assert len(cloud.annotations[(cloud.head, "gitops-health")]) == 1000
    assert (
        "Showing 1000 of 1203 findings" in cloud.reports[(cloud.head, "gitops-health")]["details"]
    )
    assert len(cloud.calls("DELETE", "/reports/gitops-health$")) == 2


def test_retry_after_and_server_errors_are_retried(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud, sleeps: list[float]
) -> None:
    cloud.fail_next("GET", "/pullrequests/7$", 429, {"Retry-After": "7"})
    cloud.fail_next("GET", "/diffstat$", 502, times=2)

    assert forge.snapshot(REF).change.files
    assert sleeps == [7.0, 1.0, 2.0]


def test_persistent_server_error_fails_with_a_clear_message(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud, sleeps: list[float]
) -> None:
    cloud.fail_next("GET", "/pullrequests/7$", 500, times=10)

    with pytest.raises(
        BitbucketError,
        match=r"reading bitbucket-cloud/acme/payments/7 failed "
        r"\(HTTP 500\)",
    ):
        forge.snapshot(REF)
    assert sleeps == [1.0, 2.0, 4.0]  # bounded: 4 attempts


def test_retry_after_beyond_the_limit_is_not_waited_for(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud, sleeps: list[float]
) -> None:
    cloud.fail_next("GET", "/pullrequests/7$", 429, {"Retry-After": "3600"})

    with pytest.raises(BitbucketError, match="HTTP 429"):
        forge.snapshot(REF)
    assert sleeps == []


def test_comment_post_is_never_resent_after_a_server_error(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud
) -> None:
    cloud.fail_next("POST", "/comments$", 502)

    with pytest.raises(BitbucketError, match="publishing"):
        forge.publish(REF, make_report(cloud.head), DETAILS)
    assert len(cloud.calls("POST", "/comments$")) == 1
    forge.publish(REF, make_report(cloud.head), DETAILS)
    assert len(cloud.comments) == 1


def test_publish_error_leaves_a_failed_status(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud
) -> None:
    forge.publish_error(REF, cloud.head, "policy file could not be read")

    (status,) = cloud.statuses
    assert status["state"] == "FAILED"
    assert "policy file could not be read" in status["description"]
    assert status["url"] == f"{cloud.base_url}/acme/payments/pull-requests/7"


def test_directory_reads_permissions_and_groups(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud
) -> None:
    cloud.permissions = [
        {"type": "repository_permission", "permission": "admin", "user": user("alice")},
        {"type": "repository_permission", "permission": "write", "user": user("bob")},
        {"type": "repository_permission", "permission": "read", "user": user("carol")},
    ]
    cloud.groups = {"maintainers": [{"nickname": "alice"}, {"nickname": "bob"}]}
    directory = forge.snapshot(REF).directory

    assert [directory.permission(u) for u in ("Alice", "bob", "carol", "zed")] == [
        "admin",
        "write",
        "read",
        "none",
    ]
    assert directory.users_with_permission("write") == {"alice", "bob"}
    assert directory.team_members("acme/maintainers") == {"alice", "bob"}
    assert directory.team_members("ghosts") == frozenset()
    assert len(cloud.calls("GET", "/permissions/repositories/payments$")) == 2  # 3 users, paged


def test_directory_assumes_write_when_permissions_are_forbidden(
    forge: BitbucketCloudForge, cloud: FakeBitbucketCloud
) -> None:
    cloud.fail_next("GET", "/permissions/repositories/payments$", 403)

    assert forge.snapshot(REF).directory.permission("bob") == "write"


def test_app_password_and_api_url_with_version_suffix() -> None:
    credentials = base64.b64encode(b"gitops-bot:app-pass").decode()
    fake = FakeBitbucketCloud(authorization=f"Basic {credentials}")
    seed(fake)
    with serve(fake):
        forge = BitbucketCloudForge(
            api_url=f"{fake.base_url}/2.0/", username="gitops-bot", app_password="app-pass"
        )
        assert forge.snapshot(REF).change.head_sha == fake.head


def test_built_from_the_bot_settings(cloud: FakeBitbucketCloud, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="sqlite://",
        queue_url="",
        public_url="https://bot",
        bitbucket_cloud=BitbucketCloudSettings(token="cloud-token", api_url=cloud.base_url),
    )
    forge = BitbucketCloudForge.from_settings(settings)

    assert forge.snapshot(REF).change.number == 7


def test_missing_credentials_name_the_variable() -> None:
    with pytest.raises(ValueError, match="GITOPS_HEALTH_BITBUCKET_CLOUD_TOKEN"):
        BitbucketCloudForge(username="only-a-user")
