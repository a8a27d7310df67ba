"""The `gitops-health` command: a thin dispatcher that imports only the subcommand it runs.

Each subcommand is a module with `main(argv=None) -> int`; importing lazily keeps the
start-up of light hooks (commit-msg, signing) free of the heavy engines.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "commit-msg": ("gitops_health.hooks.commit_msg", "lint a commit message file"),
    "signing-check": ("gitops_health.hooks.signing_check", "check this clone's signing setup"),
    "verify-push": ("gitops_health.hooks.verify_push", "verify signatures of pushed commits"),
    "phi": ("gitops_health.hooks.phi_cli", "scan, baseline and redact PHI"),
    "risk": ("gitops_health.hooks.risk_cli", "explained risk score of a commit range"),
    "simulate": ("gitops_health.hooks.simulate", "evaluate a local branch as if it were a PR"),
    "policy": ("gitops_health.hooks.policy_cli", "validate .gitops-health.yml or print its schema"),
    "bot": ("gitops_health.bot.cli", "run and operate the webhook bot"),
    "audit": ("gitops_health.bot.audit_cli", "verify and export the audit trail"),
}


def _usage() -> str:
    width = max(len(name) for name in SUBCOMMANDS)
    lines = ["usage: gitops-health <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in SUBCOMMANDS.items()]
    lines += ["", "Run `gitops-health <command> --help` for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_usage())
        return 0 if args else 2
    if args[0] == "--version":
        from gitops_health import __version__

        print(f"gitops-health {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        print(f"gitops-health: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, _ = SUBCOMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = exc.name or str(exc)
        print(
            f"gitops-health {name}: needs {missing!r}, which is not installed. "
            "Install the extra that provides it: pip install 'gitops-health[phi]' or '[bot]'.",
            file=sys.stderr,
        )
        return 2
    return int(module.main(rest))
