"""The bot's database gets the audit tables by migration, and /metrics serves them."""

from __future__ import annotations

from pathlib import Path

from gitops_health.bot.app import create_app
from gitops_health.bot.runtime import Runtime
from gitops_health.bot.settings import Settings


def test_migrated_database_has_an_empty_verifiable_audit_trail(tmp_path: Path) -> None:
    settings = Settings.from_env({"GITOPS_HEALTH_DATA_DIR": str(tmp_path)})
    runtime = Runtime(settings)
    runtime.migrate()
    assert runtime.audit.length() == 0
    runtime.audit.append({"forge": "github", "repository": "acme/api", "head_sha": "f" * 40})
    assert runtime.audit.verify() == []
    client = create_app(settings, runtime).test_client()
    text = client.get("/metrics").get_data(as_text=True)
    assert "gitops_health_audit_chain_length 1.0" in text
    assert "gitops_health_queue_depth" in text
