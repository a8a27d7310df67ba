"""GITOPS_HEALTH_QUEUE_NAME: bots sharing one Redis keep their queues apart."""

from __future__ import annotations

import uuid
from pathlib import Path

from gitops_health.bot.runtime import make_huey
from gitops_health.bot.settings import DEFAULT_QUEUE_NAME, Settings


def settings(tmp_path: Path, **variables: str) -> Settings:
    env = {"GITOPS_HEALTH_DATA_DIR": str(tmp_path)}
    return Settings.from_env(env | {f"GITOPS_HEALTH_{k}": v for k, v in variables.items()})


def test_queue_name_defaults_and_is_read_from_the_environment(tmp_path: Path) -> None:
    assert settings(tmp_path).queue_name == DEFAULT_QUEUE_NAME
    assert settings(tmp_path, QUEUE_NAME=" staging ").queue_name == "staging"
    assert make_huey(settings(tmp_path, QUEUE_NAME="staging")).name == "staging"


def test_two_queue_names_on_one_redis_do_not_see_each_others_tasks(
    tmp_path: Path, redis_url: str
) -> None:
    names = [f"gitops-health-test-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    first, second = (
        make_huey(settings(tmp_path, QUEUE_URL=redis_url, QUEUE_NAME=n)) for n in names
    )
    try:
        first.task(name="noop")(lambda: None)()
        assert (first.pending_count(), second.pending_count()) == (1, 0)
    finally:
        first.flush()
        second.flush()
