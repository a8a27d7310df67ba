"""Settings from the environment: every mistake is one line naming the variable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from testkit import free_port

from gitops_health.bot.cli import main
from gitops_health.bot.settings import Settings, SettingsError

KEY = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n"


def test_defaults_start_with_no_forge_configured(tmp_path: Path) -> None:
    settings = Settings.from_env({"GITOPS_HEALTH_DATA_DIR": str(tmp_path)})
    assert settings.unconfigured_forges == ("github", "bitbucket-cloud", "bitbucket-server")
    assert settings.database_url == f"sqlite:///{tmp_path / 'bot.db'}"
    assert settings.queue_path == tmp_path / "queue.db"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"GITHUB_APP_ID": "12"}, "GITOPS_HEALTH_GITHUB_PRIVATE_KEY"),
        ({"GITHUB_PRIVATE_KEY": KEY}, "GITOPS_HEALTH_GITHUB_APP_ID"),
        ({"GITHUB_APP_ID": "x12"}, "GITOPS_HEALTH_GITHUB_APP_ID"),
        (
            {"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": KEY, "GITHUB_TOKEN": "t"},
            "GITOPS_HEALTH_GITHUB_TOKEN",
        ),
        (
            {"GITHUB_PRIVATE_KEY": KEY, "GITHUB_PRIVATE_KEY_FILE": "/k"},
            "GITOPS_HEALTH_GITHUB_PRIVATE_KEY_FILE",
        ),
        ({"GITHUB_PRIVATE_KEY_FILE": "/does/not/exist"}, "GITOPS_HEALTH_GITHUB_PRIVATE_KEY_FILE"),
        ({"GITHUB_TOKEN": "t"}, "GITOPS_HEALTH_GITHUB_WEBHOOK_SECRET"),
        ({"GITHUB_WEBHOOK_SECRET": "s"}, "GITOPS_HEALTH_GITHUB_APP_ID"),
        ({"GITHUB_API_URL": "ftp://x"}, "GITOPS_HEALTH_GITHUB_API_URL"),
        (
            {"BITBUCKET_CLOUD_TOKEN": "t", "BITBUCKET_CLOUD_USERNAME": "u"},
            "GITOPS_HEALTH_BITBUCKET_CLOUD_TOKEN",
        ),
        ({"BITBUCKET_CLOUD_USERNAME": "u"}, "GITOPS_HEALTH_BITBUCKET_CLOUD_APP_PASSWORD"),
        ({"BITBUCKET_SERVER_URL": "https://bb.example"}, "GITOPS_HEALTH_BITBUCKET_SERVER_TOKEN"),
        ({"BITBUCKET_SERVER_WEBHOOK_SECRET": "s"}, "GITOPS_HEALTH_BITBUCKET_SERVER_URL"),
        ({"QUEUE_URL": "amqp://x"}, "GITOPS_HEALTH_QUEUE_URL"),
        ({"DATABASE_URL": "oracle://x"}, "GITOPS_HEALTH_DATABASE_URL"),
        ({"PORT": "eighty"}, "GITOPS_HEALTH_PORT"),
        ({"MAX_BODY_BYTES": "10"}, "GITOPS_HEALTH_MAX_BODY_BYTES"),
        ({"ADMIN_POLICY": "/no/such/policy.yml"}, "GITOPS_HEALTH_ADMIN_POLICY"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({f"GITOPS_HEALTH_{k}": v for k, v in env.items()})
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(variable) or f" {variable} " in f" {message} "


def test_private_key_from_file_and_cloud_url_normalised(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text(KEY)
    settings = Settings.from_env(
        {
            "GITOPS_HEALTH_GITHUB_APP_ID": "7",
            "GITOPS_HEALTH_GITHUB_PRIVATE_KEY_FILE": str(key),
            "GITOPS_HEALTH_GITHUB_WEBHOOK_SECRET": "s",
            "GITOPS_HEALTH_BITBUCKET_CLOUD_API_URL": "https://api.bitbucket.org/2.0/",
        }
    )
    assert settings.github.private_key == KEY and settings.github.app_mode
    assert settings.configured("github")
    assert settings.bitbucket_cloud.api_url == "https://api.bitbucket.org"
    assert "PRIVATE" not in repr(settings)  # secrets stay out of reprs and logs


def test_cli_reports_a_bad_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITOPS_HEALTH_GITHUB_TOKEN", "t")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GITOPS_HEALTH_GITHUB_WEBHOOK_SECRET" in err


def test_serve_starts_on_a_fresh_machine_without_credentials(tmp_path: Path) -> None:
    """What `make run` does: web app + embedded worker, SQLite only, no forge configured."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITOPS_HEALTH_")}
    env.update(GITOPS_HEALTH_PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "gitops_health", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        hook = requests.post(
            f"http://127.0.0.1:{port}/webhooks/bitbucket-cloud", data=b"{}", timeout=5
        )
        assert hook.status_code == 404 and "not configured" in hook.json()["error"]
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "forge github: not configured" in err
    assert "Huey consumer started" in err
    assert (tmp_path / ".gitops-health-data" / "queue.db").exists()
