"""Fixtures shared by every test: isolated git/GPG/SSH environments and real tmp repos."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from testkit import PRE_COMMIT_HOME, git, require_service


def pytest_sessionstart(session: pytest.Session) -> None:
    """Drop the hook environments no test config uses any more: every change of the hook
    sources installs a new one into the shared pre-commit cache (the controller only)."""
    if hasattr(session.config, "workerinput") or not PRE_COMMIT_HOME.exists():
        return
    env = {**os.environ, "PRE_COMMIT_HOME": str(PRE_COMMIT_HOME)}
    command = [sys.executable, "-m", "pre_commit", "gc"]
    subprocess.run(command, env=env, capture_output=True, check=False, timeout=300)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads the developer's ~/.gitconfig, GPG keyring or SSH keys."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Alice Example\n\temail = alice@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GNUPGHOME", str(home / ".gnupg"))
    monkeypatch.setenv("PRE_COMMIT_HOME", str(PRE_COMMIT_HOME))
    leaking = (
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF",
    )  # fmt: skip
    for var in leaking:
        monkeypatch.delenv(var, raising=False)
    (home / ".gnupg").mkdir(mode=0o700)
    return home


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh git repository with one commit on `main`."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    (path / "README.md").write_text("# demo\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "chore: initial commit")
    return path


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database of its own, dropped afterwards (tests and helpers run in
    parallel against the one server)."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    default = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    server = os.environ.get("GITOPS_HEALTH_TEST_POSTGRES", default)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"gh_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Redis database 15 of the one server: give every queue a name unique to the test."""
    require_service("Redis", "127.0.0.1", 6379)
    yield os.environ.get("GITOPS_HEALTH_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def gitops_health_bin() -> str:
    """The installed console script, as pre-commit and users run it."""
    path = shutil.which("gitops-health") or str(Path(os.sys.executable).parent / "gitops-health")
    return path
