"""Reading unified diffs (git, GitHub `patch`, Bitbucket): added lines with new-file numbers."""

from __future__ import annotations

import re

from gitops_health.rules.change import AddedLine

HUNK_HEADER = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def added_lines(patch: str | None) -> tuple[AddedLine, ...]:
    """The `+` lines of a file's hunks, numbered in the new file.

    Text before the first hunk header (`--- a/x`, `+++ b/x`) is not content. Lines are split on
    `\\n` only, so a CR inside a CRLF file's line does not shift the numbering.
    """
    found: list[AddedLine] = []
    number, in_hunk = 0, False
    for line in (patch or "").split("\n"):
        if hunk := HUNK_HEADER.match(line):
            number, in_hunk = int(hunk.group(1)), True
        elif not in_hunk:
            continue
        elif line.startswith("+"):
            found.append(AddedLine(number, line[1:]))
            number += 1
        elif line and not line.startswith(("-", "\\")):
            number += 1
    return tuple(found)
