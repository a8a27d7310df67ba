"""Webhook receiving over real HTTP: signatures, routing, de-duplication, limits, no 500s."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import requests
from github_fake import FIXTURES, WEBHOOK_SECRET, RunningBot, fixture_payload, sign

from gitops_health.bot.models import Delivery
from gitops_health.bot.webhooks import Accepted, Ignored, receive, signature_valid

CLOUD = FIXTURES / "bitbucket-cloud"
SERVER = FIXTURES / "bitbucket-server"


def test_signature_known_answer_vectors() -> None:
    github = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert signature_valid("It's a Secret to Everybody", b"Hello, World!", github)
    body = (CLOUD / "repo_push.signed_payload.jenkins.json").read_bytes()
    cloud = "sha256=f205c729821c6954aff2afe72b965c34015b4baf96ea8ddc2cc44999c014a035"
    assert signature_valid("Gkvl$k$wyNpQAF42", body, cloud)
    assert not signature_valid("Gkvl$k$wyNpQAF42", body + b" ", cloud)
    assert not signature_valid("", b"Hello, World!", github)  # a secret is required


@pytest.mark.parametrize(
    ("fixture", "event", "status", "outcome"),
    [
        ("pull_request.opened.payload.json", "pull_request", 202, "queued"),
        ("pull_request.reopened.payload.json", "pull_request", 202, "queued"),
        ("pull_request.synchronize.payload.json", "pull_request", 202, "queued"),
        ("pull_request.edited.probot-wrapped.json", "pull_request", 202, "queued"),
        ("pull_request.ready_for_review.payload.json", "pull_request", 202, "queued"),
        ("pull_request.closed.payload.json", "pull_request", 202, "ignored"),
        ("pull_request_review.submitted.payload.json", "pull_request_review", 202, "queued"),
        ("pull_request_review.dismissed.payload.json", "pull_request_review", 202, "queued"),
        ("check_run.rerequested.payload.json", "check_run", 202, "queued"),
        ("check_suite.rerequested.payload.json", "check_suite", 202, "queued"),
        ("installation.created.payload.json", "installation", 202, "queued"),
        ("ping.payload.json", "ping", 200, "ignored"),
        ("ping.with-app_id.payload.json", "ping", 200, "ignored"),
    ],
)
def test_every_github_fixture(
    running_bot: RunningBot, fixture: str, event: str, status: int, outcome: str
) -> None:
    answer = running_bot.post("github", event, fixture_payload(fixture))
    assert (answer.status_code, answer.json()["status"]) == (status, outcome)


def test_github_targets_come_from_the_payload() -> None:
    payload = fixture_payload("check_run.rerequested.payload.json")
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": "check_run",
        "X-GitHub-Delivery": "x",
        "X-Hub-Signature-256": sign("s", body),
    }
    accepted = receive("github", headers, body, "s")
    assert isinstance(accepted, Accepted)
    (target,) = accepted.targets  # a check run without PRs (fork): found by head SHA
    repository = payload["repository"]
    assert (target.owner, target.repo, target.number, target.installation_id) == (
        repository["owner"]["login"],
        repository["name"],
        0,
        payload["installation"]["id"],
    )
    assert target.head_sha == payload["check_run"]["head_sha"]
    suite = json.dumps(fixture_payload("check_suite.rerequested.payload.json")).encode()
    headers["X-GitHub-Event"], headers["X-Hub-Signature-256"] = "check_suite", sign("s", suite)
    accepted = receive("github", headers, suite, "s")
    assert isinstance(accepted, Accepted) and accepted.targets[0].number == 2


def test_own_review_is_ignored() -> None:
    body = json.dumps(fixture_payload("pull_request_review.submitted.payload.json")).encode()
    headers = {
        "X-GitHub-Event": "pull_request_review",
        "X-GitHub-Delivery": "x",
        "X-Hub-Signature-256": sign("s", body),
    }
    assert isinstance(receive("github", headers, body, "s", own_login="codertocat"), Ignored)
    assert isinstance(receive("github", headers, body, "s", own_login="someone"), Accepted)


@pytest.mark.parametrize(
    ("headers", "body", "status", "reason"),
    [
        ({"X-Hub-Signature-256": ""}, b"{}", 401, "missing"),
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, b"{}", 401, "invalid"),
        ({"X-Hub-Signature-256": "sha1=abc"}, b"{}", 401, "invalid"),
        ({}, b"{not json", 400, "not valid JSON"),
        ({}, b"[1, 2]", 400, "JSON object"),
        ({}, b'{"action": "opened"}', 400, "repository.owner.login missing"),
        ({"X-GitHub-Delivery": ""}, b"{}", 400, "X-GitHub-Delivery header missing"),
        ({}, "\udcff".encode("utf-8", "surrogatepass"), 400, "not valid JSON"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    running_bot: RunningBot, headers: dict[str, str], body: bytes, status: int, reason: str
) -> None:
    answer = running_bot.post("github", "pull_request", body, **headers)
    assert answer.status_code == status
    assert reason in answer.json()["error"]


def test_unknown_event_is_accepted_and_ignored(running_bot: RunningBot) -> None:
    answer = running_bot.post("github", "star", {"action": "created"})
    assert (answer.status_code, answer.json()["status"]) == (202, "ignored")


def test_body_over_the_cap_is_413(running_bot: RunningBot) -> None:
    cap = running_bot.runtime.settings.max_body_bytes
    answer = running_bot.post("github", "pull_request", b"{" + b" " * cap + b"}")
    assert answer.status_code == 413


def test_unconfigured_forge_is_refused_clearly(tmp_path: Path) -> None:
    from gitops_health.bot.app import create_app
    from gitops_health.bot.settings import Settings

    app = create_app(Settings.from_env({"GITOPS_HEALTH_DATA_DIR": str(tmp_path)}))
    answer = app.test_client().post("/webhooks/github", data=b"{}")
    assert answer.status_code == 404
    assert "GITOPS_HEALTH_GITHUB_WEBHOOK_SECRET" in answer.get_json()["error"]
    assert app.test_client().get("/readyz").get_json()["unconfigured_forges"] == [
        "github",
        "bitbucket-cloud",
        "bitbucket-server",
    ]


def test_concurrent_duplicate_deliveries_are_queued_once(running_bot: RunningBot) -> None:
    payload = fixture_payload("pull_request.opened.payload.json")
    answers: list[str] = []

    def deliver() -> None:
        answers.append(
            running_bot.post("github", "pull_request", payload, delivery="dup-1").json()["status"]
        )

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == ["duplicate"] * 7 + ["queued"]
    assert running_bot.runtime.huey.pending_count() == 1
    with running_bot.runtime.store.sessions() as session:
        assert session.query(Delivery).filter_by(delivery_id="dup-1").count() == 1


def _cloud(name: str) -> dict:
    return json.loads((CLOUD / name).read_text())


def test_bitbucket_cloud_events(running_bot: RunningBot) -> None:
    post = running_bot.post
    created = _cloud("pullrequest_created.atlantis.json")
    assert (
        post("bitbucket-cloud", "pullrequest:created", created, secret="cloud-secret").json()[
            "status"
        ]
        == "queued"
    )
    # the same source commit and destination: a title/description/reviewer edit, not re-analysed
    updated = _cloud("pullrequest_updated.atlantis.json")
    same = dict(updated, pullrequest=created["pullrequest"])
    answer = post("bitbucket-cloud", "pullrequest:updated", same, secret="cloud-secret")
    assert answer.json() == {
        "status": "ignored",
        "reason": "neither the source commit nor the destination changed",
    }
    for name in (
        "pullrequest_updated_new_commit.jenkins.json",
        "pullrequest_updated_new_destination.jenkins.json",
    ):
        first = post(
            "bitbucket-cloud",
            "pullrequest:created",
            _cloud("pullrequest_created_from_fork.jenkins.json"),
            secret="cloud-secret",
        )
        assert first.json()["status"] == "queued"
        answer = post("bitbucket-cloud", "pullrequest:updated", _cloud(name), secret="cloud-secret")
        assert answer.json()["status"] == "queued", name
    approved = _cloud("pullrequest_approved.zulip.json")
    for event in (
        "pullrequest:approved",
        "pullrequest:unapproved",
        "pullrequest:changes_request_created",
        "pullrequest:changes_request_removed",
    ):
        assert post("bitbucket-cloud", event, approved, secret="cloud-secret").status_code == 202
    merged = _cloud("pullrequest_fulfilled.go-scm.json")
    assert (
        post("bitbucket-cloud", "pullrequest:fulfilled", merged, secret="cloud-secret").json()[
            "status"
        ]
        == "ignored"
    )
    bad = post("bitbucket-cloud", "pullrequest:created", created, secret="wrong")
    assert bad.status_code == 401


def test_bitbucket_cloud_ref_is_workspace_slug_id() -> None:
    body = (CLOUD / "pullrequest_created.go-scm.json").read_bytes()
    headers = {
        "X-Event-Key": "pullrequest:created",
        "X-Request-UUID": "u",
        "X-Hub-Signature": sign("s", body),
    }
    accepted = receive("bitbucket-cloud", headers, body, "s")
    assert isinstance(accepted, Accepted)
    payload = json.loads(body)
    owner, _, slug = payload["repository"]["full_name"].partition("/")
    target = accepted.targets[0]
    assert (target.owner, target.repo, target.number) == (owner, slug, payload["pullrequest"]["id"])
    assert accepted.source_hash == payload["pullrequest"]["source"]["commit"]["hash"]


@pytest.mark.parametrize(
    ("fixture", "event", "outcome"),
    [
        ("pr_opened.atlantis.json", "pr:opened", "queued"),
        ("pr_opened.go-playground.json", "pr:opened", "queued"),
        ("pr_opened.go-scm.json", "pr:opened", "queued"),
        ("pr_from_ref_updated.go-scm.json", "pr:from_ref_updated", "queued"),
        ("pr_modified.go-playground.json", "pr:modified", "queued"),
        ("pr_modified_toref.go-scm.json", "pr:modified", "queued"),
        ("pr_reviewer_approved.go-playground.json", "pr:reviewer:approved", "queued"),
        ("pr_reviewer_unapproved.go-playground.json", "pr:reviewer:unapproved", "queued"),
        ("pr_reviewer_needs_work.go-playground.json", "pr:reviewer:needs_work", "queued"),
        ("pr_reviewer_needs_work.go-playground.json", "pr:reviewer:changes_requested", "queued"),
        ("pr_reviewer_updated.go-playground.json", "pr:reviewer:updated", "queued"),
        ("pr_merged.go-playground.json", "pr:merged", "ignored"),
        ("pr_comment_added.go-playground.json", "pr:comment:added", "ignored"),
    ],
)
def test_bitbucket_server_events(
    running_bot: RunningBot, fixture: str, event: str, outcome: str
) -> None:
    payload = json.loads((SERVER / fixture).read_text())
    answer = running_bot.post("bitbucket-server", event, payload, secret="server-secret")
    assert (answer.status_code, answer.json()["status"]) == (202, outcome)


def test_bitbucket_server_ping_passes_unsigned_and_nothing_else_does(
    running_bot: RunningBot,
) -> None:
    body = (SERVER / "diagnostics_ping.jenkins.json").read_bytes()
    url = f"{running_bot.url}/webhooks/bitbucket-server"
    ping = requests.post(url, data=body, headers={"X-Event-Key": "diagnostics:ping"}, timeout=5)
    assert ping.status_code == 200
    opened = (SERVER / "pr_opened.atlantis.json").read_bytes()
    unsigned = requests.post(
        url, data=opened, headers={"X-Event-Key": "pr:opened", "X-Request-Id": "r1"}, timeout=5
    )
    assert unsigned.status_code == 401


def test_health_endpoints(running_bot: RunningBot) -> None:
    assert requests.get(f"{running_bot.url}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{running_bot.url}/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_same_secret_on_another_forge_does_not_validate(running_bot: RunningBot) -> None:
    payload = json.loads((SERVER / "pr_opened.atlantis.json").read_text())
    answer = running_bot.post("bitbucket-server", "pr:opened", payload, secret=WEBHOOK_SECRET)
    assert answer.status_code == 401
