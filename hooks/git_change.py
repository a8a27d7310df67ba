"""Build a `Change` from a local commit range, as a pull request of `head` into `base` would be.

Like a forge, the change is what `head` adds since it forked from `base` (`base...head`):
files from `git diff <merge-base> <head>`, commits from `git log base..head` (ONE call, with
git's signature verdicts, SSH signatures checked against the allowed-signers file as of the
base), CODEOWNERS and the files the policy refers to read as of the base in ONE
`git cat-file --batch` call, and the history figures from `gitops_health.rules.history`.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from gitops_health.hooks.verify_push import GitError, git, signature_format
from gitops_health.rules.change import (
    AddedLine,
    Change,
    Commit,
    FileChange,
    FileStatus,
    Identity,
    Signature,
)
from gitops_health.rules.codeowners import CODEOWNERS_PATHS
from gitops_health.rules.config.policy import POLICY_FILE
from gitops_health.rules.config.signing import SigningConfig
from gitops_health.rules.diff import added_lines

DEFAULT_ALLOWED_SIGNERS = SigningConfig().allowed_signers_file
LOG_FIELDS = (
    "%H", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%G?", "%GS", "%GK", "%GF", "%GP", "%GG", "%B",
)  # fmt: skip
_STATUS = {
    "A": FileStatus.ADDED,
    "M": FileStatus.MODIFIED,
    "D": FileStatus.REMOVED,
    "R": FileStatus.RENAMED,
    "C": FileStatus.COPIED,
    "T": FileStatus.MODIFIED,
}


def rev_parse(root: Path, rev: str) -> str:
    try:
        return git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=root).stdout.strip()
    except GitError:
        raise GitError(f"unknown revision {rev!r} in {root}") from None


def branch_name(root: Path, rev: str) -> str:
    """The branch `rev` names (`HEAD` → the checked-out branch), else `rev` itself."""
    result = subprocess.run(
        ["git", "rev-parse", "--abbrev-ref", rev], cwd=root, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    name = result.stdout.strip()
    return name if result.returncode == 0 and name and name != "HEAD" else rev


def read_blobs(root: Path, rev: str, paths: Sequence[str]) -> dict[str, bytes]:
    """The content of each path at `rev`, in one `git cat-file --batch`; absent paths left out."""
    request = "".join(f"{rev}:{p}\n" for p in paths).encode()
    output = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=root, input=request, capture_output=True, check=True
    ).stdout
    found: dict[str, bytes] = {}
    offset = 0
    for path in paths:
        end = output.index(b"\n", offset)
        header = output[offset:end].split()
        offset = end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        if header[1] == b"blob":
            found[path] = output[offset : offset + size]
        offset += size + 1
    return found


@contextmanager
def _verification_config(allowed_signers: bytes | None) -> Iterator[list[str]]:
    """`-c gpg.ssh.allowedSignersFile=...` pointing at the base's file, when the base has one."""
    if allowed_signers is None:
        yield []
        return
    with tempfile.NamedTemporaryFile(prefix="allowed_signers.") as handle:
        handle.write(allowed_signers)
        handle.flush()
        yield ["-c", f"gpg.ssh.allowedSignersFile={handle.name}"]


def _commit(fields: Sequence[str]) -> Commit:
    sha, parents, an, ae, at, cn, ce, status, signer, key, fpr, primary, raw, body = fields
    signature = Signature(
        status, signer, fpr or key, format=signature_format(key, raw), primary_key=primary
    )
    return Commit(
        sha=sha.lstrip("\n"),
        message=body.rstrip("\n"),
        author=Identity(an, ae),
        committer=Identity(cn, ce),
        signature=signature,
        parents=tuple(parents.split()),
        authored_at=datetime.fromisoformat(at),
    )


def read_commits(root: Path, revisions: str, allowed_signers: bytes | None) -> list[Commit]:
    """Commits of `revisions` (oldest first) with git's signature verdicts, in one `git log`."""
    fmt = "%x00".join(LOG_FIELDS)
    with _verification_config(allowed_signers) as config:
        args = ["log", "--no-show-signature", "--reverse", "-z", f"--format={fmt}", revisions]
        output = git(*config, *args, cwd=root)
    values = output.stdout.split("\0")
    width = len(LOG_FIELDS)
    return [_commit(values[i : i + width]) for i in range(0, len(values) - width + 1, width)]


def _name_status(root: Path, old: str, new: str) -> list[tuple[FileStatus, str, str | None]]:
    """(status, path, previous path) of every changed file, in git's diff order."""
    tokens = git("diff", "-z", "-M", "--name-status", old, new, cwd=root).stdout.split("\0")
    entries = []
    index = 0
    while index < len(tokens) - 1:
        letter = tokens[index][:1]
        if letter in ("R", "C"):
            entries.append((_STATUS[letter], tokens[index + 2], tokens[index + 1]))
            index += 3
        else:
            entries.append((_STATUS.get(letter, FileStatus.MODIFIED), tokens[index + 1], None))
            index += 2
    return entries


def _numstat(root: Path, old: str, new: str) -> list[tuple[int, int, bool]]:
    """(additions, deletions, binary) per changed file, in the same order."""
    tokens = git("diff", "-z", "-M", "--numstat", old, new, cwd=root).stdout.split("\0")
    stats = []
    index = 0
    while index < len(tokens) - 1:
        added, deleted, path = tokens[index].split("\t", 2)
        binary = added == "-"
        stats.append((0 if binary else int(added), 0 if binary else int(deleted), binary))
        index += 3 if path == "" else 1  # a rename is followed by its two paths
    return stats


def _added_lines(root: Path, old: str, new: str) -> list[tuple[AddedLine, ...]]:
    """Added lines with their numbers in the new file, per changed file in diff order."""
    patch = git("diff", "-M", "-U0", "--no-color", "--no-ext-diff", old, new, cwd=root).stdout
    per_file = re.split(r"^diff --git .*$", patch, flags=re.MULTILINE)[1:]
    return [added_lines(text) for text in per_file]


def read_files(root: Path, old: str, new: str) -> tuple[FileChange, ...]:
    names = _name_status(root, old, new)
    stats = _numstat(root, old, new)
    added = _added_lines(root, old, new)
    return tuple(
        FileChange(path, status, previous, additions, deletions, lines, binary)
        for (status, path, previous), (additions, deletions, binary), lines in zip(
            names, stats, added, strict=True
        )
    )


def _title_and_description(commits: Sequence[Commit], head_ref: str) -> tuple[str, str]:
    """What a forge proposes for a new PR: the lone commit's message, else the branch name."""
    if len(commits) == 1:
        subject, _, body = commits[0].message.partition("\n")
        return subject, body.strip()
    return head_ref, ""


def build_change(
    repo: str | Path,
    base: str,
    head: str,
    *,
    with_history: bool = True,
    allowed_signers_file: str = DEFAULT_ALLOWED_SIGNERS,
) -> Change:
    """The Change `head` would be as a pull request into `base`; raises GitError on bad refs."""
    root = Path(repo).resolve()
    base_sha, head_sha = rev_parse(root, base), rev_parse(root, head)
    try:
        fork = git("merge-base", base_sha, head_sha, cwd=root).stdout.strip()
    except GitError:
        raise GitError(f"{base} and {head} have no common history") from None
    wanted = (*CODEOWNERS_PATHS, allowed_signers_file, POLICY_FILE)
    blobs = read_blobs(root, base_sha, wanted)
    commits = read_commits(root, f"{fork}..{head_sha}", blobs.get(allowed_signers_file))
    head_ref = branch_name(root, head)
    title, description = _title_and_description(commits, head_ref)
    codeowners = next((blobs[p] for p in CODEOWNERS_PATHS if p in blobs), None)
    change = Change(
        repository=str(root),
        base_ref=branch_name(root, base),
        head_ref=head_ref,
        base_sha=base_sha,
        head_sha=head_sha,
        title=title,
        description=description,
        author=commits[0].author if commits else Identity(),
        files=read_files(root, fork, head_sha),
        commits=tuple(commits),
        codeowners=codeowners.decode("utf-8", "replace") if codeowners is not None else None,
        base_files={
            p: blobs[p].decode("utf-8", "replace")
            for p in (allowed_signers_file, POLICY_FILE)
            if p in blobs
        },
    )
    return _with_history(change, root) if with_history else change


def _with_history(change: Change, root: Path) -> Change:
    from dataclasses import replace

    from gitops_health.rules.history import HistoryUnavailable, with_history

    try:
        return with_history(change, root)
    except HistoryUnavailable as exc:
        return replace(change, notes=(*change.notes, f"history features absent: {exc}"))
