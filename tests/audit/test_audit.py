"""The audit chain detects every kind of tampering and never forks under concurrent writers."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gitops_health.bot import audit_cli
from gitops_health.bot.audit import (
    AuditLog,
    Signer,
    audit_checkpoints,
    audit_entries,
    entry_hash,
    metadata,
)  # fmt: skip

SEED = base64.b64encode(bytes(range(32))).decode()


def record(n: int, repository: str = "acme/api") -> dict[str, object]:
    return {"forge": "github", "repository": repository, "number": n, "head_sha": f"{n:040x}"}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'audit.db'}"


@pytest.fixture
def log(sqlite_url: str) -> AuditLog:
    audit_log = AuditLog(sa.create_engine(sqlite_url), Signer.from_config(SEED), checkpoint_every=4)
    audit_log.create_tables()
    for n in range(1, 11):
        audit_log.append(record(n))
    return audit_log


def execute(log: AuditLog, statement: sa.Executable) -> None:
    with log.engine.begin() as conn:
        conn.execute(statement)


def test_intact_chain_verifies(log: AuditLog) -> None:
    assert log.verify(Signer.from_config(SEED).public_key) == []
    assert [cp["seq"] for cp in log.checkpoints()] == [4, 8]


def test_altered_entry_is_named(log: AuditLog) -> None:
    altered = json.dumps({**record(5), "number": 99}, sort_keys=True)
    execute(log, audit_entries.update().where(audit_entries.c.seq == 5).values(body=altered))
    assert log.verify() == ["entry 5 was altered: its content no longer matches its hash"]


def test_deleted_entry_is_named(log: AuditLog) -> None:
    execute(log, audit_entries.delete().where(audit_entries.c.seq == 6))
    assert log.verify() == ["entries 6..6 were deleted: the chain jumps to entry 7"]


def rewrite(log: AuditLog, rows: list[dict[str, object]]) -> None:
    """What a tamperer with database access does: drop the guard, store other rows."""
    with log.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX uq_audit_entries_prev_hash")
        conn.execute(audit_entries.delete())
        for seq, row in enumerate(rows, start=1):
            conn.execute(audit_entries.insert().values({**row, "seq": seq}))


def test_reordered_entries_are_named(log: AuditLog) -> None:
    rows = list(log.entries())
    rows[3], rows[4] = rows[4], rows[3]
    rewrite(log, rows)
    assert log.verify() == ["entry 4 was reordered: it follows entry 5 in the chain"]


def test_inserted_entry_is_named(log: AuditLog) -> None:
    rows = list(log.entries())
    intruder = {**rows[4], "body": json.dumps(record(77)), "prev_hash": rows[4]["entry_hash"]}
    intruder["entry_hash"] = entry_hash(intruder["recorded_at"], intruder["body"],
                                        intruder["prev_hash"])  # fmt: skip
    rewrite(log, [*rows[:5], intruder, *rows[5:]])
    assert log.verify() == ["entry 6 was inserted: entry 7 follows entry 5"]


def test_deleted_and_renumbered_entry_is_named(log: AuditLog) -> None:
    rows = list(log.entries())
    rewrite(log, rows[:2] + rows[3:])
    assert log.verify() == ["an entry before entry 3 was deleted: its predecessor is missing"]


def test_truncated_tail_is_detected_by_checkpoint(log: AuditLog) -> None:
    execute(log, audit_entries.delete().where(audit_entries.c.seq > 8))
    execute(log, audit_entries.delete().where(audit_entries.c.seq > 6))
    public_key = Signer.from_config(SEED).public_key
    assert log.verify(public_key) == [
        "the log was truncated: checkpoint signed entry 8 but the last entry is 6"
    ]


def test_forged_checkpoint_is_detected(log: AuditLog) -> None:
    other = Signer.from_config(base64.b64encode(b"\x01" * 32).decode())
    execute(log, audit_checkpoints.update().values(signature=other.sign(4, "0" * 64)))
    problems = log.verify(Signer.from_config(SEED).public_key)
    assert "checkpoint at entry 4 has an invalid signature" in problems


def _append_many(url: str, writer: int, count: int) -> None:
    audit_log = AuditLog(sa.create_engine(url))
    for n in range(count):
        audit_log.append(record(writer * 1000 + n, repository=f"acme/w{writer}"))


def run_writers(url: str, writers: int, count: int) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_append_many, args=(url, w, count)) for w in range(writers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0


def test_concurrent_writers_never_fork_sqlite(sqlite_url: str) -> None:
    AuditLog(sa.create_engine(sqlite_url)).create_tables()
    run_writers(sqlite_url, writers=3, count=15)
    audit_log = AuditLog(sa.create_engine(sqlite_url))
    assert audit_log.verify() == []
    assert len(list(audit_log.entries())) == 45


@pytest.fixture
def postgres_log(postgres_url: str) -> Iterator[AuditLog]:
    engine = sa.create_engine(postgres_url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    yield AuditLog(engine)
    metadata.drop_all(engine)
    engine.dispose()


@pytest.mark.scale
def test_concurrent_writers_never_fork_postgres(postgres_log: AuditLog, postgres_url: str) -> None:
    run_writers(postgres_url, writers=4, count=15)
    assert postgres_log.verify() == []
    assert len(list(postgres_log.entries())) == 60


def test_cli_verify_and_export(log: AuditLog, sqlite_url: str, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("GITOPS_HEALTH_AUDIT_SIGNING_KEY", SEED)
    assert audit_cli.main(["--database-url", sqlite_url, "verify"]) == 0
    assert "chain intact, 10 entries; checkpoints verified" in capsys.readouterr().out
    out = tmp_path / "evidence.jsonl"
    assert audit_cli.main(["--database-url", sqlite_url, "export", "-o", str(out)]) == 0
    *lines, proof = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, 11))
    assert [cp["seq"] for cp in proof["chain_proof"]["checkpoints"]] == [4, 8]
    assert lines[0]["body"]["repository"] == "acme/api"
    csv_out = tmp_path / "evidence.csv"
    args = ["--database-url", sqlite_url, "export", "--format", "csv", "-o", str(csv_out)]
    assert audit_cli.main(args) == 0
    assert csv_out.read_text().splitlines()[0].startswith("seq,recorded_at,forge")
    execute(log, audit_entries.delete().where(audit_entries.c.seq == 2))
    assert audit_cli.main(["--database-url", sqlite_url, "verify"]) == 1
    assert "entries 2..2 were deleted" in capsys.readouterr().err


def test_signing_key_must_be_ed25519_seed() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Signer.from_config(base64.b64encode(os.urandom(16)).decode())
