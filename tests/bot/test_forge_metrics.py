"""Every forge API request is counted in `GET /metrics`, with the rate limit the forge reports."""

from __future__ import annotations

from collections import Counter

import pytest
import requests
from bitbucket_fakes import FakeBitbucketCloud, FakeBitbucketServer, make_report, serve
from github_fake import (
    FakeGitHub,
    PullData,
    Recorded,
    RunningBot,
    commit_entry,
    file_entry,
    fixture_payload,
)
from prometheus_client.parser import text_string_to_metric_families

from gitops_health.bot.forges.base import PullRequestRef
from gitops_health.bot.forges.bitbucket_cloud import BitbucketCloudForge
from gitops_health.bot.forges.bitbucket_common import RetryPolicy
from gitops_health.bot.forges.bitbucket_server import BitbucketServerForge

CALLS = "gitops_health_forge_api_calls_total"
REMAINING = "gitops_health_forge_rate_limit_remaining"
Calls = Counter[tuple[str, str]]


def scrape(bot: RunningBot) -> tuple[dict[str, Calls], dict[str, float]]:
    """Calls by forge → (method, status), and the remaining rate limit by forge."""
    text = requests.get(f"{bot.url}/metrics", timeout=10).text
    calls: dict[str, Calls] = {}
    remaining: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == CALLS:
                key = (labels["method"], labels["status"])
                calls.setdefault(labels["forge"], Counter())[key] += int(sample.value)
            elif sample.name == REMAINING:
                remaining[labels["forge"]] = sample.value
    return calls, remaining


def made(before: dict[str, Calls], after: dict[str, Calls], forge: str) -> Calls:
    return after.get(forge, Counter()) - before.get(forge, Counter())


def answered(requests_log: list[Recorded]) -> Calls:
    return Counter((r.method, str(r.status)) for r in requests_log)


@pytest.fixture
def pull(fake_github: FakeGitHub) -> PullData:
    head = "f" * 40
    return fake_github.add_pull(
        PullData(
            2,
            head_sha=head,
            base_sha="b" * 40,
            files=[file_entry("src/app.py", ["print('hello')"])],
            commits=[commit_entry(head, "feat: say hello")],
        )
    )


def test_github_calls_retries_and_304s_are_counted(
    running_bot: RunningBot, fake_github: FakeGitHub, pull: PullData
) -> None:
    fake_github.fail("GET", r"/pulls/2/reviews$", 502)  # retried underneath PyGithub
    before, _ = scrape(running_bot)
    for fixture, event in [
        ("pull_request.opened.payload.json", "pull_request"),
        ("pull_request.synchronize.payload.json", "pull_request"),
        ("pull_request_review.submitted.payload.json", "pull_request_review"),
    ]:
        assert running_bot.post("github", event, fixture_payload(fixture)).status_code == 202
        running_bot.drain()
    after, remaining = scrape(running_bot)

    counted = made(before, after, "github")
    assert counted == answered(fake_github.requests)  # every request, exactly once
    assert counted[("GET", "502")] == 1
    assert counted[("GET", "304")] >= 2
    assert counted[("POST", "201")] >= 3  # the installation token, the comment, check runs
    assert remaining["github"] == 4999  # the fake's X-RateLimit-Remaining


def test_bitbucket_cloud_calls_are_counted_with_redirects_and_retries(
    running_bot: RunningBot,
) -> None:
    fake = FakeBitbucketCloud()
    with serve(fake):
        fake.fail_next("GET", r"/pullrequests/7/commits$", 429, {"Retry-After": "0"})
        forge = BitbucketCloudForge(
            api_url=fake.base_url, token="cloud-token", retry=RetryPolicy(sleep=lambda _: None)
        )
        before, _ = scrape(running_bot)
        ref = PullRequestRef("bitbucket-cloud", "acme", "payments", 7)
        snapshot = forge.snapshot(ref)
        forge.publish(ref, make_report(snapshot.change.head_sha), "https://bot.example/pr")
        after, _ = scrape(running_bot)

    counted = made(before, after, "bitbucket-cloud")
    assert sum(counted.values()) == len(fake.requests)
    assert counted[("PUT", "200")] == 1  # the Code Insights report
    assert counted[("GET", "429")] == 1
    assert counted[("GET", "302")] == 1  # /diff answers with a redirect, followed


def test_bitbucket_data_center_reports_its_rate_limit(running_bot: RunningBot) -> None:
    fake = FakeBitbucketServer()
    fake.extra_headers["X-RateLimit-Remaining"] = "37"  # DC with rate limiting turned on
    with serve(fake):
        forge = BitbucketServerForge(url=fake.base_url, token="server-token")
        before, _ = scrape(running_bot)
        forge.snapshot(PullRequestRef("bitbucket-server", "AT", "atlantis-example", 3))
        after, remaining = scrape(running_bot)

    counted = made(before, after, "bitbucket-server")
    assert sum(counted.values()) == len(fake.requests)
    assert set(counted) <= {("GET", "200"), ("GET", "404")}
    assert remaining["bitbucket-server"] == 37
