"""History figures of a change from a local clone (a work tree or the bot's bare mirror).

One `git log --name-only` pass over the history up to the base commit is parsed into an index
(commits by path and by author) and cached per (repository, base commit); every change on the
same base reuses it. From the index, `compute_history` fills the `History` of a change: per
touched file its age, prior authors, changes and fixes; for the author their experience
overall, recent and in the touched subsystems (see `rules/risk/model.py` for the metrics).
GitPython is imported only when history is computed.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from gitops_health.rules.change import (
    AuthorHistory,
    Change,
    FileChange,
    FileHistory,
    FileStatus,
    History,
    Identity,
)
from gitops_health.rules.risk.features import FIX_PATTERN, subsystem_of

DAY = 86400.0
YEAR = 365.25 * DAY
_START, _END_MESSAGE = "\x01", "\x1e"
_FORMAT = "%x01%H%x1f%at%x1f%aE%x1f%aN%x1f%B%x1e"


class HistoryUnavailable(RuntimeError):
    """The repository or revision cannot be read; the score then goes without history."""


@dataclass(frozen=True)
class LoggedCommit:
    sha: str
    timestamp: float  # author time, unix seconds
    author: str  # lower-cased e-mail, or the name when there is no e-mail
    fix: bool
    paths: tuple[str, ...]


@dataclass(frozen=True)
class LogIndex:
    commits: tuple[LoggedCommit, ...]  # newest first
    by_path: dict[str, list[int]]  # path -> indexes into commits
    by_author: dict[str, list[int]]


def author_key(identity: Identity) -> str:
    return (identity.email or identity.login or identity.name).lower()


def _parse_log(text: str) -> list[LoggedCommit]:
    commits = []
    for record in text.split(_START)[1:]:
        header, _, names = record.partition(_END_MESSAGE)
        sha, stamp, email, name, message = header.split("\x1f", 4)
        paths = tuple(line for line in names.splitlines() if line)
        key = (email or name).lower()
        commits.append(
            LoggedCommit(sha, float(stamp), key, bool(FIX_PATTERN.search(message)), paths)
        )
    return commits


@lru_cache(maxsize=16)
def _index(git_dir: str, base_sha: str) -> LogIndex:
    import git

    try:
        text = git.Repo(git_dir).git.execute(
            [
                "git",
                "-c",
                "core.quotePath=false",
                "log",
                "--no-merges",
                "--no-renames",
                "--name-only",
                f"--format={_FORMAT}",
                base_sha,
                "--",
            ]
        )
    except git.GitCommandError as exc:
        raise HistoryUnavailable(f"git log {base_sha} failed: {exc.stderr.strip()}") from exc
    commits = tuple(_parse_log(text))
    by_path: dict[str, list[int]] = defaultdict(list)
    by_author: dict[str, list[int]] = defaultdict(list)
    for i, commit in enumerate(commits):
        by_author[commit.author].append(i)
        for path in commit.paths:
            by_path[path].append(i)
    return LogIndex(commits, dict(by_path), dict(by_author))


def _resolve(repo: str | Path, rev: str) -> tuple[object, str, str]:
    """(GitPython Repo, its git dir, the commit SHA of `rev`)."""
    import git

    try:
        handle = git.Repo(repo, search_parent_directories=True)
        sha = handle.commit(rev).hexsha
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise HistoryUnavailable(f"{repo} is not a git repository") from exc
    except (git.BadName, ValueError) as exc:
        raise HistoryUnavailable(f"unknown revision {rev!r} in {repo}") from exc
    return handle, str(Path(handle.git_dir).resolve()), sha


def _file_history(index: LogIndex, path: str, lookup: str, now: float) -> FileHistory:
    touching = [index.commits[i] for i in index.by_path.get(lookup, ())]
    if not touching:
        return FileHistory(path)
    return FileHistory(
        path=path,
        age_days=max(now - touching[0].timestamp, 0.0) / DAY,
        authors=tuple(sorted({c.author for c in touching})),
        changes=len(touching),
        fixes=sum(c.fix for c in touching),
    )


def _author_history(
    index: LogIndex, author: str, paths: Sequence[str], now: float
) -> AuthorHistory:
    subsystems = {subsystem_of(p) for p in paths}
    own = [index.commits[i] for i in index.by_author.get(author, ())]
    seen_subsystems: set[str] = set()
    files_in_subsystems = set(paths)
    recent = recent_files = 0.0
    in_subsystems = file_changes = 0
    for commit in own:
        touched = {subsystem_of(p) for p in commit.paths}
        seen_subsystems |= touched
        in_subsystems += bool(touched & subsystems)
        file_changes += len(commit.paths)
        age = max(now - commit.timestamp, 0.0)
        recent += 1.0 / (age / YEAR + 1.0)
        recent_files += len(commit.paths) / (age / DAY + 1.0)
        files_in_subsystems |= {p for p in commit.paths if subsystem_of(p) in subsystems}
    return AuthorHistory(
        experience=len(own),
        recent_experience=recent,
        subsystem_experience=in_subsystems,
        first_change_in_subsystems=tuple(sorted(subsystems - seen_subsystems)),
        file_changes=file_changes,
        recent_file_changes=recent_files,
        subsystem_files=len(files_in_subsystems),
    )


def compute_history(
    repo: str | Path,
    base: str,
    files: Sequence[FileChange],
    author: Identity,
    now: datetime | None = None,
) -> History:
    """History before the change `files` makes on top of `base`, as of `now` (default: now)."""
    _, git_dir, base_sha = _resolve(repo, base)
    index = _index(git_dir, base_sha)
    at = now.timestamp() if now is not None else time.time()
    per_file = tuple(_file_history(index, f.path, f.previous_path or f.path, at) for f in files)
    lookups = {f.previous_path or f.path for f in files}
    unique = {i for p in lookups for i in index.by_path.get(p, ())}
    return History(
        files=per_file,
        author=_author_history(index, author_key(author), [f.path for f in files], at),
        unique_prior_changes=len(unique),
        base_sha=base_sha,
    )


def _count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def lines_before(repo: str | Path, base: str, paths: Sequence[str]) -> dict[str, int]:
    """Lines of each path at `base` (Kamei's LT per file); paths absent there are left out."""
    handle, _, base_sha = _resolve(repo, base)
    tree = handle.commit(base_sha).tree  # type: ignore[attr-defined]
    sizes = {}
    for path in paths:
        try:
            blob = tree / path
        except KeyError:
            continue
        sizes[path] = _count_lines(blob.data_stream.read())
    return sizes


def with_history(change: Change, repo: str | Path) -> Change:
    """`change` with its history and missing LT filled in from the clone at `repo`.

    The base is `change.base_sha` (else `base_ref`); "now" is the newest commit's author time,
    so the figures of an old change are those it had when it was made.
    """
    base = change.base_sha or change.base_ref or "HEAD"
    stamps = [c.authored_at for c in change.commits if c.authored_at is not None]
    author = change.author if change.author.email else _first_author(change)
    history = compute_history(repo, base, change.files, author, max(stamps, default=None))
    unknown = [
        f.previous_path or f.path
        for f in change.files
        if f.lines_before is None and f.status is not FileStatus.ADDED
    ]
    sizes = lines_before(repo, base, unknown) if unknown else {}
    files = tuple(
        replace(f, lines_before=sizes.get(f.previous_path or f.path, 0))
        if f.lines_before is None and f.status is not FileStatus.ADDED
        else f
        for f in change.files
    )
    return replace(change, history=history, files=files)


def _first_author(change: Change) -> Identity:
    return change.commits[0].author if change.commits else change.author
