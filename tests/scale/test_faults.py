"""Faults on the whole path, caused for real: the database refusing connections, Redis killed
and restarted empty, and a forge answering 429/403 with Retry-After and 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from fleet import (
    Fleet,
    PrivateRedis,
    add_pulls,
    all_finished,
    delivery_rows,
    pr_payload,
    refusing_connections,
    run_due_retries,
    wait_until,
)
from github_fake import FakeGitHub, RunningBot

from gitops_health.bot.runtime import MAX_ATTEMPTS


@pytest.fixture
def bots() -> Iterator[list[RunningBot]]:
    """Bots started in this process by the test (`bots.append(RunningBot.start(...))`)."""
    started: list[RunningBot] = []
    yield started
    for bot in started:
        bot.stop()


def start_bot(bots: list[RunningBot], env: dict[str, str], fake: FakeGitHub) -> RunningBot:
    bot = RunningBot.start(env, fake)
    bots.append(bot)
    return bot


def readiness(bot: RunningBot) -> tuple[int, str]:
    answer = requests.get(f"{bot.url}/readyz", timeout=10)
    return answer.status_code, " ".join(answer.json().get("problems", []))


@pytest.mark.scale
def test_database_outage_answers_503_and_the_redelivery_is_processed_once(
    github_env: dict[str, str], postgres_url: str, fake_github: FakeGitHub, bots: list[RunningBot]
) -> None:
    add_pulls(fake_github, range(51, 52))
    bot = start_bot(bots, {**github_env, "GITOPS_HEALTH_DATABASE_URL": postgres_url}, fake_github)
    with refusing_connections(postgres_url):
        answer = bot.post("github", "pull_request", pr_payload(51), delivery="outage")
        assert answer.status_code == 503, answer.text  # the forge will redeliver
        assert "database unavailable" in answer.json()["error"]
        status, problems = readiness(bot)
        assert status == 503 and "database" in problems
    assert delivery_rows(bot.runtime.engine) == []  # nothing half-written
    assert bot.runtime.huey.pending_count() == 0
    assert readiness(bot)[0] == 200

    answer = bot.post("github", "pull_request", pr_payload(51), delivery="outage")
    assert answer.json()["status"] == "queued"
    assert bot.drain() == 1
    again = bot.post("github", "pull_request", pr_payload(51), delivery="outage")
    assert again.json()["status"] == "duplicate"
    (row,) = delivery_rows(bot.runtime.engine)
    assert (row.status, row.attempts) == ("done", 1)
    assert len(fake_github.comments) == 1 and len(fake_github.check_runs) == 1


@pytest.mark.scale
def test_redis_restart_loses_no_accepted_delivery(
    github_env: dict[str, str],
    fake_github: FakeGitHub,
    fleet: Fleet,
    bots: list[RunningBot],
    private_redis: PrivateRedis,
) -> None:
    redis = private_redis
    env = {**github_env, "GITOPS_HEALTH_QUEUE_URL": redis.url}
    bot = start_bot(bots, env, fake_github)
    add_pulls(fake_github, range(41, 44))
    for number in (41, 42):
        assert bot.post("github", "pull_request", pr_payload(number)).json()["status"] == "queued"
    assert bot.runtime.huey.pending_count() == 2

    redis.kill()
    status, problems = readiness(bot)
    assert status == 503 and "queue" in problems
    answer = bot.post("github", "pull_request", pr_payload(43))
    assert answer.json()["status"] == "queued"  # recorded; the recovery sweep will enqueue it
    redis.start()
    assert readiness(bot)[0] == 200
    assert bot.runtime.huey.pending_count() == 0  # the queued messages died with Redis

    fleet.env = env
    fleet.workers(1)  # its start-up recovery sweep re-enqueues from the delivery table
    wait_until(lambda: all_finished(bot.runtime.engine, 3), what="every accepted delivery")
    assert {(r.status, r.attempts) for r in delivery_rows(bot.runtime.engine)} == {("done", 1)}
    assert sorted(c["issue"] for c in fake_github.comments.values()) == [41, 42, 43]


def test_rate_limits_and_5xx_on_the_whole_path_end_in_one_comment(
    github_env: dict[str, str], fake_github: FakeGitHub, bots: list[RunningBot]
) -> None:
    add_pulls(fake_github, range(61, 62))
    bot = start_bot(bots, github_env, fake_github)
    fake_github.fail("GET", r"/pulls/61$", 429, **{"Retry-After": "1"})
    fake_github.fail("GET", r"/pulls/61/files$", 502)
    fake_github.fail("GET", r"/issues/61/comments$", 403, **{"Retry-After": "1"})
    fake_github.fail("POST", r"/check-runs$", 502)  # after the comment: the job fails
    assert bot.post("github", "pull_request", pr_payload(61)).json()["status"] == "queued"
    bot.drain()
    (row,) = delivery_rows(bot.runtime.engine)
    assert (row.status, row.attempts) == ("queued", 1) and "HTTP 502" in row.error
    assert len(fake_github.comments) == 1 and not fake_github.check_runs

    assert run_due_retries(bot.runtime.huey) == 1  # the retry, as if its delay had passed
    (row,) = delivery_rows(bot.runtime.engine)
    assert (row.status, row.attempts) == ("done", 2)
    assert len(fake_github.calls("POST", r"/issues/61/comments$")) == 1
    assert len(fake_github.calls("PATCH", r"/issues/comments/")) == 1  # edited, not re-posted
    (run,) = fake_github.check_runs.values()
    assert run["conclusion"] != "failure"
    assert bot.runtime.audit.length() == 1  # the failed attempt published no verdict


def test_forge_down_for_good_ends_in_an_error_check_after_the_last_attempt(
    github_env: dict[str, str], fake_github: FakeGitHub, bots: list[RunningBot]
) -> None:
    add_pulls(fake_github, range(62, 63))
    env = {**github_env, "GITOPS_HEALTH_GITHUB_RETRY_BACKOFF": "0.01"}
    bot = start_bot(bots, env, fake_github)
    fake_github.fail("GET", r"/pulls/62/files$", 503, times=10**6)
    assert bot.post("github", "pull_request", pr_payload(62)).json()["status"] == "queued"
    bot.drain()
    while run_due_retries(bot.runtime.huey):
        pass
    (row,) = delivery_rows(bot.runtime.engine)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    (run,) = fake_github.check_runs.values()
    assert run["conclusion"] == "failure" and "HTTP 503" in run["output"]["summary"]
    assert not fake_github.comments and bot.runtime.audit.length() == 0
