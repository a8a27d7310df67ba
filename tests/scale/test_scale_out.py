"""The whole path scaled out: a web process and three worker processes on the real PostgreSQL
and Redis, a burst of signed deliveries for several PRs, redeliveries sent again and at once."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from fleet import Fleet, add_pulls, all_finished, delivery_rows, pr_payload, wait_until
from github_fake import OWNER, REPO, FakeGitHub, RunningBot

from gitops_health.bot.runtime import Runtime
from gitops_health.bot.settings import Settings
from gitops_health.bot.store import Target

pytestmark = pytest.mark.scale

PULLS = range(11, 15)
ACTIONS = ("opened", "synchronize", "edited", "ready_for_review")


@pytest.fixture
def runtime(scale_env: dict[str, str]) -> Iterator[Runtime]:
    """The bot's runtime in the test process, to record and enqueue deliveries directly."""
    runtime = Runtime(Settings.from_env(scale_env))
    runtime.migrate()
    yield runtime
    runtime.engine.dispose()


def send_all(bot: RunningBot, deliveries: list[tuple[int, str, str]]) -> list[tuple[str, str]]:
    """POST every delivery from 8 threads; (delivery id, answer status) for each."""

    def send(item: tuple[int, str, str]) -> tuple[str, str]:
        number, action, delivery = item
        answer = bot.post("github", "pull_request", pr_payload(number, action), delivery=delivery)
        assert answer.status_code == 202, answer.text
        return delivery, answer.json()["status"]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(send, deliveries))


def test_burst_with_redeliveries_is_processed_once_per_delivery(
    scale_env: dict[str, str], fake_github: FakeGitHub, fleet: Fleet, runtime: Runtime
) -> None:
    add_pulls(fake_github, PULLS)
    fleet.env = scale_env
    bot = RunningBot(fleet.web(), None, fake_github)
    fleet.workers(3, threads=2)
    unique = [(n, action, f"scale-{n}-{action}") for action in ACTIONS for n in PULLS]
    twice_at_once = [item for item in unique for _ in range(2)]  # neighbours run together

    answers = send_all(bot, twice_at_once)
    per_delivery = {d: Counter(s for i, s in answers if i == d) for d, _ in answers}
    assert all(c == Counter(queued=1, duplicate=1) for c in per_delivery.values()), per_delivery
    wait_until(lambda: all_finished(runtime.engine, len(unique)), what="every delivery processed")
    assert {s for _, s in send_all(bot, unique)} == {"duplicate"}  # the forge retries later

    rows = delivery_rows(runtime.engine)
    assert sorted(r.delivery_id for r in rows) == sorted(d for *_, d in unique)
    assert {(r.status, r.attempts) for r in rows} == {("done", 1)}
    for number in PULLS:
        (comment_id,) = [i for i, c in fake_github.comments.items() if c["issue"] == number]
        assert len(fake_github.calls("POST", rf"/issues/{number}/comments$")) == 1
        edits = fake_github.calls("PATCH", rf"/issues/comments/{comment_id}$")
        assert len(edits) == len(ACTIONS) - 1  # one sticky comment, edited in place
    assert len(fake_github.check_runs) == len(unique)  # one check run per evaluation
    assert runtime.audit.verify() == []
    entries = runtime.audit.entries()
    triggers = Counter(json.loads(e["body"])["trigger"]["delivery"] for e in entries)
    assert triggers == Counter(d for *_, d in unique)  # one audit entry per evaluation


def record(runtime: Runtime, delivery: str, number: int) -> int:
    target = Target("github", OWNER, REPO, number, installation_id=42)
    pk = runtime.store.record_delivery("github", delivery, "pull_request", "opened", "", (target,))
    assert pk is not None
    return pk


def test_one_delivery_queued_twice_runs_on_one_of_two_workers(
    scale_env: dict[str, str], fake_github: FakeGitHub, fleet: Fleet, runtime: Runtime
) -> None:
    """Two queue messages for one delivery (a redelivery racing a recovery sweep), taken at
    the same moment by two worker processes: the delivery row's claim lets one through."""
    add_pulls(fake_github, range(21, 22))
    pk = record(runtime, "twice", 21)
    fake_github.hold_pattern = r"^GET .*/pulls/21$"  # the first worker stops inside the job
    runtime.enqueue(pk)
    runtime.enqueue(pk)
    fleet.env = scale_env
    workers = fleet.workers(2)
    assert fake_github.held.wait(60), "no worker started the job"
    wait_until(lambda: runtime.huey.pending_count() == 0, what="both messages taken")
    no_op = re.compile(r"process_delivery: \S+ executed in")  # while the other is held
    wait_until(lambda: no_op.search("".join(map(fleet.log_of, workers))), what="the no-op")
    fake_github.release.set()
    wait_until(lambda: all_finished(runtime.engine, 1), what="the delivery to finish")
    (row,) = delivery_rows(runtime.engine)
    assert (row.status, row.attempts) == ("done", 1)
    assert len(fake_github.check_runs) == 1 and len(fake_github.comments) == 1
    assert runtime.audit.length() == 1


def test_two_deliveries_for_one_pr_on_two_workers_make_one_comment(
    scale_env: dict[str, str], fake_github: FakeGitHub, fleet: Fleet, runtime: Runtime
) -> None:
    """The second job waits for the first (a per-PR lock) instead of also finding no sticky
    comment and creating a second one."""
    add_pulls(fake_github, range(31, 32))
    fake_github.hold_pattern = r"^POST .*/issues/31/comments$"
    for delivery in ("first", "second"):
        runtime.enqueue(record(runtime, delivery, 31))
    fleet.env = scale_env
    fleet.workers(2)
    assert fake_github.held.wait(60), "no worker reached the comment"
    posts = r"/issues/31/comments$"
    wait_until(
        lambda: (
            waiting_for_advisory_lock(runtime.engine) or len(fake_github.calls("POST", posts)) > 1
        ),
        what="the second job to wait for the first",
    )
    assert len(fake_github.calls("POST", posts)) == 1
    fake_github.release.set()
    wait_until(lambda: all_finished(runtime.engine, 2), what="both deliveries to finish")
    assert len(fake_github.comments) == 1
    assert len(fake_github.calls("PATCH", r"/issues/comments/")) == 1
    assert len(fake_github.check_runs) == 2 and runtime.audit.length() == 2


def waiting_for_advisory_lock(engine: sa.Engine) -> bool:
    query = (
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        " WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
    )
    with engine.connect() as connection:
        return bool(connection.execute(sa.text(query)).scalar())
