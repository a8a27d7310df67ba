"""Webhook → durable queue → worker → PyGithub → local GitHub, with the real rule engine."""

from __future__ import annotations

import pytest
import requests
from github_fake import FakeGitHub, PullData, RunningBot, commit_entry, file_entry, fixture_payload

from gitops_health.bot.forges.base import PullRequestRef
from gitops_health.bot.models import Delivery
from gitops_health.bot.worker import details_url, process_delivery
from gitops_health.rules.render import COMMENT_MARKER

HEAD, BASE = "e" * 40, "b" * 40
POLICY = """\
approvals:
  policy: [maintainers]
  rules:
    - name: maintainers
      requires: {count: 1, users: [dave]}
      options: {request_review: {mode: all-users}}
"""


@pytest.fixture
def pull(fake_github: FakeGitHub) -> PullData:
    """PR #2 of Codertocat/Hello-World, the PR of the captured pull_request payloads."""
    fake_github.contents[(BASE, ".gitops-health.yml")] = POLICY
    return fake_github.add_pull(
        PullData(
            2,
            head_sha=HEAD,
            base_sha=BASE,
            author="Codertocat",
            files=[file_entry("src/app.py", ["print('hello')"])],
            commits=[commit_entry(HEAD, "feat: say hello")],
        )
    )


def deliver(bot: RunningBot, fixture: str, event: str, delivery: str = "") -> None:
    answer = bot.post("github", event, fixture_payload(fixture), delivery=delivery)
    assert answer.status_code == 202, answer.text
    assert bot.drain() >= 1


def test_opened_then_synchronize_publishes_one_annotation(
    running_bot: RunningBot, fake_github: FakeGitHub, pull: PullData
) -> None:
    deliver(running_bot, "pull_request.opened.payload.json", "pull_request")
    (run,) = fake_github.check_runs.values()
    assert run["head_sha"] == HEAD
    assert run["conclusion"] == "action_required"  # dave's approval is still needed
    (comment,) = fake_github.comments.values()
    assert COMMENT_MARKER in comment["body"]
    assert pull.requested_reviewers == ["dave"]
    assert any(label.startswith("risk:") for label in pull.labels)
    # the policy was read from the base commit, through the cache on the next event
    contents = fake_github.calls("GET", r"/contents/\.gitops-health\.yml$")
    assert [c.query["ref"] for c in contents] == [[BASE]]
    deliver(running_bot, "pull_request.synchronize.payload.json", "pull_request")
    assert len(fake_github.calls("GET", r"/contents/\.gitops-health\.yml$")) == 1
    assert len(fake_github.calls("POST", r"/issues/2/comments$")) == 1
    assert len(fake_github.calls("PATCH", r"/issues/comments/")) == 1
    assert len(fake_github.calls("POST", r"/requested_reviewers$")) == 1  # never re-requested
    with running_bot.runtime.store.sessions() as session:
        assert {d.status for d in session.query(Delivery)} == {"done"}
    entries = list(running_bot.runtime.audit.entries())
    assert [e["head_sha"] for e in entries] == [HEAD, HEAD]  # each published verdict recorded
    assert running_bot.runtime.audit.verify() == []


def test_approval_by_review_makes_the_check_pass(
    running_bot: RunningBot, fake_github: FakeGitHub, pull: PullData
) -> None:
    pull.reviews = [
        {
            "id": 9,
            "user": {"login": "dave"},
            "state": "APPROVED",
            "body": "",
            "commit_id": HEAD,
            "submitted_at": "2026-01-01T00:00:00Z",
        }
    ]
    deliver(running_bot, "pull_request_review.submitted.payload.json", "pull_request_review")
    (run,) = fake_github.check_runs.values()
    assert run["conclusion"] == "success"
    assert not fake_github.calls("POST", r"/requested_reviewers$")


def test_invalid_policy_changed_in_the_pr_fails_the_check(
    running_bot: RunningBot, fake_github: FakeGitHub, pull: PullData
) -> None:
    pull.files.append(file_entry(".gitops-health.yml", ["approvals:", "  bogus: 1"]))
    fake_github.contents[(HEAD, ".gitops-health.yml")] = "approvals:\n  bogus: 1\n"
    deliver(running_bot, "pull_request.reopened.payload.json", "pull_request")
    (run,) = fake_github.check_runs.values()
    assert run["conclusion"] == "failure"
    assert "bogus" in run["output"]["summary"]


def test_check_run_rerequested_finds_the_pr_by_head_sha(
    running_bot: RunningBot, fake_github: FakeGitHub, pull: PullData
) -> None:
    payload = fixture_payload("check_run.rerequested.payload.json")
    pull.head_sha = payload["check_run"]["head_sha"]  # a fork PR: not listed in the payload
    answer = running_bot.post("github", "check_run", payload)
    assert answer.json()["status"] == "queued"
    running_bot.drain()
    (run,) = fake_github.check_runs.values()
    assert run["head_sha"] == pull.head_sha
    assert fake_github.calls("GET", rf"/commits/{pull.head_sha}/pulls$")


def test_redelivery_is_processed_once(
    running_bot: RunningBot, fake_github: FakeGitHub, pull: PullData
) -> None:
    for _ in range(2):
        running_bot.post(
            "github",
            "pull_request",
            fixture_payload("pull_request.opened.payload.json"),
            delivery="same",
        )
    assert running_bot.drain() == 1
    assert len(fake_github.check_runs) == 1


def test_forge_outage_ends_in_an_error_status(
    running_bot: RunningBot, fake_github: FakeGitHub, pull: PullData
) -> None:
    answer = running_bot.post(
        "github", "pull_request", fixture_payload("pull_request.opened.payload.json")
    )
    assert answer.status_code == 202
    fake_github.fail("GET", r"/pulls/2/files$", 500, times=100)
    task = running_bot.runtime.huey.dequeue()
    assert task is not None
    store = running_bot.runtime.store
    with store.sessions() as session:
        (pk,) = [d.id for d in session.query(Delivery)]
    process_delivery(running_bot.runtime, pk, final_attempt=True)
    (run,) = fake_github.check_runs.values()
    assert run["conclusion"] == "failure"
    assert "HTTP 500" in run["output"]["summary"]
    with store.sessions() as session:
        assert session.get(Delivery, pk).status == "failed"


def test_details_page_re_evaluates_and_explains(
    running_bot: RunningBot, fake_github: FakeGitHub, pull: PullData
) -> None:
    ref = PullRequestRef("github", "Codertocat", "Hello-World", 2)
    url = details_url(running_bot.runtime.settings, ref)
    local = url.replace(running_bot.runtime.settings.public_url, running_bot.url)
    page = requests.get(local, timeout=10)
    assert page.status_code == 200
    assert "maintainers" in page.text and "dave" in page.text
    assert "Compliance controls" in page.text
    assert len(fake_github.calls("GET", r"/pulls/2$")) == 1  # read live from the forge
    wrong = requests.get(local.replace("?t=", "?t=0"), timeout=10)
    assert wrong.status_code == 404


def test_file_list_capped_at_3000_is_said(
    running_bot: RunningBot, fake_github: FakeGitHub, pull: PullData
) -> None:
    pull.files = [file_entry(f"gen/f{i}.txt", ["x"]) for i in range(3000)]
    pull.changed_files = 3100
    forge = running_bot.runtime.forge("github")
    snapshot = forge.snapshot(PullRequestRef("github", "Codertocat", "Hello-World", 2, 1))
    assert len(snapshot.change.files) == 3000 and snapshot.change.files_truncated
    assert any("3000" in note for note in snapshot.change.notes)
    pages = fake_github.calls("GET", r"/pulls/2/files$")
    assert len(pages) == 30 and pages[0].query["per_page"] == ["100"]
