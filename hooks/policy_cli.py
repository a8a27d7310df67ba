"""`gitops-health policy`: validate `.gitops-health.yml` or print its JSON Schema."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from gitops_health.rules.config import POLICY_FILE


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "schema":
        from gitops_health.rules.config.policy import schema_json

        sys.stdout.write(schema_json())
        return 0
    return validate(Path(args.file) if args.file else None)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitops-health policy", description=f"Work with the policy file, {POLICY_FILE}."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("schema", help="print the policy's JSON Schema (draft 2020-12)")
    check = commands.add_parser("validate", help="report every error with its YAML path and line")
    default = f"policy file (default: {POLICY_FILE} at the repo root)"
    check.add_argument("file", nargs="?", help=default)
    return parser


def default_policy_path() -> Path:
    """`.gitops-health.yml` at the root of the current work tree (or the current directory)."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
        )
    except OSError:
        return Path(POLICY_FILE)
    root = result.stdout.strip() if result.returncode == 0 else ""
    return Path(root or ".") / POLICY_FILE


def validate(path: Path | None) -> int:
    """0 when the file is valid; 1 with every error (path and line) otherwise."""
    from gitops_health.rules.config.policy import parse_policy
    from gitops_health.rules.config.schema import ConfigInvalid

    explicit = path is not None
    path = path or default_policy_path()
    if not path.is_file():
        if explicit:
            print(f"{path}: no such file", file=sys.stderr)
            return 1
        print(f"{path}: not found; the built-in defaults apply")
        return 0
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        print(f"{path}: cannot read it: {exc.strerror}")
        return 1
    except UnicodeDecodeError as exc:
        print(f"{path}: not UTF-8 (bad byte at offset {exc.start}); save it as UTF-8")
        return 1
    try:
        parse_policy(text, str(path))
    except ConfigInvalid as invalid:
        for error in invalid.errors:
            print(f"{path}:{error.line}: {error.path or '<root>'}: {error.message}")
        count = len(invalid.errors)
        print(f"{path}: {count} error{'s' if count != 1 else ''}")
        return 1
    print(f"{path}: valid")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
