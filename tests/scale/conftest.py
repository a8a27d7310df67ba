"""Fixtures of the scale and fault tests: the fake GitHub, the bot's environment, processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet import Fleet, PrivateRedis
from github_fake import FakeGitHub, new_app_key
from huey import RedisHuey
from testkit import require_binary


@pytest.fixture(scope="session")
def app_private_key() -> str:
    return new_app_key()


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def github_env(tmp_path: Path, fake_github: FakeGitHub, app_private_key: str) -> dict[str, str]:
    """A bot on its own data directory (SQLite database and queue) in App mode."""
    return {
        "GITOPS_HEALTH_DATA_DIR": str(tmp_path / "data"),
        **fake_github.app_env(app_private_key),
    }


@pytest.fixture
def scale_env(
    github_env: dict[str, str], postgres_url: str, redis_url: str
) -> Iterator[dict[str, str]]:
    """The same bot on the shared PostgreSQL and Redis, with a queue of its own."""
    queue = f"gh-test-{uuid.uuid4().hex[:12]}"
    yield {
        **github_env,
        "GITOPS_HEALTH_DATABASE_URL": postgres_url,
        "GITOPS_HEALTH_QUEUE_URL": redis_url,
        "GITOPS_HEALTH_QUEUE_NAME": queue,
    }
    RedisHuey(queue, url=redis_url).flush()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    """Start bot processes with `fleet.env` set first; they are all stopped afterwards."""
    logs = tmp_path / "logs"
    logs.mkdir()
    started = Fleet({}, logs)
    yield started
    started.stop()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own (never the shared one), killed at the end."""
    server = PrivateRedis(require_binary("redis-server"), tmp_path)
    server.start()
    yield server
    server.kill()
