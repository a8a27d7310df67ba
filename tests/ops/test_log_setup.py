"""Log set-up from the settings: JSON or text, the level, and every configured secret masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_health.bot.logs import (
    JsonFormatter,
    configure_logging,
    configured_secrets,
    delivery_fields,
    log_context,
)
from gitops_health.bot.settings import Settings, SettingsError
from gitops_health.bot.store import ClaimedDelivery, Target

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
    "-----END PRIVATE KEY-----\n"
)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    libraries = {name: logging.getLogger(name).level for name in ("github", "alembic")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, library_level in libraries.items():
        logging.getLogger(name).setLevel(library_level)


def settings_for(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(
        {
            "GITOPS_HEALTH_DATA_DIR": str(tmp_path),
            **{f"GITOPS_HEALTH_{k}": v for k, v in env.items()},
        }
    )


def test_every_configured_secret_is_collected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_HEALTH_AUDIT_SIGNING_KEY", "c2lnbmluZy1rZXktZm9yLXRlc3Rz")
    settings = settings_for(
        tmp_path,
        GITHUB_WEBHOOK_SECRET="gh-hook-secret",
        GITHUB_APP_ID="7",
        GITHUB_PRIVATE_KEY=PEM,
        BITBUCKET_CLOUD_WEBHOOK_SECRET="cloud-hook-secret",
        BITBUCKET_CLOUD_USERNAME="alice",
        BITBUCKET_CLOUD_APP_PASSWORD="cloud-app-password",
        BITBUCKET_SERVER_WEBHOOK_SECRET="dc-hook-secret",
        BITBUCKET_SERVER_URL="https://bitbucket.example.test",
        BITBUCKET_SERVER_TOKEN="dc-http-token",
        DATABASE_URL="postgresql://bot:db-pass-word@db.internal/gitops",
        QUEUE_URL="redis://:queue-pass-word@redis.internal:6379/0",
    )
    assert set(configured_secrets(settings)) == {
        "gh-hook-secret",
        PEM.strip(),
        "cloud-hook-secret",
        "cloud-app-password",
        "dc-hook-secret",
        "dc-http-token",
        "db-pass-word",
        "queue-pass-word",
        "c2lnbmluZy1rZXktZm9yLXRlc3Rz",
    }


def test_secrets_are_masked_however_they_are_written() -> None:
    quoted = 'pa"ss\\word'
    formatter = JsonFormatter([PEM, quoted, "short"])
    key_line = PEM.splitlines()[1]
    record = logging.makeLogRecord(
        {"msg": "%s | %s | %s", "args": (PEM, key_line, quoted), "levelname": "ERROR"}
    )
    line = formatter.format(record)
    assert key_line not in line and 'pa\\"ss' not in line  # raw, and escaped inside JSON
    assert json.loads(line)["message"] == "*** | *** | ***"
    assert "short" in formatter.format(logging.makeLogRecord({"msg": "short"}))  # < 6 chars kept


def test_tokens_minted_at_run_time_and_url_credentials_are_masked() -> None:
    formatter = JsonFormatter()
    message = (
        "token ghs_16C7e42F292c6912E7710c838347Ae178B4a, "
        "jwt eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJlc2ln, "
        "link /pr/github/a/b/1?t=0123456789abcdef0123456789abcdef, "
        "clone https://x-token-auth:Zm9vYmFy@bitbucket.org/acme/api.git"
    )
    text = json.loads(formatter.format(logging.makeLogRecord({"msg": message})))["message"]
    assert (
        text
        == "token ***, jwt ***, link /pr/github/a/b/1?t=***, clone https://***@bitbucket.org/acme/api.git"
    )


def test_json_is_the_default_and_text_is_optional(tmp_path: Path, restore_logging: None) -> None:
    for log_format, parse in (("json", json.loads), ("text", str)):
        stream = io.StringIO()
        settings = settings_for(
            tmp_path,
            LOG_FORMAT=log_format.upper(),
            GITHUB_WEBHOOK_SECRET="gh-hook-secret",
            GITHUB_TOKEN="ghp-token-value",
        )
        configure_logging(settings, stream)
        with log_context(delivery="d-1", pr=3):
            logging.getLogger("gitops_health.test").info("signed with gh-hook-secret")
        output = stream.getvalue()
        assert "gh-hook-secret" not in output
        line = parse(output.strip())
        if log_format == "json":
            assert (line["delivery"], line["pr"], line["message"]) == (
                "d-1",
                "3",
                "signed with ***",
            )
        else:
            assert output.rstrip().endswith(
                "INFO gitops_health.test signed with *** delivery=d-1 pr=3"
            )
    assert settings_for(tmp_path).log_format == "json"


def test_debug_level_keeps_libraries_that_log_payloads_at_info(
    tmp_path: Path, restore_logging: None
) -> None:
    configure_logging(settings_for(tmp_path, LOG_LEVEL="debug"), io.StringIO())
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("github").level == logging.INFO  # PyGithub logs whole diffs at DEBUG
    assert logging.getLogger("alembic").level == logging.WARNING


@pytest.mark.parametrize(("name", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud")])
def test_bad_log_settings_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"GITOPS_HEALTH_{name} must be one of"):
        settings_for(tmp_path, **{name: value})


def test_delivery_fields_carry_the_pr_of_a_single_pr_delivery() -> None:
    one = ClaimedDelivery(
        1, "github", "d-9", "pull_request", "opened", "", (Target("github", "acme", "api", 4),), 1
    )
    assert delivery_fields(one) == {
        "forge": "github",
        "delivery": "d-9",
        "event": "pull_request.opened",
        "repo": "acme/api",
        "pr": 4,
    }
    two = ClaimedDelivery(
        2, "github", "d-10", "check_suite", "rerequested", "",
        (Target("github", "acme", "api", 4), Target("github", "acme", "api", 5)), 1,
    )  # fmt: skip
    assert "pr" not in delivery_fields(two)
