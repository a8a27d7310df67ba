"""Conditional requests of the GitHub adapter against the local GitHub (ETag → 304)."""

from __future__ import annotations

import pytest
import requests
from github_fake import (
    FakeGitHub,
    PullData,
    Recorded,
    RunningBot,
    commit_entry,
    file_entry,
    fixture_payload,
)

from gitops_health.bot.forges.base import PullRequestRef
from gitops_health.bot.forges.github import ConditionalCache, GitHubForge, KeptAnswer

HEAD, BASE = "c" * 40, "b" * 40
REF = PullRequestRef("github", "Codertocat", "Hello-World", 2)


@pytest.fixture
def pull(fake_github: FakeGitHub) -> PullData:
    fake_github.contents[(BASE, ".gitops-health.yml")] = "extends: [sox]\n"
    return fake_github.add_pull(
        PullData(
            2,
            head_sha=HEAD,
            base_sha=BASE,
            files=[file_entry(f"src/m{i}.py", [f"x = {i}"]) for i in range(150)],  # 2 pages
            commits=[commit_entry(HEAD, "feat: add modules")],
        )
    )


def deliver(bot: RunningBot, fixture: str, event: str) -> list[Recorded]:
    """Deliver one event, run it, and return the forge requests it cost."""
    before = len(bot.fake.requests)
    answer = bot.post("github", event, fixture_payload(fixture))
    assert answer.status_code == 202, answer.text
    assert bot.drain() >= 1
    return list(bot.fake.requests[before:])


def test_unchanged_pr_is_read_again_with_304s_and_fewer_calls(
    running_bot: RunningBot, fake_github: FakeGitHub, pull: PullData
) -> None:
    first = deliver(running_bot, "pull_request.opened.payload.json", "pull_request")
    deliver(running_bot, "pull_request.synchronize.payload.json", "pull_request")  # sees our label
    second = deliver(
        running_bot, "pull_request_review.submitted.payload.json", "pull_request_review"
    )

    reads = [r for r in second if r.method == "GET"]
    assert reads, "the second event must re-read the PR"
    assert all("if-none-match" in r.headers for r in reads)
    assert {(r.path, r.status) for r in reads} >= {
        ("/repos/Codertocat/Hello-World/pulls/2", 304),
        ("/repos/Codertocat/Hello-World/pulls/2/reviews", 304),
    }
    # files and commits are fixed by the (base, head) SHAs: parsed once, not even re-validated
    assert not [r for r in reads if r.path.endswith(("/files", "/commits"))]
    assert len(second) < len(first) // 3
    (run, *_) = fake_github.check_runs.values()
    assert run["head_sha"] == HEAD  # the replayed answers still evaluate the same PR


def test_a_changed_pr_gets_a_full_answer(
    fake_github: FakeGitHub, pull: PullData, running_bot: RunningBot
) -> None:
    forge = GitHubForge.from_settings(running_bot.runtime.settings, running_bot.runtime.store)
    assert forge.snapshot(REF).change.title == pull.title
    pull.title = "feat: a better greeting"
    pull.files = pull.files[:3]
    pull.head_sha = "d" * 40
    pull.commits = [commit_entry(pull.head_sha, "feat: fewer modules")]

    change = forge.snapshot(REF).change

    assert (change.title, change.head_sha, len(change.files)) == (pull.title, "d" * 40, 3)
    pr_reads = fake_github.calls("GET", r"/pulls/2$")
    assert [r.status for r in pr_reads] == [200, 200]
    assert "if-none-match" in pr_reads[1].headers  # asked conditionally, answered in full


def test_the_cache_is_bounded_by_body_bytes() -> None:
    cache = ConditionalCache(max_bytes=1000)
    for index in range(20):
        cache.put(("42", f"/r/{index}"), KeptAnswer({"ETag": f'"{index}"'}, b"x" * 100, "utf-8"))
    kept = [index for index in range(20) if cache.get(("42", f"/r/{index}")) is not None]
    assert kept == list(range(10, 20))  # the least recently used went first
    cache.put(("42", "/huge"), KeptAnswer({"ETag": '"h"'}, b"x" * 900, "utf-8"))
    assert cache.get(("42", "/huge")) is None  # one answer may not crowd out the others


def test_answers_without_validators_are_not_kept() -> None:
    response = requests.Response()
    response.status_code, response._content = 200, b"{}"
    assert KeptAnswer.of(response) is None
    response.headers["Last-Modified"] = "Mon, 23 Nov 2026 12:00:00 GMT"
    kept = KeptAnswer.of(response)
    assert kept is not None
    assert kept.validators() == {"If-Modified-Since": "Mon, 23 Nov 2026 12:00:00 GMT"}
