"""Fixtures of the bot tests: the fake GitHub, an App key, and a bot serving on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from github_fake import FakeGitHub, RunningBot, new_app_key


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture(scope="session")
def app_private_key() -> str:
    return new_app_key()


@pytest.fixture
def bot_env(tmp_path: Path, fake_github: FakeGitHub, app_private_key: str) -> dict[str, str]:
    """Environment of a bot in App mode against the fake GitHub, with fast throttling."""
    return {
        "GITOPS_HEALTH_DATA_DIR": str(tmp_path / "data"),
        **fake_github.app_env(app_private_key),
        "GITOPS_HEALTH_BITBUCKET_CLOUD_WEBHOOK_SECRET": "cloud-secret",
        "GITOPS_HEALTH_BITBUCKET_CLOUD_TOKEN": "cloud-token",
        "GITOPS_HEALTH_BITBUCKET_CLOUD_API_URL": f"{fake_github.base}/bitbucket-cloud",
        "GITOPS_HEALTH_BITBUCKET_SERVER_WEBHOOK_SECRET": "server-secret",
        "GITOPS_HEALTH_BITBUCKET_SERVER_URL": f"{fake_github.base}/bitbucket-server",
        "GITOPS_HEALTH_BITBUCKET_SERVER_TOKEN": "server-token",
    }


@pytest.fixture
def running_bot(bot_env: dict[str, str], fake_github: FakeGitHub) -> Iterator[RunningBot]:
    bot = RunningBot.start(bot_env, fake_github)
    yield bot
    bot.stop()
