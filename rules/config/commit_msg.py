"""`commit_msg:` section: Conventional Commits policy (defaults: commitlint config-conventional)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gitops_health.rules.config.commit_msg_defaults import CONVENTIONAL_TYPES
from gitops_health.rules.config.commit_msg_defaults import CommitMsgDefaults as _Default

__all__ = ["CONVENTIONAL_TYPES", "CommitMsgConfig", "TicketRule"]


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
        default=_Default.types, metadata={"doc": "allowed types; empty = any"}
    )
    type_case: Literal["lower", "any"] = field(
        default=_Default.type_case,
        metadata={"doc": "lower: `Feat:`/`FEAT:` are rejected; any: accepted"},
    )
    scopes: tuple[str, ...] = field(
        default=_Default.scopes, metadata={"doc": "allowed scopes; empty = any"}
    )
    scope_required: bool = _Default.scope_required
    multiple_scopes: bool = field(
        default=_Default.multiple_scopes, metadata={"doc": "allow `a,b` or `a/b`"}
    )
    header_max_length: int = field(
        default=_Default.header_max_length, metadata={"doc": "0 = no limit"}
    )
    subject_case: Literal["lower", "any"] = field(
        default=_Default.subject_case,
        metadata={"doc": "lower: description must not start upper-case"},
    )
    subject_full_stop: bool = field(
        default=_Default.subject_full_stop, metadata={"doc": "allow a trailing `.`"}
    )
    body_max_line_length: int = field(
        default=_Default.body_max_line_length, metadata={"doc": "0 = no limit"}
    )
    footer_max_line_length: int = field(
        default=_Default.footer_max_line_length, metadata={"doc": "0 = no limit"}
    )
    body_leading_blank: bool = _Default.body_leading_blank
    required_trailers: tuple[str, ...] = field(
        default=_Default.required_trailers, metadata={"doc": "e.g. Signed-off-by"}
    )
    ticket: TicketRule | None = _Default.ticket
    exemptions: bool = field(
        default=_Default.exemptions,
        metadata={"doc": "accept git's own Merge/Revert/fixup!/squash! messages"},
    )
    pr_title: bool = field(
        default=_Default.pr_title,
        metadata={"doc": "the bot also lints PR titles (squash merges use them)"},
    )
