"""`gitops-health verify-push`: block a push carrying commits the signing policy rejects.

Two ways to run it:
- plain git hook (`gitops-health verify-push "$@"` in .git/hooks/pre-push): git passes the remote
  name and URL as arguments and one `<local ref> <local oid> <remote ref> <remote oid>` line per
  pushed ref on stdin; every ref is checked.
- pre-commit framework (stage pre-push): pre-commit reads that stdin itself and only passes the
  FIRST ref with new commits, as PRE_COMMIT_FROM_REF/TO_REF, or, when that ref brings a root
  commit, as PRE_COMMIT_LOCAL_BRANCH alone. Other refs of the same push are not seen.

Without either (run by hand), it checks HEAD's commits that no remote has yet.
New commits of a ref are `git rev-list <local oid> --not --remotes=<remote>`; their signatures
come from ONE `git log` call. Kept light: subprocess git only, no GitPython.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from gitops_health.rules.change import Commit, Identity, Signature
from gitops_health.rules.config.policy import find_policy
from gitops_health.rules.config.schema import ConfigInvalid
from gitops_health.rules.config.signing import SigningConfig
from gitops_health.rules.signatures import (
    RESIGN,
    AllowedSigners,
    SignatureProblem,
    check_commits,
    parse_allowed_signers,
)

LOG_FIELDS = (
    "%H", "%G?", "%GS", "%GK", "%GF", "%GP", "%cn", "%ce", "%an", "%ae", "%P", "%s", "%GG",
)  # fmt: skip
SSH_MARKERS = ('"git" signature', "Could not verify signature")  # ssh-keygen -Y verify output
NO_ALLOWED_SIGNERS = "gpg.ssh.allowedSignersFile needs to be configured"


class GitError(RuntimeError):
    pass


@dataclass(frozen=True)
class RefUpdate:
    """One pushed ref, as git's pre-push stdin describes it."""

    local_ref: str
    local_oid: str  # a commit id, or a ref name when pre-commit gave only the branch
    remote_ref: str = ""
    remote_oid: str = ""  # "" or all zeros: the remote does not have the ref yet

    @property
    def label(self) -> str:
        return f"{self.local_ref} → {self.remote_ref}" if self.remote_ref else self.local_ref


def is_zero(oid: str) -> bool:
    return not oid.strip("0")


def git(
    *args: str, cwd: Path | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, input=input, capture_output=True, text=True,
            encoding="utf-8", errors="replace", check=False,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    if result.returncode != 0:
        raise GitError(f"`git {args[0]}` failed: {result.stderr.strip()}")
    return result


def parse_pre_push(text: str) -> list[RefUpdate]:
    """git's pre-push stdin; deletions (local oid all zeros) are left out."""
    updates = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.rsplit(maxsplit=3)
        if len(parts) != 4:
            raise ValueError(f"unexpected pre-push input line {line!r} (want 4 fields)")
        update = RefUpdate(*parts)
        if not is_zero(update.local_oid):
            updates.append(update)
    return updates


def updates_from_pre_commit(env: Mapping[str, str]) -> list[RefUpdate] | None:
    """The one ref pre-commit tells hooks about, or None outside a pre-commit pre-push run."""
    local_branch = env.get("PRE_COMMIT_LOCAL_BRANCH", "")
    remote_branch = env.get("PRE_COMMIT_REMOTE_BRANCH", "")
    to_ref = env.get("PRE_COMMIT_TO_REF", "")
    if to_ref:
        from_ref = env.get("PRE_COMMIT_FROM_REF", "")
        return [RefUpdate(local_branch or to_ref, to_ref, remote_branch, from_ref)]
    if local_branch:  # a push bringing a root commit: pre-commit sets no FROM/TO
        return [RefUpdate(local_branch, local_branch, remote_branch)]
    return None


def new_commits(update: RefUpdate, remote: str | None, root: Path) -> list[str]:
    """Commits of the update that the remote does not have, newest first."""
    excluded = [f"--remotes={remote}"] if remote else []
    if update.remote_oid and not is_zero(update.remote_oid):
        excluded.append(update.remote_oid)
    if not excluded:
        excluded = ["--remotes"]
    args = ["rev-list", "--ignore-missing", "--topo-order", update.local_oid, "--not", *excluded]
    return git(*args, cwd=root).stdout.split()


def signature_format(key: str, raw: str) -> str:
    """openpgp | ssh | x509 from the key id and the verifier's raw output (%GG)."""
    first_line = raw.split("\n", 1)[0]
    if key.startswith("SHA256:") or any(marker in first_line for marker in SSH_MARKERS):
        return "ssh"
    if "gpgsm" in raw or "gitsign" in raw:
        return "x509"
    return "openpgp" if raw else ""


def _commit(fields: Sequence[str]) -> Commit:
    sha, status, signer, key, fpr, primary, cn, ce, an, ae, parents, subject, raw = fields
    fmt = signature_format(key, raw)
    signature = Signature(status, signer, fpr or key, format=fmt, primary_key=primary)
    return Commit(
        sha.lstrip("\n"), subject, Identity(an, ae), Identity(cn, ce), signature,
        tuple(parents.split()),
    )  # fmt: skip


def parse_log(output: str) -> list[Commit]:
    """Records of `git log -z` with NUL-separated LOG_FIELDS."""
    values = output.split("\0")
    width = len(LOG_FIELDS)
    return [_commit(values[i : i + width]) for i in range(0, len(values) - width + 1, width)]


def read_commits(
    shas: Sequence[str], root: Path, allowed_signers: Path | None
) -> tuple[list[Commit], str]:
    """Signature facts for every commit in one `git log` call, and git's stderr."""
    config = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"] if allowed_signers else []
    fmt = "%x00".join(LOG_FIELDS)
    args = [*config, "log", "--no-walk=unsorted", "--stdin", "-z", f"--format={fmt}"]
    result = git(*args, cwd=root, input="\n".join(shas) + "\n")
    return parse_log(result.stdout), result.stderr


def allowed_signers_path(root: Path, config: SigningConfig) -> Path | None:
    """The repo's allowed_signers file, else git's own `gpg.ssh.allowedSignersFile`."""
    repo_file = root / config.allowed_signers_file
    if repo_file.is_file():
        return repo_file
    configured = subprocess.run(
        ["git", "config", "--type=path", "--get", "gpg.ssh.allowedSignersFile"],
        cwd=root, capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    path = root / configured if configured else None
    return path if path is not None and path.is_file() else None


def known_remote(remote: str | None, root: Path) -> str | None:
    """The remote's name for `--remotes=`, or None when the push went to a bare URL."""
    if not remote:
        return None
    return remote if remote in git("remote", cwd=root).stdout.split() else None


def rebase_base(commits: Sequence[Commit]) -> str:
    """What to rebase onto to re-sign `commits` (newest first): the oldest one's parent."""
    parents = commits[-1].parents
    return parents[0][:12] if parents else "--root"


def format_problem(problem: SignatureProblem) -> str:
    commit = problem.commit
    status = commit.signature.status
    return "\n".join(
        (
            f"  {commit.sha[:12]}  {commit.subject}",
            f"      {status}: {problem.status_words}",
            f"      problem: {problem.problem}",
            f"      fix: {problem.fix}",
        )
    )


def report(update: RefUpdate, checked: int, problems: Sequence[SignatureProblem]) -> str:
    lines = [
        f"{update.label}: {len(problems)} of {checked} new commit(s) not signed as the policy "
        "requires:",
        *(format_problem(p) for p in problems),
    ]
    to_resign = [p.commit for p in problems if p.resign]
    if to_resign:
        command = RESIGN.format(base=rebase_base(to_resign))
        lines.append(f"  then re-sign them, on {update.local_ref}: {command}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Verification:
    reports: list[str]
    notes: list[str]


def verify(updates: Sequence[RefUpdate], remote: str | None, root: Path) -> Verification:
    config = find_policy(root).signing
    remote_name = known_remote(remote, root)
    per_ref = [(update, new_commits(update, remote_name, root)) for update in updates]
    unique = list(dict.fromkeys(sha for _, shas in per_ref for sha in shas))
    if not unique:
        return Verification([], [])
    path = allowed_signers_path(root, config)
    commits, stderr = read_commits(unique, root, path)
    signers = _load_signers(path)
    notes = _notes(stderr, signers, path, config.allowed_signers_file)
    problems = {p.commit.sha: p for p in check_commits(commits, config, signers)}
    reports = []
    for update, shas in per_ref:
        bad = [problems[sha] for sha in shas if sha in problems]
        if bad:
            reports.append(report(update, len(shas), bad))
    return Verification(reports, notes)


def _load_signers(path: Path | None) -> AllowedSigners | None:
    if path is None:
        return None
    return parse_allowed_signers(path.read_text(encoding="utf-8", errors="replace"))


def _notes(
    stderr: str, signers: AllowedSigners | None, path: Path | None, repo_file: str
) -> list[str]:
    errors = signers.errors if signers is not None else ()
    notes = [f"{path}:{line}: {problem} (line ignored)" for line, problem in errors]
    if NO_ALLOWED_SIGNERS in stderr:
        notes.append(
            "SSH-signed commits cannot be verified without an allowed-signers file, so they show "
            f"as N: add {repo_file} to the repo or set `git config gpg.ssh.allowedSignersFile PATH`"
        )
    return notes


def repo_root() -> Path:
    return Path(git("rev-parse", "--show-toplevel").stdout.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitops-health verify-push",
        description="Block a push whose new commits are not signed as .gitops-health.yml "
        'requires. As a git pre-push hook: `gitops-health verify-push "$@"`.',
    )
    parser.add_argument("remote", nargs="?", help="remote name (git passes it to pre-push)")
    parser.add_argument("url", nargs="?", help="remote URL (git passes it to pre-push)")
    return parser


def ref_updates(args: argparse.Namespace, stdin: TextIO, env: Mapping[str, str]) -> list[RefUpdate]:
    if args.remote:
        return parse_pre_push(stdin.read())
    from_pre_commit = updates_from_pre_commit(env)
    return from_pre_commit if from_pre_commit is not None else [RefUpdate("HEAD", "HEAD")]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    remote = args.remote or os.environ.get("PRE_COMMIT_REMOTE_NAME")
    try:
        updates = ref_updates(args, sys.stdin, os.environ)
        result = verify(updates, remote, repo_root())
    except (GitError, ConfigInvalid, ValueError, OSError) as exc:
        print(f"gitops-health verify-push: {exc}", file=sys.stderr)
        return 2
    for note in result.notes:
        print(f"note: {note}")
    if not result.reports:
        return 0
    print("gitops-health verify-push: push blocked by the signing policy (.gitops-health.yml).")
    print("\n\n".join(result.reports))
    print(
        "\nRe-signing rewrites the commits: run the fix on the branch, check `git log "
        "--show-signature`, then push again (with --force-with-lease if they were pushed before)."
    )
    return 1
