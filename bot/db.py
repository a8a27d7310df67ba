"""SQLAlchemy engine, sessions and the declarative Base shared by every bot table.

SQLite (the embedded default) gets WAL mode and a busy timeout so the web process and the
workers can write concurrently; PostgreSQL needs nothing special. The schema is owned by the
Alembic migrations in `bot/migrations/`, applied by `upgrade()` at start under a lock shared by
every process, so web processes and workers starting together migrate once.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = "gitops-health schema migration"


class Base(DeclarativeBase):
    pass


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (the only driver installed)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    database = url.split(":///", 1)[-1]
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any exception."""
    with sessions() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent; safe at every start, and when
    several processes start at once: one migrates, the others wait and find it done)."""
    from alembic import command

    with cross_process_lock(engine, MIGRATION_LOCK):
        command.upgrade(alembic_config(engine), "head")


@contextmanager
def cross_process_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold the lock `name` against every process using this database: a PostgreSQL session
    advisory lock on a dedicated connection, or an flock on a file next to a SQLite database.
    Never nest two: different names may share a SQLite lock file."""
    database = engine.url.database or ""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, _lock_key(name)):
            yield
    elif engine.dialect.name == "sqlite" and database not in ("", ":memory:"):
        folder = Path(f"{database}-locks")  # 256 files at most: names share them by hash
        folder.mkdir(exist_ok=True)
        with _file_lock(folder / f"{_lock_key(name) & 0xFF:02x}.lock"):
            yield
    else:  # an in-memory database lives in one process only (tests)
        yield


def _lock_key(name: str) -> int:
    """A signed 64-bit key, the same for `name` in every process (Python's hash() is salted)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def _advisory_lock(engine: Engine, key: int) -> Iterator[None]:
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(select(func.pg_advisory_lock(key)))
        try:
            yield
        finally:
            connection.execute(select(func.pg_advisory_unlock(key)))


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """flock on a file of its own descriptor: excludes other processes and other threads."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
