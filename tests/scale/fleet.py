"""Helpers of the scale and fault tests: bot processes, deliveries for many PRs, waiting.

A `Fleet` is one deployment of the bot as its users run it for scale: `gitops-health bot
serve --no-worker` web processes and `gitops-health bot worker` processes, each a real
subprocess sharing the database and the queue named in its environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
import requests
import sqlalchemy as sa
from github_fake import FakeGitHub, PullData, commit_entry, file_entry, fixture_payload
from huey import Huey
from testkit import free_port

from gitops_health.bot.models import Delivery


def wait_until(condition: Callable[[], Any], timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
        time.sleep(0.05)


def responds(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@dataclass
class Fleet:
    """Bot processes started by one test, all killed at its end."""

    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = self.logs / f"{args[0]}-{len(self.processes)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "gitops_health", "bot", *args],
                env={**os.environ, **self.env},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def web(self) -> str:
        """A web process without a worker; its base URL once it answers /healthz."""
        port = free_port()
        process = self.start("serve", "--no-worker", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: responds(f"{url}/healthz") or process.poll() is not None, what="web")
        assert process.poll() is None, self.log_of(process)
        return url

    def workers(self, count: int, threads: int = 1) -> list[subprocess.Popen[bytes]]:
        return [self.start("worker", "--workers", str(threads)) for _ in range(count)]

    def log_of(self, process: subprocess.Popen[bytes]) -> str:
        index = self.processes.index(process)
        (log,) = self.logs.glob(f"*-{index}.log")
        return log.read_text(errors="replace")

    def stop(self) -> None:
        """SIGKILL: the test is over, and nothing they could still write matters."""
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait()


def add_pulls(fake: FakeGitHub, numbers: range) -> None:
    """Open PRs with one file and one signed commit each, heads distinct per PR."""
    for number in numbers:
        head = f"{number:x}".rjust(40, "e")
        fake.add_pull(
            PullData(
                number,
                head_sha=head,
                base_sha="b" * 40,
                files=[file_entry(f"src/mod{number}.py", [f"VALUE = {number}"])],
                commits=[commit_entry(head, f"feat: module {number}")],
            )
        )


def pr_payload(number: int, action: str = "opened") -> dict[str, Any]:
    """The captured `pull_request` payload, retargeted at PR `number`."""
    payload = fixture_payload("pull_request.opened.payload.json")
    payload["action"] = action
    payload["number"] = payload["pull_request"]["number"] = number
    return payload


def delivery_rows(engine: sa.Engine) -> list[Delivery]:
    with sa.orm.Session(engine) as session:
        return list(session.scalars(sa.select(Delivery).order_by(Delivery.id)))


def all_finished(engine: sa.Engine, expected: int) -> bool:
    rows = delivery_rows(engine)
    return len(rows) == expected and all(row.status in ("done", "failed") for row in rows)


@dataclass
class PrivateRedis:
    """A redis-server of the test's own on a free port, without persistence: a restart
    empties it, the worst case for messages queued before the restart."""

    binary: str
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        options += ["--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(
            [self.binary, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until(self.answers, timeout=20, what="redis-server")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False


@contextmanager
def refusing_connections(database_url: str) -> Iterator[None]:
    """The bot's PostgreSQL database refuses connections and drops the open ones, for real."""
    name = sa.make_url(database_url).database
    admin = sa.create_engine(
        sa.make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
    with admin.connect() as connection:
        connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(sa.text(terminate), {"name": name})
    try:
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def run_due_retries(huey: Huey) -> int:
    """Run the scheduled retries now, as the consumer would once their delay has passed."""
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)  # huey's naive UTC
    tasks = []
    while (task := huey.dequeue()) is not None:  # a retry is queued with its ETA first
        tasks.append(task)
    tasks += huey.read_schedule(later)
    for task in tasks:
        huey.execute(task, timestamp=later)
    return len(tasks)
