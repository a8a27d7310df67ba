"""`gitops-health audit verify|export|checkpoint`: the auditor's view of the trail."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa

from gitops_health.bot.audit import (
    AuditLog,
    audit_signer,
    configured_signing_key,
    load_public_key,
)  # fmt: skip
from gitops_health.bot.db import make_engine

EXPORT_COLUMNS = ("seq", "recorded_at", "forge", "repository", "number", "head_sha",
                  "prev_hash", "entry_hash", "body")  # fmt: skip


def _database_url(given: str | None) -> str:
    if given:
        return given
    from gitops_health.bot.settings import Settings

    return Settings.from_env().database_url


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gitops-health audit", description=__doc__)
    parser.add_argument("--database-url", help="default: $GITOPS_HEALTH_DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="walk the hash chain and the signed checkpoints")
    verify.add_argument(
        "--public-key",
        help="Ed25519 public key (PEM) to check checkpoints; default: derived from "
        "$GITOPS_HEALTH_AUDIT_SIGNING_KEY when set",
    )
    export = commands.add_parser("export", help="evidence for auditors, with the chain proof")
    export.add_argument("--since", help="ISO date/time, inclusive")
    export.add_argument("--until", help="ISO date/time, exclusive")
    export.add_argument("--repo", help="only this repository (owner/name)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    commands.add_parser("checkpoint", help="sign the current head of the chain now")
    return parser


def _open_log(url: str, with_signer: bool = False) -> AuditLog:
    return AuditLog(make_engine(url), audit_signer() if with_signer else None)


def verify(log: AuditLog, public_key_path: str | None) -> int:
    key_text = (
        Path(public_key_path).read_text(encoding="utf-8")
        if public_key_path
        else configured_signing_key()
    )
    public_key = load_public_key(key_text) if key_text else None
    problems = log.verify(public_key)
    count = sum(1 for _ in log.entries())
    if problems:
        for problem in problems:
            print(f"audit verify: {problem}", file=sys.stderr)
        return 1
    checked = "checkpoints verified" if public_key else "checkpoints not checked (no key)"
    print(f"audit verify: chain intact, {count} entries; {checked}")
    return 0


def _write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO, checkpoints: list[dict]) -> None:
    """One entry per line, then a `chain_proof` line: the signed checkpoints to check against."""
    count = 0
    for row in rows:
        count += 1
        out.write(json.dumps({**row, "body": json.loads(row["body"])}, sort_keys=True) + "\n")
    proof = {"entries": count, "checkpoints": checkpoints}
    out.write(json.dumps({"chain_proof": proof}, sort_keys=True) + "\n")


def _write_csv(rows: Iterable[dict[str, Any]], out: TextIO, _checkpoints: list[dict]) -> None:
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)


def export(log: AuditLog, args: argparse.Namespace, out: TextIO) -> int:
    rows = log.entries(since=args.since, until=args.until, repository=args.repo)
    (_write_jsonl if args.format == "jsonl" else _write_csv)(rows, out, log.checkpoints())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        log = _open_log(_database_url(args.database_url), with_signer=args.command == "checkpoint")
        if args.command == "verify":
            return verify(log, args.public_key)
        if args.command == "checkpoint":
            seq = log.checkpoint()
            print(f"audit checkpoint: signed entry {seq}" if seq else "audit checkpoint: log empty")
            return 0
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                return export(log, args, out)
        return export(log, args, sys.stdout)
    except (ValueError, OSError, sa.exc.SQLAlchemyError) as exc:
        print(f"gitops-health audit: {exc}", file=sys.stderr)
        return 2
