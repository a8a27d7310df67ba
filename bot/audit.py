"""Tamper-evident audit trail: a hash chain of evaluations with signed checkpoints.

Each entry stores the SHA-256 of the previous entry, so altering, deleting, inserting or
reordering any entry breaks the chain at that point. Every `checkpoint_every` entries (and on
demand) the head of the chain is signed with an Ed25519 key; a checkpoint that names an entry
which is no longer there, or a different hash for it, shows the tail was truncated or rewritten.

Appends are serialised per database (PostgreSQL advisory lock, SQLite's write lock), and the
unique `seq` and `prev_hash` columns make a fork impossible even if two writers raced anyway.
PHI values and secrets never reach this module: callers pass a Report, and only types,
locations and salted hashes of findings are kept.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from gitops_health.rules.report import Report

GENESIS = "0" * 64
ADVISORY_LOCK_KEY = 0x617564697400  # "audit" — any constant shared by every writer
APPEND_ATTEMPTS = 5

metadata = sa.MetaData()

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("forge", sa.String(32), nullable=False),
    sa.Column("repository", sa.String(255), nullable=False, index=True),
    sa.Column("number", sa.Integer),
    sa.Column("head_sha", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # canonical JSON of the evaluation
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    sa.Index("uq_audit_entries_prev_hash", "prev_hash", unique=True),  # no fork, ever
)

audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    sa.Column("signed_at", sa.String(32), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(recorded_at: str, body: str, prev_hash: str) -> str:
    """The entry's own hash. `seq` is left out: the chain of prev_hash links is the order."""
    material = canonical_json({"recorded_at": recorded_at, "body": body, "prev_hash": prev_hash})
    return hashlib.sha256(material.encode()).hexdigest()


def evaluation_record(report: Report, *, trigger: Mapping[str, str]) -> dict[str, Any]:
    """What is kept of one published evaluation: verdicts and evidence, never values."""
    risk = report.risk
    return {
        "forge": report.forge,
        "repository": report.repository,
        "number": report.number,
        "head_sha": report.head_sha,
        "base_sha": report.base_sha,
        "policy_digest": report.policy_digest,
        "conclusion": report.conclusion,
        "risk": None if risk is None else {"score": risk.score, "level": str(risk.level)},
        "controls": [
            {"framework": c.framework, "control": c.control, "verdict": str(c.verdict)}
            for c in report.controls
        ],
        "approvals": _approvals(report),
        "findings": [
            {
                "kind": f.kind,
                "type": f.entity_type or f.rule,
                "path": f.path,
                "line": f.line,
                "fingerprint": f.fingerprint,
            }
            for f in report.findings
        ],
        "trigger": dict(trigger),
    }


def _approvals(report: Report) -> list[dict[str, Any]]:
    if report.approval is None:
        return []
    head = report.head_sha
    rules, stack = [], [report.approval]
    while stack:
        rule = stack.pop()
        stack.extend(rule.children)
        rules.append(
            {
                "rule": rule.name,
                "state": str(rule.state),
                "approvers": [{"login": login, "commit": head} for login in rule.approvers],
            }
        )
    return rules


@dataclass(frozen=True)
class Signer:
    """The Ed25519 checkpoint key (PEM or raw 32-byte seed, base64) from configuration."""

    key: Ed25519PrivateKey

    @classmethod
    def from_config(cls, text: str) -> Signer:
        text = text.strip()
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError("the audit signing key must be an Ed25519 private key")
            return cls(key)
        try:
            seed = base64.b64decode(text, validate=True)
        except ValueError as exc:
            raise ValueError("the audit signing key is neither PEM nor base64") from exc
        if len(seed) != 32:
            raise ValueError("a base64 audit signing key must decode to 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, seq: int, digest: str) -> str:
        return base64.b64encode(self.key.sign(_checkpoint_message(seq, digest))).decode()


SIGNING_KEY_VARIABLE = "GITOPS_HEALTH_AUDIT_SIGNING_KEY"


def configured_signing_key() -> str | None:
    """The checkpoint key from $GITOPS_HEALTH_AUDIT_SIGNING_KEY or the file named by ..._FILE."""
    path = os.environ.get(f"{SIGNING_KEY_VARIABLE}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8")
    return os.environ.get(SIGNING_KEY_VARIABLE) or None


def audit_signer() -> Signer | None:
    key = configured_signing_key()
    return Signer.from_config(key) if key else None


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _checkpoint_message(seq: int, digest: str) -> bytes:
    return f"gitops-health audit checkpoint\n{seq}\n{digest}\n".encode()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@contextmanager
def serialised_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the chain's write lock until it commits."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        yield conn


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        sa.select(audit_entries.c.seq, audit_entries.c.entry_hash)
        .order_by(audit_entries.c.seq.desc())
        .limit(1)
    ).first()
    return (0, GENESIS) if row is None else (int(row.seq), str(row.entry_hash))


class AuditLog:
    """Append, checkpoint, verify and export the chain stored in one database."""

    def __init__(
        self, engine: Engine, signer: Signer | None = None, checkpoint_every: int = 100
    ) -> None:
        self.engine = engine
        self.signer = signer
        self.checkpoint_every = checkpoint_every

    def create_tables(self) -> None:
        metadata.create_all(self.engine)

    def append(self, record: Mapping[str, Any]) -> int:
        """Append one record; returns its sequence number."""
        body = canonical_json(record)
        for _ in range(APPEND_ATTEMPTS - 1):
            try:
                return self._append_once(record, body)
            except IntegrityError:
                continue  # another writer took this seq first: read the new head and retry
        return self._append_once(record, body)

    def _append_once(self, record: Mapping[str, Any], body: str) -> int:
        with serialised_transaction(self.engine) as conn:
            seq, prev = _head(conn)
            seq += 1
            recorded_at = _now()
            digest = entry_hash(recorded_at, body, prev)
            conn.execute(
                audit_entries.insert().values(
                    seq=seq,
                    recorded_at=recorded_at,
                    forge=str(record.get("forge", "")),
                    repository=str(record.get("repository", "")),
                    number=record.get("number"),
                    head_sha=str(record.get("head_sha", "")),
                    body=body,
                    prev_hash=prev,
                    entry_hash=digest,
                )
            )
            if self.signer is not None and seq % self.checkpoint_every == 0:
                self._insert_checkpoint(conn, seq, digest)
            return seq

    def length(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(audit_entries)).scalar())

    def checkpoint(self) -> int | None:
        """Sign the current head now; returns its seq (None for an empty log)."""
        if self.signer is None:
            raise ValueError("no audit signing key configured (GITOPS_HEALTH_AUDIT_SIGNING_KEY)")
        with serialised_transaction(self.engine) as conn:
            seq, digest = _head(conn)
            if seq == 0:
                return None
            self._insert_checkpoint(conn, seq, digest)
            return seq

    def _insert_checkpoint(self, conn: Connection, seq: int, digest: str) -> None:
        assert self.signer is not None
        conn.execute(
            audit_checkpoints.insert().values(
                seq=seq,
                entry_hash=digest,
                signed_at=_now(),
                key_id=self.signer.key_id,
                signature=self.signer.sign(seq, digest),
            )
        )

    def entries(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        repository: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        query = sa.select(audit_entries).order_by(audit_entries.c.seq)
        if since:
            query = query.where(audit_entries.c.recorded_at >= since)
        if until:
            query = query.where(audit_entries.c.recorded_at < until)
        if repository:
            query = query.where(audit_entries.c.repository == repository)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield dict(row._mapping)

    def checkpoints(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(audit_checkpoints).order_by(audit_checkpoints.c.seq))
            return [dict(r._mapping) for r in rows]

    def verify(self, public_key: Ed25519PublicKey | None = None) -> list[str]:
        """Problems found walking the chain, first one first; an empty list means intact."""
        problems = verify_chain(self.entries())
        if public_key is not None:
            problems += verify_checkpoints(self.checkpoints(), self.entries(), public_key)
        return problems


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Walk entries in seq order; name the first entry altered, deleted, inserted or reordered."""
    rows = list(entries)
    position = {row["entry_hash"]: i for i, row in enumerate(rows)}
    for i, row in enumerate(rows):
        seq = int(row["seq"])
        if entry_hash(row["recorded_at"], row["body"], row["prev_hash"]) != row["entry_hash"]:
            return [f"entry {seq} was altered: its content no longer matches its hash"]
        expected = rows[i - 1]["entry_hash"] if i else GENESIS
        if row["prev_hash"] != expected:
            return [_broken_link(rows, i, position.get(row["prev_hash"]))]
    return []


def _broken_link(rows: Sequence[Mapping[str, Any]], i: int, parent: int | None) -> str:
    """Why entry i does not follow entry i-1, from where its real predecessor is."""
    seq = int(rows[i]["seq"])
    if parent is not None and parent == i - 2:
        intruder, real_parent = rows[i - 1]["seq"], rows[parent]["seq"]
        return f"entry {intruder} was inserted: entry {seq} follows entry {real_parent}"
    if parent is not None:
        return f"entry {seq} was reordered: it follows entry {rows[parent]['seq']} in the chain"
    previous_seq = int(rows[i - 1]["seq"]) if i else 0
    if seq > previous_seq + 1:
        return f"entries {previous_seq + 1}..{seq - 1} were deleted: the chain jumps to entry {seq}"
    return f"an entry before entry {seq} was deleted: its predecessor is missing"


def verify_checkpoints(
    checkpoints: Sequence[Mapping[str, Any]],
    entries: Iterator[Mapping[str, Any]],
    public_key: Ed25519PublicKey,
) -> list[str]:
    """Each checkpoint must verify and still match the entry it signed (tail truncation)."""
    hashes = {int(e["seq"]): e["entry_hash"] for e in entries}
    last = max(hashes, default=0)
    problems = []
    for cp in checkpoints:
        seq, digest = int(cp["seq"]), cp["entry_hash"]
        try:
            public_key.verify(base64.b64decode(cp["signature"]), _checkpoint_message(seq, digest))
        except Exception:  # cryptography raises InvalidSignature; any failure means forged
            problems.append(f"checkpoint at entry {seq} has an invalid signature")
            continue
        if seq > last:
            problems.append(
                f"the log was truncated: checkpoint signed entry {seq} but the last entry is {last}"
            )
        elif hashes.get(seq) != digest:
            problems.append(f"entry {seq} differs from the version signed in its checkpoint")
    return problems


def load_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, or derived from the private signing key config."""
    text = text.strip()
    if "PRIVATE KEY" in text or not text.startswith("-----BEGIN"):
        return Signer.from_config(text).public_key
    key = serialization.load_pem_public_key(text.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the audit verification key must be an Ed25519 public key")
    return key
