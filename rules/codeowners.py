"""CODEOWNERS as GitHub and Bitbucket read it: the last matching line names a path's owners."""

from __future__ import annotations

from dataclasses import dataclass

from gitops_health.rules.globs import glob_regex

# Where forges look for the file, in their order of precedence (the first one found wins).
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".bitbucket/CODEOWNERS")


@dataclass(frozen=True)
class OwnerLine:
    pattern: str
    owners: tuple[str, ...]  # as written, without the leading `@`: login, org/team or e-mail


@dataclass(frozen=True)
class CodeOwners:
    lines: tuple[OwnerLine, ...] = ()

    def owners_of(self, path: str) -> tuple[str, ...]:
        """Owners of `path`; empty when no line matches or the last match names nobody."""
        for line in reversed(self.lines):
            if glob_regex(line.pattern).fullmatch(path):
                return line.owners
        return ()


def parse_codeowners(text: str | None) -> CodeOwners:
    """Parse CODEOWNERS text; comments, blank lines and GitLab `[Section]` headers are skipped."""
    lines = []
    for raw in (text or "").splitlines():
        content = raw.split(" #", 1)[0].strip()
        if not content or content.startswith(("#", "[", "^[")):
            continue
        pattern, *owners = content.split()
        lines.append(OwnerLine(pattern, tuple(o.removeprefix("@") for o in owners)))
    return CodeOwners(tuple(lines))


def is_team(owner: str) -> bool:
    """`org/team` names a team; a login or an e-mail address names one person."""
    return "/" in owner
