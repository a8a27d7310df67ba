"""`gitops-health phi`: scan trees or ranges, manage the baseline, redact fixtures."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_health.hooks.phi_scan import (
    GitError,
    add_output_options,
    diff_added,
    git,
    load_config,
    repo_paths,
    report,
    scan_added,
)
from gitops_health.rules.config.phi import PhiConfig

if TYPE_CHECKING:
    from gitops_health.rules.phi.baseline import Baseline
    from gitops_health.rules.phi.scan import Hit

SKIPPED_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".mypy_cache",
                ".pytest_cache", ".ruff_cache"}  # fmt: skip


def _root() -> Path:
    try:
        return Path(git(None, "rev-parse", "--show-toplevel").decode().strip())
    except GitError:
        return Path.cwd()


def walk(paths: Sequence[str]) -> Iterator[str]:
    """Files under `paths`, as given on the command line (directories walked, sorted)."""
    for given in paths:
        if os.path.isfile(given):
            yield given
            continue
        if not os.path.isdir(given):
            raise FileNotFoundError(f"{given}: no such file or directory")
        for directory, dirs, names in os.walk(given):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
            for name in sorted(names):
                path = os.path.join(directory, name)
                yield path[2:] if path.startswith("./") else path


def scan_paths(paths: Sequence[str], config: PhiConfig) -> tuple[list[Hit], int]:
    from gitops_health.rules.phi.scan import scan_bytes

    hits, count = [], 0
    for path in walk(paths):
        if os.path.islink(path):
            continue
        count += 1
        try:
            with open(path, "rb") as handle:
                data = handle.read(config.max_file_bytes + 1)
        except OSError as exc:
            print(f"phi: skipped {path}: {exc.strerror}", file=sys.stderr)
            continue
        hits += scan_bytes(path, data, config)
    return hits, count


def _collect(args: argparse.Namespace, root: Path, config: PhiConfig) -> tuple[list[Hit], str]:
    if args.staged or args.rev_range:
        if args.rev_range:
            base, _, head = args.rev_range.partition("..")
            if not base or not head:
                raise ValueError(f"--rev-range {args.rev_range!r}: expected A..B")
            added = diff_added(root, base, head, paths=args.paths)
            hits = scan_added(root, added, config, revision=head)
        else:
            added = diff_added(root, paths=args.paths)
            hits = scan_added(root, added, config)
        lines = sum(len(f.lines) for f in added)
        return hits, f"{len(added)} file(s), {lines} added line(s)"
    hits, count = scan_paths(args.paths or ["."], config)
    return hits, f"{count} file(s)"


def cmd_scan(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    root = _root()
    config = load_config(root, args.policy)
    hits, scanned = _collect(args, root, config)
    return report(hits, config, root, args, scanned, started)


def _baseline_path(args: argparse.Namespace, root: Path, config: PhiConfig) -> Path:
    return Path(args.baseline) if args.baseline else root / config.baseline


def cmd_baseline(args: argparse.Namespace) -> int:
    from gitops_health.rules.phi.baseline import Baseline, load_baseline
    from gitops_health.rules.phi.scan import to_finding

    root = _root()
    config = load_config(root, args.policy)
    path = _baseline_path(args, root, config)
    existing = load_baseline(path)
    if args.action == "audit":
        return audit(path, existing)
    if args.action == "create" and existing is not None and not args.force:
        print(
            f"phi baseline: {path} exists; use `update`, or `create --force` to start over",
            file=sys.stderr,
        )
        return 2
    previous = existing if args.action == "update" and existing else Baseline()
    hits, scanned = scan_paths(args.paths or [str(root)], config)
    relative = repo_paths(root)
    baseline = previous.merge(
        to_finding(replace(hit, path=relative(hit.path)), previous.salt) for hit in hits
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(baseline.to_json(), encoding="utf-8")
    print(
        f"phi baseline: {len(baseline.entries)} entr(ies) from {scanned} file(s) in {path}",
        file=sys.stderr,
    )
    return 0


def audit(path: Path, baseline: Baseline | None) -> int:
    """Label unreviewed entries true/false positive (interactive), or list them."""
    if baseline is None:
        print(
            f"phi baseline: {path} does not exist; run `gitops-health phi baseline create`",
            file=sys.stderr,
        )
        return 2
    labels = {"t": "true-positive", "f": "false-positive"}
    interactive = sys.stdin.isatty() or os.environ.get("GITOPS_HEALTH_AUDIT_STDIN") == "1"
    changed = False
    for fingerprint, entry in baseline.entries.items():
        where = f"{entry.get('path')}:{entry.get('line')} {entry.get('entity_type')}"
        if not interactive or entry.get("audit") != "unreviewed":
            print(f"{entry.get('audit', 'unreviewed'):14} {where} [{entry.get('recognizer')}]")
            continue
        answer = (
            input(f"{where} [{entry.get('recognizer')}]: (t)rue/(f)alse positive, (s)kip, (q)uit? ")
            .strip()
            .lower()[:1]
        )
        if answer == "q":
            break
        if answer in labels:
            baseline.entries[fingerprint] = {**entry, "audit": labels[answer]}
            changed = True
    if changed:
        path.write_text(baseline.to_json(), encoding="utf-8")
    return 0


def cmd_redact(args: argparse.Namespace) -> int:
    from gitops_health.rules.phi.binary import is_binary
    from gitops_health.rules.phi.redact import redact_text
    from gitops_health.rules.phi.scan import decode_text, scan_bytes

    config = load_config(_root(), args.policy)
    if not args.in_place and len(args.files) > 1:
        raise ValueError("several files need --in-place (stdout takes one file)")
    for name in args.files:
        data = Path(name).read_bytes()
        if is_binary(data):
            print(f"phi redact: {name}: binary file left as it is", file=sys.stderr)
            continue
        text = decode_text(data)
        starts = _line_starts(text)
        spans = [
            (
                starts[h.line - 1] + h.column - 1,
                starts[h.line - 1] + h.end_column - 1,
                h.entity_type,
            )
            for h in scan_bytes(name, data, config)
            if h.line <= len(starts)
        ]
        result = redact_text(text, spans)
        if args.in_place:
            Path(name).write_text(result, encoding="utf-8")
            print(f"phi redact: {name}: {len(spans)} value(s) replaced", file=sys.stderr)
        else:
            sys.stdout.write(result)
    return 0


def _line_starts(text: str) -> list[int]:
    starts, position = [], 0
    for line in text.splitlines(keepends=True):
        starts.append(position)
        position += len(line)
    return starts


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitops-health phi", description="Find, baseline and redact PHI."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    scan = sub.add_parser("scan", help="scan files/trees, the staged diff or a commit range")
    scan.add_argument("paths", nargs="*", help="files or directories (default: .)")
    mode = scan.add_mutually_exclusive_group()
    mode.add_argument("--staged", action="store_true", help="only lines added in the index")
    mode.add_argument("--rev-range", metavar="A..B", help="only lines added between A and B")
    add_output_options(scan)
    scan.set_defaults(run=cmd_scan)
    baseline = sub.add_parser("baseline", help="create, update or audit the baseline")
    baseline.add_argument("action", choices=("create", "update", "audit"))
    baseline.add_argument("paths", nargs="*", help="what to scan (default: the repository)")
    baseline.add_argument("--baseline", help="baseline file (default: the policy's phi.baseline)")
    baseline.add_argument("--policy", help="policy file (default: <repo>/.gitops-health.yml)")
    baseline.add_argument("--force", action="store_true", help="create over an existing file")
    baseline.set_defaults(run=cmd_baseline)
    redact = sub.add_parser("redact", help="replace PHI with synthetic values of the same type")
    redact.add_argument("files", nargs="+")
    redact.add_argument("--in-place", action="store_true", help="rewrite the files")
    redact.add_argument("--policy", help="policy file (default: <repo>/.gitops-health.yml)")
    redact.set_defaults(run=cmd_redact)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (GitError, OSError, ValueError, RuntimeError) as exc:
        print(f"gitops-health phi: {exc}", file=sys.stderr)
        return 2
