"""Processes starting together on a fresh database migrate it once, never concurrently; the
same cross-process lock keeps two jobs of one PR apart, threads included."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from gitops_health.bot import db

PROCESSES = 3
# Imports first, then every process waits for the same starting signal and migrates.
MIGRATE = """
import logging, sys, time
from pathlib import Path
from gitops_health.bot import db
import gitops_health.bot.models, alembic.command
logging.basicConfig(level=logging.INFO, format="%(message)s")
engine = db.make_engine(sys.argv[1])
Path(sys.argv[2]).touch()
while not Path(sys.argv[3]).exists():
    time.sleep(0.002)
db.upgrade(engine)
"""


def migrate_at_once(url: str, tmp_path: Path) -> list[str]:
    """Start the processes, release them together; their logs once all succeeded."""
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(PROCESSES)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, url, str(flag), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 30
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    logs = [process.communicate(timeout=60)[0] for process in processes]
    for process, log in zip(processes, logs, strict=True):
        assert process.returncode == 0, log
    return logs


def assert_migrated_once(url: str, logs: list[str]) -> None:
    head = ScriptDirectory(str(db.MIGRATIONS)).get_current_head()
    engine = db.make_engine(url)
    with engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        tables = set(sa.inspect(connection).get_table_names())
    engine.dispose()
    assert versions == [(head,)]
    assert {"bot_deliveries", "audit_entries"} <= tables
    ran = [line for log in logs for line in log.splitlines() if "Running upgrade" in line]
    steps = ScriptDirectory(str(db.MIGRATIONS)).walk_revisions()
    assert len(ran) == len(list(steps))  # each migration ran in exactly one process


@pytest.mark.scale
def test_concurrent_starts_migrate_postgresql_once(postgres_url: str, tmp_path: Path) -> None:
    assert_migrated_once(postgres_url, migrate_at_once(postgres_url, tmp_path))


def test_concurrent_starts_migrate_sqlite_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'bot.db'}"
    assert_migrated_once(url, migrate_at_once(url, tmp_path))


def test_sqlite_lock_also_excludes_threads_of_one_process(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    inside: list[int] = []
    overlaps: list[int] = []

    def job(number: int) -> None:
        with db.cross_process_lock(engine, "pull request github/acme/api/7"):
            inside.append(number)
            overlaps.append(len(inside))
            time.sleep(0.05)
            inside.remove(number)

    threads = [threading.Thread(target=job, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [1, 1, 1, 1]
