"""The `if` conditions of approval rules, evaluated on a Change and the engine's results.

Each predicate returns None when it holds, or a short phrase saying why it does not (that
phrase becomes the "skipped: ..." sentence of the rule).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from gitops_health.rules.change import Change, Commit, Directory, Identity
from gitops_health.rules.codeowners import CodeOwners
from gitops_health.rules.config.approvals import (
    Actors,
    ControlSelector,
    FilePatterns,
    ModifiedLines,
    Predicates,
    TitlePatterns,
    parse_comparison,
)
from gitops_health.rules.config.signing import SigningConfig
from gitops_health.rules.globs import matches
from gitops_health.rules.report import ControlVerdict, Finding, Level, RiskResult, Verdict

LEVELS = tuple(Level)
PERMISSIONS = ("none", "read", "triage", "write", "maintain", "admin")


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may look at besides its own configuration."""

    change: Change
    directory: Directory
    signing: SigningConfig = field(default_factory=SigningConfig)
    risk: RiskResult | None = None
    controls: tuple[ControlVerdict, ...] = ()
    findings: tuple[Finding, ...] = ()
    codeowners: CodeOwners = field(default_factory=CodeOwners)

    def is_listed(self, identity: Identity, users: Iterable[str], teams: Iterable[str]) -> bool:
        """The person is one of `users` (login or e-mail) or a member of one of `teams`.

        Display names are never compared: anyone can choose theirs.
        """
        names = {n.lower() for n in (identity.login, identity.email) if n}
        if names & {u.lower() for u in users}:
            return True
        login = identity.login.lower()
        return bool(login) and any(login in self.team_members(team) for team in teams)

    def team_members(self, team: str) -> frozenset[str]:
        return frozenset(m.lower() for m in self.directory.team_members(team))

    def has_permission(self, identity: Identity, level: str) -> bool:
        account = identity.login or identity.email  # e-mail only in local simulations
        if not account:
            return False
        granted = self.directory.permission(account)
        rank = PERMISSIONS.index(granted) if granted in PERMISSIONS else 0
        return rank >= PERMISSIONS.index(level)


def contributors(change: Change) -> list[Identity]:
    """The author and every commit author and committer."""
    people = [change.author]
    for commit in change.commits:
        people += [commit.author, commit.committer]
    return [p for p in people if p.login or p.email or p.name]


def is_contributor(identity: Identity, change: Change) -> bool:
    return any(identity.matches(p) for p in contributors(change))


def valid_signature(commit: Commit, signing: SigningConfig) -> bool:
    """Verified by the forge, or good by git's own check (G; U when the policy accepts it)."""
    signature = commit.signature
    if signature.verified_by_forge is not None:
        return signature.verified_by_forge
    return signature.status == "G" or (signature.status == "U" and signing.accept_unknown_validity)


def signer_identity(signer: str) -> Identity:
    """`Name <e-mail>` (GPG uid) or a bare principal (SSH, usually an e-mail)."""
    match = re.fullmatch(r"\s*(.*?)\s*<([^>]+)>\s*", signer)
    if match:
        return Identity(name=match.group(1), email=match.group(2))
    return Identity(name=signer, email=signer)


def touched_paths(change: Change) -> list[str]:
    """Every changed path, and the old path of renamed files."""
    found = []
    for file in change.files:
        found.append(file.path)
        if file.previous_path:
            found.append(file.previous_path)
    return found


def _selected(change: Change, spec: FilePatterns) -> list[str]:
    return [
        p for p in touched_paths(change) if matches(p, spec.paths) and not matches(p, spec.ignore)
    ]


def _globs(spec: FilePatterns) -> str:
    return ", ".join(spec.paths)


def changed_files(spec: FilePatterns, ctx: RuleContext) -> str | None:
    return None if _selected(ctx.change, spec) else f"no changed file matches {_globs(spec)}"


def no_changed_files(spec: FilePatterns, ctx: RuleContext) -> str | None:
    hit = _selected(ctx.change, spec)
    return f"{hit[0]} matches {_globs(spec)}" if hit else None


def only_changed_files(spec: FilePatterns, ctx: RuleContext) -> str | None:
    if not ctx.change.files:
        return "no file changed"
    other = [p for p in touched_paths(ctx.change) if not matches(p, spec.paths)]
    return f"{other[0]} does not match {_globs(spec)}" if other else None


def _who(actors: Actors) -> str:
    return " or ".join([*actors.users, *(f"team {t}" for t in actors.teams)]) or "nobody"


def has_author_in(actors: Actors, ctx: RuleContext) -> str | None:
    author = ctx.change.author
    if ctx.is_listed(author, actors.users, actors.teams):
        return None
    return f"the author {author.display} is not {_who(actors)}"


def has_contributor_in(actors: Actors, ctx: RuleContext) -> str | None:
    if any(ctx.is_listed(p, actors.users, actors.teams) for p in contributors(ctx.change)):
        return None
    return f"no contributor is {_who(actors)}"


def only_has_contributors_in(actors: Actors, ctx: RuleContext) -> str | None:
    for person in contributors(ctx.change):
        if not ctx.is_listed(person, actors.users, actors.teams):
            return f"contributor {person.display} is not {_who(actors)}"
    return None


def author_is_only_contributor(wanted: bool, ctx: RuleContext) -> str | None:
    author = ctx.change.author
    others = [p for p in contributors(ctx.change) if not p.matches(author)]
    if bool(others) != wanted:
        return None
    if wanted:
        return f"{others[0].display} also contributed"
    return "the author is the only contributor"


def targets_branch(pattern: str, ctx: RuleContext) -> str | None:
    if re.search(pattern, ctx.change.base_ref):
        return None
    return f"target branch {ctx.change.base_ref or '(unknown)'} does not match {pattern}"


def from_branch(pattern: str, ctx: RuleContext) -> str | None:
    if re.search(pattern, ctx.change.head_ref):
        return None
    return f"source branch {ctx.change.head_ref or '(unknown)'} does not match {pattern}"


_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
}


def modified_lines(spec: ModifiedLines, ctx: RuleContext) -> str | None:
    change = ctx.change
    actual = {
        "additions": change.additions,
        "deletions": change.deletions,
        "total": change.additions + change.deletions,
    }
    for name, value in actual.items():
        condition = getattr(spec, name)
        if condition is None:
            continue
        operator, limit = parse_comparison(condition)
        if not _COMPARE[operator](value, limit):
            return f"{name} is {value}, not {operator} {limit}"
    return None


def has_labels(labels: tuple[str, ...], ctx: RuleContext) -> str | None:
    present = {label.lower() for label in ctx.change.labels}
    missing = [label for label in labels if label.lower() not in present]
    return f"label {missing[0]} is not set" if missing else None


def title(spec: TitlePatterns, ctx: RuleContext) -> str | None:
    text = ctx.change.title
    if spec.matches and not any(re.search(p, text) for p in spec.matches):
        return f"the title does not match {' or '.join(spec.matches)}"
    hit = next((p for p in spec.not_matches if re.search(p, text)), None)
    return f"the title matches {hit}" if hit is not None else None


def _first_invalid(ctx: RuleContext, accept: Callable[[Commit], bool]) -> Commit | None:
    for commit in ctx.change.commits:
        if not (valid_signature(commit, ctx.signing) and accept(commit)):
            return commit
    return None


def has_valid_signatures(wanted: bool, ctx: RuleContext) -> str | None:
    if not ctx.change.commits:
        return "there are no commits" if wanted else None
    invalid = _first_invalid(ctx, lambda _commit: True)
    if (invalid is None) == wanted:
        return None
    if wanted:
        return f"commit {invalid.sha[:12]} has no valid signature"  # type: ignore[union-attr]
    return "every commit has a valid signature"


def has_valid_signatures_by(actors: Actors, ctx: RuleContext) -> str | None:
    def signed_by_listed(commit: Commit) -> bool:
        signer = signer_identity(commit.signature.signer)
        return any(ctx.is_listed(p, actors.users, actors.teams) for p in (commit.committer, signer))

    invalid = _first_invalid(ctx, signed_by_listed)
    if invalid is None and ctx.change.commits:
        return None
    sha = invalid.sha[:12] if invalid else "(none)"
    return f"commit {sha} is not validly signed by {_who(actors)}"


def has_valid_signatures_by_keys(keys: tuple[str, ...], ctx: RuleContext) -> str | None:
    wanted = [k.upper() for k in keys]

    def signed_with_listed_key(commit: Commit) -> bool:
        key = commit.signature.key.upper()
        return bool(key) and any(key.endswith(k) or k.endswith(key) for k in wanted)

    invalid = _first_invalid(ctx, signed_with_listed_key)
    if invalid is None and ctx.change.commits:
        return None
    sha = invalid.sha[:12] if invalid else "(none)"
    return f"commit {sha} is not validly signed with one of the listed keys"


def has_successful_status(contexts: tuple[str, ...], ctx: RuleContext) -> str | None:
    states = {check.context: check.state.lower() for check in ctx.change.checks}
    for context in contexts:
        if states.get(context) != "success":
            return f"check {context} is {states.get(context, 'not reported')}, not success"
    return None


def risk_level(level: str, ctx: RuleContext) -> str | None:
    if ctx.risk is None:
        return "the risk was not assessed"
    if LEVELS.index(ctx.risk.level) >= LEVELS.index(Level(level)):
        return None
    return f"risk is {ctx.risk.level.value}, below {level}"


def control_selected(control: ControlVerdict, selector: ControlSelector) -> bool:
    if selector.frameworks and control.framework not in selector.frameworks:
        return False
    return not selector.controls or f"{control.framework}.{control.control}" in selector.controls


def compliance_failing(selector: ControlSelector, ctx: RuleContext) -> str | None:
    failing = [
        c for c in ctx.controls if c.verdict is Verdict.FAIL and control_selected(c, selector)
    ]
    return None if failing else "no selected compliance control fails"


def has_phi(wanted: bool, ctx: RuleContext) -> str | None:
    found = any(f.kind == "phi" for f in ctx.findings)
    if found == wanted:
        return None
    return "no PHI was found" if wanted else "PHI was found"


PREDICATES: dict[str, Callable[[Any, RuleContext], str | None]] = {
    "changed_files": changed_files,
    "no_changed_files": no_changed_files,
    "only_changed_files": only_changed_files,
    "has_author_in": has_author_in,
    "has_contributor_in": has_contributor_in,
    "only_has_contributors_in": only_has_contributors_in,
    "author_is_only_contributor": author_is_only_contributor,
    "targets_branch": targets_branch,
    "from_branch": from_branch,
    "modified_lines": modified_lines,
    "has_labels": has_labels,
    "title": title,
    "has_valid_signatures": has_valid_signatures,
    "has_valid_signatures_by": has_valid_signatures_by,
    "has_valid_signatures_by_keys": has_valid_signatures_by_keys,
    "has_successful_status": has_successful_status,
    "risk_level": risk_level,
    "compliance_failing": compliance_failing,
    "has_phi": has_phi,
}


def first_unmet(predicates: Predicates, ctx: RuleContext) -> str | None:
    """Why the rule does not apply (the first condition that fails), or None when it applies."""
    for spec in fields(predicates):
        value = getattr(predicates, spec.name)
        if value is None or value == ():
            continue
        reason = PREDICATES[spec.name](value, ctx)
        if reason is not None:
            return reason
    return None
