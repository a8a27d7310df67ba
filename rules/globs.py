"""Path globs with gitignore semantics, as CODEOWNERS and the policy file use them.

- a pattern with a `/` before its end is anchored at the repository root (a leading `/` too);
  one without matches at any depth (`*.md`, `migrations/`);
- `*` and `?` stay inside one path segment, `**` spans segments (`infra/**`, `**/tests/**`);
- a pattern naming a directory covers everything inside it (`docs`, `docs/`), but a trailing
  wildcard covers only that level (`docs/*` matches `docs/a.md`, not `docs/sub/b.md`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache


def _segment(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in text[i + 1 :]:
            end = text.index("]", i + 1)
            body = text[i + 1 : end].replace("\\", "\\\\")
            out.append(f"[^{body[1:]}]" if body.startswith("!") else f"[{body}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


@cache
def glob_regex(pattern: str) -> re.Pattern[str]:
    """The compiled regex a path (relative, `/`-separated) must fully match."""
    directory_only = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    parts = body.split("/")
    regex = "" if anchored else "(?:.*/)?"
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            regex += ".*" if last else "(?:.*/)?"
        else:
            regex += _segment(part) + ("" if last else "/")
    if directory_only:
        regex += "/.+"
    elif not parts[-1].endswith("*") or parts[-1] == "**":
        regex += "(?:/.+)?"
    return re.compile(regex)


def matches(path: str, patterns: Iterable[str]) -> bool:
    return any(glob_regex(p).fullmatch(path) for p in patterns)
