"""`commit_msg:` section: Conventional Commits policy (defaults: commitlint config-conventional)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CONVENTIONAL_TYPES = (
    "build", "chore", "ci", "docs", "feat", "fix", "perf", "refactor", "revert", "style", "test",
)  # fmt: skip


def _check_regex(value: Any) -> str | None:
    # Imported on use: the commit-msg hook must not pay for YAML when no policy file exists.
    from gitops_health.rules.config.schema import check_regex

    return check_regex(value)


@dataclass(frozen=True)
class TicketRule:
    """A required ticket reference (e.g. `[A-Z]+-\\d+`), optionally only for some types."""

    pattern: str = field(default=r"[A-Z][A-Z0-9]+-\d+", metadata={"check": _check_regex})
    types: tuple[str, ...] = field(default=(), metadata={"doc": "only these types; empty = all"})
    where: Literal["header", "body", "footer", "anywhere"] = "anywhere"


@dataclass(frozen=True)
class CommitMsgConfig:
    """Conventional Commits 1.0.0 rules for commit messages (and PR titles in the bot)."""

    types: tuple[str, ...] = field(
        default=CONVENTIONAL_TYPES, metadata={"doc": "allowed types; empty = any"}
    )
    type_case: Literal["lower", "any"] = field(
        default="lower", metadata={"doc": "lower: `Feat:`/`FEAT:` are rejected; any: accepted"}
    )
    scopes: tuple[str, ...] = field(default=(), metadata={"doc": "allowed scopes; empty = any"})
    scope_required: bool = False
    multiple_scopes: bool = field(default=False, metadata={"doc": "allow `a,b` or `a/b`"})
    header_max_length: int = field(default=100, metadata={"doc": "0 = no limit"})
    subject_case: Literal["lower", "any"] = field(
        default="lower", metadata={"doc": "lower: description must not start upper-case"}
    )
    subject_full_stop: bool = field(default=False, metadata={"doc": "allow a trailing `.`"})
    body_max_line_length: int = field(default=0, metadata={"doc": "0 = no limit"})
    footer_max_line_length: int = field(default=0, metadata={"doc": "0 = no limit"})
    body_leading_blank: bool = True
    required_trailers: tuple[str, ...] = field(default=(), metadata={"doc": "e.g. Signed-off-by"})
    ticket: TicketRule | None = None
    exemptions: bool = field(
        default=True, metadata={"doc": "accept git's own Merge/Revert/fixup!/squash! messages"}
    )
    pr_title: bool = field(
        default=True, metadata={"doc": "the bot also lints PR titles (squash merges use them)"}
    )
