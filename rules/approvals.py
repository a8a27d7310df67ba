"""Required approvals: the `approvals:` rules of the policy evaluated on a Change.

Every rule ends approved, pending, skipped (its `if` does not hold) or error, with a sentence
saying why and who can still satisfy it. Rules combine through the `policy` and/or tree:
skipped rules drop out, and when every rule is skipped the result is an error (as in
policy-bot), so a policy always says something about a change.

In `RuleResult.candidates` and `RuleResult.request`, people are logins (or e-mail addresses
taken from CODEOWNERS) and teams are written `team:<name>` (`team:acme/security`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import replace

from gitops_health.rules.change import Change, Directory, Identity, Review, ReviewState
from gitops_health.rules.checks import latest_reviews, plural
from gitops_health.rules.codeowners import is_team, parse_codeowners
from gitops_health.rules.config.approvals import (
    ApprovalRule,
    ApprovalsConfig,
    DisapprovalRule,
    RuleGroup,
)
from gitops_health.rules.config.policy import Policy
from gitops_health.rules.predicates import (
    RuleContext,
    contributors,
    first_unmet,
    is_contributor,
    touched_paths,
)
from gitops_health.rules.report import ControlVerdict, Finding, RiskResult, RuleResult, RuleState

TEAM = "team:"
MAX_NAMED = 5  # people named in one sentence before "and N more"


def evaluate_approvals(
    change: Change,
    policy: Policy,
    *,
    risk: RiskResult | None,
    controls: Sequence[ControlVerdict],
    findings: Sequence[Finding],
    directory: Directory,
) -> tuple[RuleResult | None, RuleResult | None]:
    """(approval, disapproval); each None when the policy configures none."""
    ctx = RuleContext(
        change=change,
        directory=directory,
        signing=policy.signing,
        risk=risk,
        controls=tuple(controls),
        findings=tuple(findings),
        codeowners=parse_codeowners(change.codeowners),
    )
    config = policy.approvals
    approval = evaluate_policy(config, ctx) if config.rules else None
    return approval, evaluate_disapproval(config.disapproval, ctx)


def evaluate_policy(config: ApprovalsConfig, ctx: RuleContext) -> RuleResult:
    rules = {rule.name: rule for rule in config.rules}
    root = _evaluate_group(config.tree, rules, ctx, "approval")
    if root.state is RuleState.SKIPPED:
        sentence = (
            "no approval rule applies to this change (every rule was skipped); "
            "add a rule without `if` as the default"
        )
        return replace(root, state=RuleState.ERROR, description=sentence)
    return root


# --- and/or groups ----------------------------------------------------------------------------


def _evaluate_entry(
    entry: str | RuleGroup, rules: dict[str, ApprovalRule], ctx: RuleContext
) -> RuleResult:
    if isinstance(entry, str):
        return evaluate_rule(rules[entry], ctx)
    label = "all of" if entry.op == "and" else "any of"
    names = ", ".join(e if isinstance(e, str) else f"({e.op} group)" for e in entry.entries)
    return _evaluate_group(entry, rules, ctx, f"{label}: {names}")


def _evaluate_group(
    group: RuleGroup, rules: dict[str, ApprovalRule], ctx: RuleContext, name: str
) -> RuleResult:
    children = tuple(_evaluate_entry(e, rules, ctx) for e in group.entries)
    active = [c for c in children if c.state is not RuleState.SKIPPED]
    state = _combine(group.op, [c.state for c in active])
    waiting = [c for c in active if c.state is RuleState.PENDING]
    if state is RuleState.APPROVED:
        children = tuple(_without_requests(c) for c in children)  # nobody else is needed
    return RuleResult(
        name=name,
        state=state,
        description=_group_sentence(group.op, state, active),
        approvers=_union(c.approvers for c in active if c.state is RuleState.APPROVED),
        candidates=_union(c.candidates for c in waiting) if state is RuleState.PENDING else (),
        request=_union(c.request for c in waiting) if state is RuleState.PENDING else (),
        children=children,
    )


def _without_requests(result: RuleResult) -> RuleResult:
    children = tuple(_without_requests(c) for c in result.children)
    return replace(result, request=(), children=children)


def _combine(op: str, states: list[RuleState]) -> RuleState:
    if not states:
        return RuleState.SKIPPED
    if op == "and":
        for decisive in (RuleState.ERROR, RuleState.PENDING):
            if decisive in states:
                return decisive
        return RuleState.APPROVED
    for decisive in (RuleState.APPROVED, RuleState.PENDING):
        if decisive in states:
            return decisive
    return RuleState.ERROR


def _group_sentence(op: str, state: RuleState, active: list[RuleResult]) -> str:
    def names(wanted: RuleState) -> str:
        return ", ".join(c.name for c in active if c.state is wanted)

    if state is RuleState.SKIPPED:
        return "no rule in this group applies"
    if state is RuleState.ERROR:
        return f"cannot be decided: {names(RuleState.ERROR)} failed"
    if state is RuleState.APPROVED:
        if op == "or":
            return f"approved through {names(RuleState.APPROVED)}"
        return f"all {plural(len(active), 'applicable rule')} approved"
    if op == "or":
        return f"waiting for one of: {names(RuleState.PENDING)}"
    return f"waiting for {names(RuleState.PENDING)}"


def _union(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for group in groups for item in group))


# --- one rule ---------------------------------------------------------------------------------


class Eligibility:
    """Who a rule's requirements accept, resolved through the injected Directory."""

    def __init__(
        self,
        ctx: RuleContext,
        users: Sequence[str] = (),
        teams: Sequence[str] = (),
        permission: str | None = None,
        codeowners: str = "none",
    ) -> None:
        self.ctx = ctx
        self.users = tuple(users)
        self.teams = tuple(teams)
        anyone = not (users or teams or permission) and codeowners == "none"
        self.permission = "write" if anyone else permission
        self.owned: dict[str, tuple[str, ...]] = {}
        if codeowners != "none":
            for path in touched_paths(ctx.change):
                owners = ctx.codeowners.owners_of(path)
                if owners:
                    self.owned[path] = owners

    @property
    def users_only(self) -> bool:
        return bool(self.users) and not (self.teams or self.permission or self.owned)

    def accepts(self, person: Identity) -> bool:
        if self.ctx.is_listed(person, self.users, self.teams):
            return True
        if self.permission and self.ctx.has_permission(person, self.permission):
            return True
        return any(self.owns(person, owners) for owners in self.owned.values())

    def owns(self, person: Identity, owners: Sequence[str]) -> bool:
        people = [o for o in owners if not is_team(o)]
        return self.ctx.is_listed(person, people, [o for o in owners if is_team(o)])

    def _expand(self, users: Iterable[str], teams: Iterable[str]) -> list[str]:
        found = list(users)
        for team in teams:
            members = self.ctx.directory.team_members(team)
            found += sorted(members) if members else [TEAM + team]
        return found

    def people(self) -> list[str]:
        """Everyone who can approve, as far as the Directory knows."""
        found = self._expand(self.users, self.teams)
        if self.permission:
            found += sorted(self.ctx.directory.users_with_permission(self.permission))
        for owners in self.owned.values():
            found += self.owner_people(owners)
        return list(dict.fromkeys(found))

    def owner_people(self, owners: Sequence[str]) -> list[str]:
        return self._expand([o for o in owners if not is_team(o)], filter(is_team, owners))

    def unowned(self, approvals: Sequence[Review]) -> dict[tuple[str, ...], list[str]]:
        """Owned paths no counted approval covers, grouped by their owners."""
        missing: dict[tuple[str, ...], list[str]] = {}
        for path, owners in self.owned.items():
            if not any(self.owns(r.reviewer, owners) for r in approvals):
                missing.setdefault(owners, []).append(path)
        return missing

    def describe(self) -> str:
        parts = [_names(self.users), *(f"team {t}" for t in self.teams)]
        if self.permission:
            parts.append(f"anyone with {self.permission} permission or higher")
        if self.owned:
            parts.append("the code owners of the touched files")
        return " or ".join(p for p in parts if p)


def _names(people: Sequence[str]) -> str:
    shown = ", ".join(people[:MAX_NAMED])
    extra = len(people) - MAX_NAMED
    return f"{shown} and {extra} more" if extra > 0 else shown


def _same_commit(a: str, b: str) -> bool:
    shorter, longer = sorted((a.lower(), b.lower()), key=len)
    return len(shorter) >= 7 and longer.startswith(shorter)


def on_current_head(review: Review, change: Change) -> bool:
    """Given on the head under evaluation; a forge that names no commit is taken at its word."""
    return not review.commit_sha or _same_commit(review.commit_sha, change.head_sha)


class Tally:
    """The approvals of one rule, sorted into counted, stale and not-allowed."""

    def __init__(self, rule: ApprovalRule, eligible: Eligibility, change: Change) -> None:
        self.counted: list[Review] = []
        self.stale: list[Review] = []
        self.refused: list[tuple[Review, str]] = []
        options = rule.options
        for review in latest_reviews(change):
            person = review.reviewer
            if review.state is not ReviewState.APPROVED or not eligible.accepts(person):
                continue
            if person.matches(change.author):
                if not options.allow_author:
                    self.refused.append((review, "is the author"))
                    continue
            elif not options.allow_contributor and is_contributor(person, change):
                self.refused.append((review, "contributed commits"))
                continue
            if options.invalidate_on_push and not on_current_head(review, change):
                self.stale.append(review)
                continue
            self.counted.append(review)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.reviewer.display for r in self.counted)

    def notes(self, change: Change) -> list[str]:
        notes = [
            f"{r.reviewer.display}'s approval was given on {r.commit_sha[:7]}, "
            f"before the latest push ({change.head_sha[:7]})"
            for r in self.stale
        ]
        notes += [
            f"{r.reviewer.display}'s approval does not count ({why})" for r, why in self.refused
        ]
        return notes


def evaluate_rule(rule: ApprovalRule, ctx: RuleContext) -> RuleResult:
    unmet = first_unmet(rule.if_, ctx)
    if unmet is not None:
        return RuleResult(rule.name, RuleState.SKIPPED, f"skipped: {unmet}")
    try:
        return _evaluate_requirements(rule, ctx)
    except Exception as exc:  # a team or permission look-up at the forge failed
        return _lookup_failed(rule.name, exc)


def _lookup_failed(name: str, exc: Exception) -> RuleResult:
    sentence = f"could not be evaluated: {type(exc).__name__}: {exc}"
    return RuleResult(name, RuleState.ERROR, sentence)


def _evaluate_requirements(rule: ApprovalRule, ctx: RuleContext) -> RuleResult:
    requires = rule.requires
    eligible = Eligibility(
        ctx, requires.users, requires.teams, requires.permission, requires.codeowners
    )
    tally = Tally(rule, eligible, ctx.change)
    missing = max(requires.count - len(tally.counted), 0)
    unowned = eligible.unowned(tally.counted) if requires.codeowners == "each" else {}
    if not missing and not unowned:
        sentence = f"approved by {_names(tally.names)}" if tally.names else "no approval required"
        return RuleResult(rule.name, RuleState.APPROVED, _with_description(rule, sentence),
                          approvers=tally.names)  # fmt: skip
    candidates = _candidates(rule, eligible, tally, ctx.change)
    if eligible.users_only and len(candidates) < missing:
        sentence = (
            f"can never be approved: needs {plural(missing, 'more approval')} but only "
            f"{len(candidates)} of the listed users may still give one"
        )
        return RuleResult(rule.name, RuleState.ERROR, _with_description(rule, sentence))
    wants = []
    if missing:
        wants.append(f"{plural(missing, 'more approval')} from {eligible.describe()}")
    wants += [
        f"an approval from an owner of {_names(paths)} ({_names(owners)})"
        for owners, paths in unowned.items()
    ]
    sentence = "; ".join(["needs " + " and ".join(wants), *tally.notes(ctx.change)])
    return RuleResult(
        name=rule.name,
        state=RuleState.PENDING,
        description=_with_description(rule, sentence),
        approvers=tally.names,
        candidates=tuple(candidates),
        request=_to_request(rule, eligible, candidates, missing, unowned, ctx.change),
    )


def _with_description(rule: ApprovalRule, sentence: str) -> str:
    return f"{rule.description}: {sentence}" if rule.description else sentence


def _is_person(name: str, person: Identity) -> bool:
    return name.lower() in {n.lower() for n in (person.login, person.email) if n}


def _candidates(
    rule: ApprovalRule, eligible: Eligibility, tally: Tally, change: Change
) -> list[str]:
    """Who could still give a counting approval."""
    excluded = [r.reviewer for r in tally.counted]
    if not rule.options.allow_author:
        excluded.append(change.author)
    if not rule.options.allow_contributor:
        excluded += contributors(change)
    return [p for p in eligible.people() if not any(_is_person(p, who) for who in excluded)]


def _to_request(
    rule: ApprovalRule,
    eligible: Eligibility,
    candidates: list[str],
    missing: int,
    unowned: dict[tuple[str, ...], list[str]],
    change: Change,
) -> tuple[str, ...]:
    """Reviewers to ask: none on drafts, never anyone who already reviewed."""
    settings = rule.options.request_review
    if not settings.enabled or change.draft:
        return ()
    if settings.mode == "teams":
        owner_teams = [o for owners in unowned for o in owners if is_team(o)]
        return _union([[TEAM + t for t in (*eligible.teams, *owner_teams)]])
    reviewed = [r.reviewer for r in change.reviews]
    people = [
        c for c in candidates
        if not c.startswith(TEAM) and not any(_is_person(c, who) for who in reviewed)
    ]  # fmt: skip
    if settings.mode == "all-users":
        return tuple(people)
    # random-users: stable for one change across pushes, different between rules
    rng = random.Random(f"{change.repository}#{change.number or change.head_ref}:{rule.name}")
    chosen = rng.sample(people, min(settings.count or missing, len(people)))
    for owners in unowned:
        owner_people = [p for p in eligible.owner_people(owners) if p in people]
        if owner_people and not set(owner_people) & set(chosen):
            chosen.append(rng.choice(owner_people))
    return tuple(chosen)


# --- disapproval ------------------------------------------------------------------------------


def evaluate_disapproval(rule: DisapprovalRule | None, ctx: RuleContext) -> RuleResult | None:
    """Disapproved while someone it names has requested changes; None when not configured."""
    if rule is None:
        return None
    who = rule.requires
    if not (who.users or who.teams or who.permission):
        return None
    name = "disapproval"
    unmet = first_unmet(rule.if_, ctx)
    if unmet is not None:
        return RuleResult(name, RuleState.SKIPPED, f"skipped: {unmet}")
    eligible = Eligibility(ctx, who.users, who.teams, who.permission)
    try:
        blockers = tuple(
            r.reviewer.display
            for r in latest_reviews(ctx.change)
            if r.state is ReviewState.CHANGES_REQUESTED and eligible.accepts(r.reviewer)
        )
    except Exception as exc:  # a team or permission look-up at the forge failed
        return _lookup_failed(name, exc)
    if blockers:
        sentence = (
            f"changes requested by {_names(blockers)}; "
            "blocked until they approve or their review is dismissed"
        )
        return RuleResult(name, RuleState.DISAPPROVED, sentence, approvers=blockers,
                          candidates=blockers)  # fmt: skip
    sentence = f"not blocked: no changes requested by {eligible.describe()}"
    return RuleResult(name, RuleState.APPROVED, sentence)
