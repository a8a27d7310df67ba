"""Fixtures of the bot tests: the fake GitHub, an App key, and a bot serving on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github_fake import WEBHOOK_SECRET, FakeGitHub, RunningBot
from werkzeug.serving import make_server


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    fake.thread.start()
    yield fake
    fake.release.set()
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture(scope="session")
def app_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def bot_env(tmp_path: Path, fake_github: FakeGitHub, app_private_key: str) -> dict[str, str]:
    """Environment of a bot in App mode against the fake GitHub, with fast throttling."""
    return {
        "GITOPS_HEALTH_DATA_DIR": str(tmp_path / "data"),
        "GITOPS_HEALTH_GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GITOPS_HEALTH_GITHUB_APP_ID": "1",
        "GITOPS_HEALTH_GITHUB_PRIVATE_KEY": app_private_key,
        "GITOPS_HEALTH_GITHUB_API_URL": fake_github.api,
        "GITOPS_HEALTH_GITHUB_SECONDS_BETWEEN_REQUESTS": "0",
        "GITOPS_HEALTH_GITHUB_SECONDS_BETWEEN_WRITES": "0",
        "GITOPS_HEALTH_GITHUB_SECONDARY_RATE_WAIT": "0.2",
        "GITOPS_HEALTH_GITHUB_RETRY_BACKOFF": "0.05",
        "GITOPS_HEALTH_PUBLIC_URL": "https://bot.example.test",
        "GITOPS_HEALTH_BITBUCKET_CLOUD_WEBHOOK_SECRET": "cloud-secret",
        "GITOPS_HEALTH_BITBUCKET_CLOUD_TOKEN": "cloud-token",
        "GITOPS_HEALTH_BITBUCKET_CLOUD_API_URL": f"{fake_github.base}/bitbucket-cloud",
        "GITOPS_HEALTH_BITBUCKET_SERVER_WEBHOOK_SECRET": "server-secret",
        "GITOPS_HEALTH_BITBUCKET_SERVER_URL": f"{fake_github.base}/bitbucket-server",
        "GITOPS_HEALTH_BITBUCKET_SERVER_TOKEN": "server-token",
    }


@pytest.fixture
def running_bot(bot_env: dict[str, str], fake_github: FakeGitHub) -> Iterator[RunningBot]:
    from gitops_health.bot import runtime as runtime_module
    from gitops_health.bot.app import create_app
    from gitops_health.bot.settings import Settings

    runtime = runtime_module.start(Settings.from_env(bot_env))
    server = make_server("127.0.0.1", 0, create_app(runtime=runtime), threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield RunningBot(f"http://127.0.0.1:{server.port}", runtime, fake_github)
    server.shutdown()
    runtime.engine.dispose()
