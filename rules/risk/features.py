"""What the risk score reads from a Change: Kamei's 14 metrics and the reviewer's path facts.

The metrics follow the conventions documented in `model.py` (those of the training data), so
the model sees at run time what it saw in training.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from gitops_health.rules.change import Change, FileChange, FileStatus, History
from gitops_health.rules.config.risk import RiskConfig
from gitops_health.rules.globs import glob_regex

HISTORY_METRICS: tuple[str, ...] = ("ndev", "age", "nuc", "exp", "rexp", "sexp")

# A bug fix: a Conventional Commit `fix` type, or a fix keyword in the title or a message.
# Issue keys are left out on purpose: where every commit cites a ticket they say nothing.
FIX_PATTERN = re.compile(
    r"^\s*fix(\([^)]*\))?!?:|\b(fix(es|ed)?|bugs?|bugfix|hotfix|defect|regression|crash)\b",
    re.IGNORECASE | re.MULTILINE,
)


def subsystem_of(path: str) -> str:
    """First path component; "root" for a top-level file (the training data's convention)."""
    return path.split("/", 1)[0] if "/" in path else "root"


def directory_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else "root"


def is_fix(change: Change) -> bool:
    texts = [change.title, *(c.message for c in change.commits)]
    return any(FIX_PATTERN.search(text) for text in texts if text)


def entropy(changed_lines: Iterable[int]) -> float:
    """−Σ p·log2 p over files' shares of changed lines, unnormalised."""
    counts = [n for n in changed_lines if n > 0]
    total = sum(counts)
    return -sum(n / total * math.log2(n / total) for n in counts) if total else 0.0


def lines_before(files: Sequence[FileChange]) -> int | None:
    """Σ LT over files (0 for added ones); None when a touched file's size is unknown."""
    total = 0
    for f in files:
        if f.status is FileStatus.ADDED:
            continue
        if f.lines_before is None:
            return None
        total += f.lines_before
    return total


def kamei_metrics(change: Change) -> dict[str, float | None]:
    """The 14 metrics of `change`; history ones are None when `change.history` is None."""
    files = change.files
    metrics: dict[str, float | None] = {
        "ns": len({subsystem_of(f.path) for f in files}),
        "nd": len({directory_of(f.path) for f in files}),
        "nf": len(files),
        "entropy": entropy(f.additions + f.deletions for f in files),
        "la": change.additions,
        "ld": change.deletions,
        "lt": lines_before(files),
        "fix": 1 if is_fix(change) else 0,
    }
    metrics.update(dict.fromkeys(HISTORY_METRICS))
    if change.history is not None:
        metrics.update(_history_metrics(change, change.history))
    return metrics


def _history_metrics(change: Change, history: History) -> dict[str, float | None]:
    by_path = {h.path: h for h in history.files}
    known = [by_path[f.path] for f in change.files if f.path in by_path]
    authors = {a.lower() for h in known for a in h.authors}
    author_keys = {k.lower() for k in (change.author.email, change.author.login) if k}
    ages = [(by_path[f.path].age_days if f.path in by_path else None) or 0.0 for f in change.files]
    nf = len(change.files)
    result: dict[str, float | None] = {
        "ndev": len(authors) + (0 if authors & author_keys else 1),
        "age": sum(ages) / len(ages) if ages else 0.0,
        "nuc": sum(h.changes for h in known) + nf,
    }
    author = history.author
    if author is not None:
        result["exp"] = author.file_changes + nf
        result["rexp"] = author.recent_file_changes + nf
        result["sexp"] = author.subsystem_files
    return result


# ---------------------------------------------------------------- path kinds


@cache
def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{glob_regex(p).pattern})" for p in patterns) or "(?!)")


def glob_match(path: str, patterns: Sequence[str]) -> str | None:
    """The first pattern `path` matches, or None (one combined regex tells if any does)."""
    if not _any_of(tuple(patterns)).fullmatch(path):
        return None
    return next((p for p in patterns if glob_regex(p).fullmatch(path)), None)


def shown_prefix(path: str, pattern: str) -> str:
    """What a reason names: the pattern's literal directory ("infra/"), else the file's."""
    literal = re.split(r"[*?]", pattern, maxsplit=1)[0]
    if "/" in literal:
        return literal.rsplit("/", 1)[0] + "/"
    return path


@dataclass(frozen=True)
class PathFacts:
    """The touched paths a reviewer cares about, each list in change order."""

    sensitive: tuple[str, ...]  # shown prefixes ("infra/") of files on sensitive paths
    dependencies: tuple[str, ...]
    migrations: tuple[str, ...]
    ci: tuple[str, ...]
    tests: tuple[str, ...]
    code: tuple[str, ...]  # not test, documentation, dependency or CI file


def _kind_of(path: str, config: RiskConfig) -> str | None:
    """mig(ration), ci or dep(endency) file, or None."""
    kinds = (
        ("mig", config.migration_paths),
        ("ci", config.ci_paths),
        ("dep", config.dependency_files),
    )
    return next((kind for kind, globs in kinds if glob_match(path, globs)), None)


def path_facts(change: Change, config: RiskConfig) -> PathFacts:
    """Classify touched files. A file on a sensitive path counts only as that, so a migration
    under `**/migrations/**` (sensitive by default) is not counted twice."""
    sensitive: dict[str, None] = {}
    kinds: dict[str, list[str]] = {"dep": [], "mig": [], "ci": [], "test": [], "code": []}
    for f in change.files:
        path = f.path
        matched = glob_match(path, config.sensitive_paths)
        kind = _kind_of(path, config)
        if matched is not None:
            sensitive[shown_prefix(path, matched)] = None
        elif kind is not None:
            kinds[kind].append(path)
        if glob_match(path, config.test_paths):
            kinds["test"].append(path)
        elif kind in (None, "mig") and not glob_match(path, config.doc_paths):
            kinds["code"].append(path)
    return PathFacts(
        tuple(sensitive),
        tuple(kinds["dep"]),
        tuple(kinds["mig"]),
        tuple(kinds["ci"]),
        tuple(kinds["test"]),
        tuple(kinds["code"]),
    )
