"""`gitops_health_queue_oldest_age_seconds`: how long the oldest accepted delivery has waited."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from testkit import FIXTURES

from gitops_health.bot.app import create_app
from gitops_health.bot.models import Delivery, DeliveryStatus, utcnow
from gitops_health.bot.runtime import Runtime, start
from gitops_health.bot.settings import Settings

SECRET = "queue-age-secret"
GAUGE = re.compile(r"^gitops_health_queue_oldest_age_seconds (\S+)$", re.MULTILINE)


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Runtime:
    env = {
        "GITOPS_HEALTH_DATA_DIR": str(tmp_path),
        "GITOPS_HEALTH_GITHUB_WEBHOOK_SECRET": SECRET,
        "GITOPS_HEALTH_GITHUB_TOKEN": "queue-age-token",
    }
    if request.param == "postgresql":
        env["GITOPS_HEALTH_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    started = start(Settings.from_env(env))
    request.addfinalizer(started.engine.dispose)
    return started


def oldest_age(client: FlaskClient) -> float:
    match = GAUGE.search(client.get("/metrics").get_data(as_text=True))
    assert match, "the gauge is missing from /metrics"
    return float(match.group(1))


def deliver(client: FlaskClient, delivery: str) -> None:
    payload = json.loads((FIXTURES / "github" / "pull_request.opened.payload.json").read_text())
    body = json.dumps(payload.get("payload", payload)).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature,
    }
    answer = client.post("/webhooks/github", data=body, headers=headers)
    assert answer.get_json()["status"] == "queued"


def backdate(runtime: Runtime, delivery: str, seconds: float) -> int:
    with runtime.store.sessions() as session, session.begin():
        row = session.query(Delivery).filter_by(delivery_id=delivery).one()
        row.received_at = utcnow() - timedelta(seconds=seconds)
        return row.id


def test_the_age_of_the_oldest_unfinished_delivery_is_scraped(runtime: Runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    assert oldest_age(client) == 0.0  # nothing waits

    deliver(client, "older")
    deliver(client, "newer")
    assert 0.0 <= oldest_age(client) < 60
    older = backdate(runtime, "older", 300)
    newer = backdate(runtime, "newer", 120)
    assert 300 <= oldest_age(client) < 360

    claimed = runtime.store.claim(older, lease_seconds=600)
    assert claimed is not None
    assert 300 <= oldest_age(client) < 360  # running is not finished
    runtime.store.finish(older, DeliveryStatus.DONE)
    assert 120 <= oldest_age(client) < 180  # now the newer one is the oldest waiting

    runtime.store.claim(newer, lease_seconds=600)
    runtime.store.finish(newer, DeliveryStatus.FAILED, "gone")
    assert oldest_age(client) == 0.0
