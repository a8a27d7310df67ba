"""A worker process killed mid-job (SIGKILL) loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from github_fake import FakeGitHub, PullData, RunningBot, commit_entry, file_entry, fixture_payload

from gitops_health.bot.models import Delivery


@pytest.fixture
def start_worker(bot_env: dict[str, str]) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        env = {**os.environ, **bot_env}
        command = [sys.executable, "-m", "gitops_health", "bot", "worker", "--workers", "1"]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_killed_worker_is_resumed_and_the_pr_gets_one_comment(
    running_bot: RunningBot, fake_github: FakeGitHub, start_worker: object
) -> None:
    fake_github.add_pull(
        PullData(
            2,
            head_sha="e" * 40,
            base_sha="b" * 40,
            files=[file_entry("a.py", ["x = 1"])],
            commits=[commit_entry("e" * 40, "feat: x")],
        )
    )
    fake_github.hold_pattern = r"^POST .*/check-runs$"  # the job stops after the comment
    answer = running_bot.post(
        "github", "pull_request", fixture_payload("pull_request.opened.payload.json")
    )
    assert answer.json()["status"] == "queued"

    first = start_worker()  # type: ignore[operator]
    assert fake_github.held.wait(60), "the worker never reached the check run"
    assert len(fake_github.calls("POST", r"/issues/2/comments$")) == 1
    first.send_signal(signal.SIGKILL)
    first.wait()
    fake_github.hold_pattern = ""
    fake_github.release.set()

    store = running_bot.runtime.store
    with store.sessions() as session:
        assert session.query(Delivery).one().status == "running"  # held by the dead worker

    start_worker()  # type: ignore[operator]

    def finished() -> bool:
        with store.sessions() as session:
            return session.query(Delivery).one().status == "done"

    wait_until(finished)
    assert len(fake_github.calls("POST", r"/issues/2/comments$")) == 1
    assert len(fake_github.comments) == 1
    assert len(fake_github.calls("PATCH", r"/issues/comments/")) == 1  # the resumed job edited it
