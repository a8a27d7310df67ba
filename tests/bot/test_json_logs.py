"""`gitops-health bot serve` logs JSON lines with the delivery and PR, never a secret or PHI.

The real command runs as a subprocess against the fake GitHub; a PR whose added lines hold a
synthetic SSN and MRN is delivered and evaluated, and its stderr is read back line by line.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from github_fake import (
    INSTALLATION_TOKEN,
    WEBHOOK_SECRET,
    FakeGitHub,
    PullData,
    commit_entry,
    file_entry,
    fixture_payload,
    sign,
)
from testkit import free_port, stop

from gitops_health.rules.phi.corpus import Identities

HEAD, BASE = "e" * 40, "b" * 40
DELIVERY = "json-logs-delivery-1"


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class ServedBot:
    def __init__(self, url: str, stderr: Path) -> None:
        self.url = url
        self.stderr = stderr

    def post(self, event: str, payload: Any, delivery: str) -> requests.Response:
        body = json.dumps(payload).encode()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(WEBHOOK_SECRET, body),
            "Content-Type": "application/json",
        }
        return requests.post(f"{self.url}/webhooks/github", data=body, headers=headers, timeout=10)

    def log_text(self) -> str:
        return self.stderr.read_text(encoding="utf-8")

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_text().splitlines() if line.strip()]


@pytest.fixture
def served_bot(tmp_path: Path, bot_env: dict[str, str]) -> Iterator[ServedBot]:
    """`gitops-health bot serve` with its embedded worker, JSON logs on stderr (the default)."""
    port = free_port()
    stderr = tmp_path / "bot.stderr"
    env = {**os.environ, **bot_env, "GITOPS_HEALTH_PORT": str(port)}
    env.pop("GITOPS_HEALTH_LOG_FORMAT", None)
    command = [sys.executable, "-m", "gitops_health", "bot", "serve"]
    with stderr.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=sink)
    bot = ServedBot(f"http://127.0.0.1:{port}", stderr)
    try:
        wait_for(lambda: _answers(f"{bot.url}/healthz") or process.poll() is not None, "start")
        assert process.poll() is None, bot.log_text()
        yield bot
    finally:
        stop(process)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:  # not listening yet, or still loading the app
        return False


@pytest.fixture
def phi_values(fake_github: FakeGitHub) -> list[str]:
    """PR #2 adds a fixture file holding a synthetic (check-digit valid) SSN and MRN."""
    ids = Identities(random.Random(20261123))
    ssn, mrn = ids.ssn(), ids.mrn()
    added = [f'PATIENT_SSN = "{ssn}"', f'PATIENT_MRN = "{mrn}"  # medical record number']
    fake_github.add_pull(
        PullData(
            2,
            head_sha=HEAD,
            base_sha=BASE,
            files=[file_entry("tests/fixtures/patient.py", added)],
            commits=[commit_entry(HEAD, "test: add a patient fixture")],
        )
    )
    return [ssn, mrn, ssn.replace("-", "")]


def secret_values(bot_env: dict[str, str]) -> list[str]:
    """Every configured secret (each line of the App key too) and the minted install token."""
    secrets = [value for name, value in bot_env.items() if name.endswith(("_SECRET", "_TOKEN"))]
    key_lines = bot_env["GITOPS_HEALTH_GITHUB_PRIVATE_KEY"].splitlines()
    return [
        *secrets,
        *(line for line in key_lines if not line.startswith("-----")),
        INSTALLATION_TOKEN,
    ]


def test_serve_logs_json_with_delivery_and_pr_and_no_secret_or_phi(
    served_bot: ServedBot,
    fake_github: FakeGitHub,
    bot_env: dict[str, str],
    phi_values: list[str],
) -> None:
    opened = fixture_payload("pull_request.opened.payload.json")
    assert served_bot.post("pull_request", opened, DELIVERY).json()["status"] == "queued"
    wait_for(lambda: "evaluated" in served_bot.log_text(), "the evaluation")
    (comment,) = fake_github.comments.values()
    assert "SSN" in comment["body"] and not any(value in comment["body"] for value in phi_values)

    # a sender can put anything into a header: secrets in it are masked too
    secrets = secret_values(bot_env)
    key_line = next(line for line in secrets if len(line) == 64)
    for delivery in ("cloud-token", key_line, f"x-{WEBHOOK_SECRET}-y"):
        served_bot.post("star", {"action": "created"}, delivery)
    check_run = next(iter(fake_github.check_runs.values()))
    details = requests.get(check_run["details_url"].replace(
        "https://bot.example.test", served_bot.url), timeout=30)  # fmt: skip
    assert details.status_code == 200

    time.sleep(0.5)  # the access-log line of the last request
    text = served_bot.log_text()
    lines = served_bot.log_lines()  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    assert "\x1b[" not in "".join(line["message"] for line in lines)  # no terminal colours

    about_delivery = [line for line in lines if line.get("delivery") == DELIVERY]
    assert {line["logger"] for line in about_delivery} >= {
        "gitops_health.bot.app",
        "gitops_health.bot.worker",
    }
    for line in about_delivery:
        assert (line["forge"], line["event"]) == ("github", "pull_request.opened"), line
        assert (line["repo"], line["pr"]) == ("Codertocat/Hello-World", "2"), line
    (evaluated,) = [line for line in about_delivery if "evaluated" in line["message"]]
    assert evaluated["findings"]  # counted by type, e.g. {"US_SSN": 1}

    for secret in secrets:
        assert secret not in text, f"a configured secret leaked into the log: {secret[:4]}…"
    assert details.url.split("t=")[1] not in text  # the details-page token
    assert sum("***" in line.get("delivery", "") for line in lines) == 3
    for value in phi_values:
        assert value not in text, "a PHI value reached the log"


def test_gunicorn_workers_log_json_too(tmp_path: Path, bot_env: dict[str, str]) -> None:
    """`gunicorn 'gitops_health.bot.app:wsgi()'` as the Dockerfile runs it: once the app is
    loaded, its lines and gunicorn's access lines are JSON, and link tokens are masked."""
    port = free_port()
    stderr, stdout = tmp_path / "gunicorn.stderr", tmp_path / "gunicorn.stdout"
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-"]
    env = {**os.environ, **bot_env}
    with stderr.open("wb") as errors, stdout.open("wb") as output:
        process = subprocess.Popen(
            [*command, "gitops_health.bot.app:wsgi()"], env=env, stdout=output, stderr=errors
        )
    bot = ServedBot(f"http://127.0.0.1:{port}", stderr)
    try:
        wait_for(lambda: _answers(f"{bot.url}/healthz") or process.poll() is not None, "start")
        assert process.poll() is None, bot.log_text()
        assert bot.post("pull_request", {"action": "opened"}, "gunicorn-1").status_code == 400
        token = "0123456789abcdef" * 2
        requests.get(f"{bot.url}/pr/github/Codertocat/Hello-World/2?t={token}", timeout=10)
        time.sleep(0.5)
    finally:
        stop(process)
    text = stderr.read_text() + stdout.read_text()
    app_lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    (answered,) = [line for line in app_lines if line.get("delivery") == "gunicorn-1"]
    assert (
        answered["message"]
        == "webhook answered 400: repository.owner.login missing from the payload"
    )
    access = [line for line in app_lines if line["logger"] == "gunicorn.access"]
    assert any("/webhooks/github" in line["message"] for line in access)
    assert token not in text and any("t=***" in line["message"] for line in access)
    assert WEBHOOK_SECRET not in text
