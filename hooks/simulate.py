"""`gitops-health simulate`: evaluate a local branch as if it were a pull request.

The verdict uses the policy as of the base (as the bot does), or `--policy FILE`; when the
branch changes `.gitops-health.yml`, its new version is validated and its errors reported.
`--admin-policy FILE` previews what the bot started with that admin policy would enforce.
Exit status: 0 when the PR would pass, 1 when it would be pending or failing, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from gitops_health.hooks.git_change import GitError, build_change, git, read_blobs
from gitops_health.rules.change import Change, Identity, Review, ReviewState
from gitops_health.rules.config.admin import load_admin_policy, merge_policies
from gitops_health.rules.config.policy import POLICY_FILE, Policy, load_policy, parse_policy
from gitops_health.rules.config.schema import ConfigInvalid
from gitops_health.rules.report import Report


class InputError(Exception):
    """Bad input the user must fix; its message says what."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitops-health simulate",
        description="Evaluate a local branch as if it were a pull request and print the report.",
    )
    parser.add_argument("--repo", default=".", help="repository (default: the current one)")
    parser.add_argument("--base", default="main", help="target branch (default: main)")
    parser.add_argument("--head", default="HEAD", help="branch or commit to evaluate")
    parser.add_argument(
        "--approve", default="", metavar="LOGINS",
        help="comma-separated logins (or e-mails) approving the current head",
    )  # fmt: skip
    parser.add_argument(
        "--request-changes", default="", metavar="LOGINS",
        help="comma-separated logins (or e-mails) requesting changes on the current head",
    )  # fmt: skip
    parser.add_argument("--policy", type=Path, help="policy file (default: the base's own)")
    parser.add_argument("--admin-policy", type=Path, help="the bot's server-side admin policy")
    parser.add_argument("--author", help="the PR author's forge login")
    parser.add_argument("--title", help="PR title (default: the lone commit's subject)")
    parser.add_argument("--description", help="PR description")
    parser.add_argument("--label", action="append", default=[], help="PR label (repeatable)")
    parser.add_argument("--draft", action="store_true", help="evaluate as a draft PR")
    parser.add_argument("--json", action="store_true", help="print the JSON report")
    parser.add_argument(
        "--color", action=argparse.BooleanOptionalAction, default=None,
        help="colour the terminal report (default: when stdout is a terminal)",
    )  # fmt: skip
    return parser


def repo_root(path: str) -> Path:
    try:
        return Path(git("rev-parse", "--show-toplevel", cwd=Path(path)).stdout.strip())
    except (GitError, OSError) as exc:
        raise InputError(f"{path} is not inside a git repository ({exc})") from None


def _policy_at(root: Path, rev: str) -> str | None:
    blob = read_blobs(root, rev, [POLICY_FILE]).get(POLICY_FILE)
    return blob.decode("utf-8", "replace") if blob is not None else None


def read_policy(args: argparse.Namespace, root: Path) -> Policy:
    """The policy the verdict uses: --policy, else the base's file, merged under --admin-policy."""
    try:
        if args.policy is not None:
            source = str(args.policy)
            policy = load_policy(args.policy)
        else:
            source, text = f"{args.base}:{POLICY_FILE}", _policy_at(root, args.base)
            policy = parse_policy(text, source) if text else Policy()
        if args.admin_policy is None:
            return policy
        return merge_policies(load_admin_policy(args.admin_policy), policy, source=source)
    except ConfigInvalid as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:
        raise InputError(f"cannot read the policy: {exc}") from None


def changed_policy_errors(root: Path, base: str, head: str) -> tuple[str, ...]:
    """Errors of the head's `.gitops-health.yml` when the branch changes it."""
    new, old = _policy_at(root, head), _policy_at(root, base)
    if new is None or new == old:
        return ()
    try:
        parse_policy(new, f"{head}:{POLICY_FILE}")
    except ConfigInvalid as exc:
        return tuple(f"{exc.source}: {error}" for error in exc.errors)
    return ()


def _person(text: str) -> Identity:
    return Identity(email=text) if "@" in text else Identity(login=text)


def as_pull_request(change: Change, args: argparse.Namespace) -> Change:
    """The change with what the command line says about the PR and its approvals."""
    updates: dict[str, object] = {"draft": args.draft}
    if args.author:
        updates["author"] = replace(change.author, login=args.author)
    if args.title is not None:
        updates["title"] = args.title
    if args.description is not None:
        updates["description"] = args.description
    if args.label:
        updates["labels"] = tuple(args.label)
    reviews = [
        Review(_person(name.strip()), state, commit_sha=change.head_sha)
        for names, state in (
            (args.approve, ReviewState.APPROVED),
            (args.request_changes, ReviewState.CHANGES_REQUESTED),
        )
        for name in names.split(",")
        if name.strip()
    ]
    return replace(change, **updates).with_reviews(*reviews)  # type: ignore[arg-type]


def simulate(args: argparse.Namespace) -> Report:
    from gitops_health.rules.engine import evaluate

    root = repo_root(args.repo)
    policy = read_policy(args, root)
    try:
        change = build_change(
            root, args.base, args.head, allowed_signers_file=policy.signing.allowed_signers_file
        )
    except GitError as exc:
        raise InputError(str(exc)) from None
    report = evaluate(as_pull_request(change, args), policy)
    return replace(report, policy_errors=changed_policy_errors(root, args.base, args.head))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = simulate(args)
    except InputError as exc:
        print(f"gitops-health simulate: {exc}", file=sys.stderr)
        return 2
    from gitops_health.rules.render import render_json, render_terminal

    if args.json:
        print(render_json(report))
    else:
        color = sys.stdout.isatty() if args.color is None else args.color
        print(render_terminal(report, color=color))
    return 0 if report.conclusion == "success" else 1
