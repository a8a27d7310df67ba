"""The `commit_msg:` policy defaults as plain class attributes.

The commit-msg hook runs on every commit, and most repositories have no policy file; it then
lints with `DEFAULTS` and never imports `dataclasses` (which imports `inspect`, `ast`, `dis`...).
`CommitMsgConfig` takes its field defaults from `CommitMsgDefaults`, so they are written once.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Literal

    from gitops_health.rules.config.commit_msg import TicketRule

CONVENTIONAL_TYPES = (
    "build", "chore", "ci", "docs", "feat", "fix", "perf", "refactor", "revert", "style", "test",
)  # fmt: skip


class CommitMsgDefaults:
    """The default policy, read-only: `CommitMsgConfig()` with nothing set."""

    __slots__ = ()

    types: tuple[str, ...] = CONVENTIONAL_TYPES
    type_case: Literal["lower", "any"] = "lower"
    scopes: tuple[str, ...] = ()
    scope_required: bool = False
    multiple_scopes: bool = False
    header_max_length: int = 100
    subject_case: Literal["lower", "any"] = "lower"
    subject_full_stop: bool = False
    body_max_line_length: int = 0
    footer_max_line_length: int = 0
    body_leading_blank: bool = True
    required_trailers: tuple[str, ...] = ()
    ticket: TicketRule | None = None
    exemptions: bool = True
    pr_title: bool = True


DEFAULTS = CommitMsgDefaults()
