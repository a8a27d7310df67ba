"""The named checks compliance packs are built from.

A pack control lists check names (`checks: [commits_signed, signers_authenticated]`); each name
is a function here, registered with `@check`, that reads a `CheckContext` and returns an
`Outcome`: a verdict, one human sentence and the evidence (commit, file:line, review).
Checks are pure: they only read the Change, the Policy and the findings already gathered.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gitops_health.rules.change import Change, Commit, Identity, Review, ReviewState
from gitops_health.rules.config.policy import Policy
from gitops_health.rules.phi.validators import card_ok
from gitops_health.rules.predicates import is_contributor
from gitops_health.rules.report import Evidence, Finding, RiskResult, Verdict
from gitops_health.rules.risk.features import path_facts
from gitops_health.rules.signatures import principal_matches
from gitops_health.rules.transmission import KIND as TRANSMISSION_KIND

MAX_EVIDENCE = 20  # per check; the reason still counts everything


@dataclass(frozen=True)
class CheckContext:
    change: Change
    policy: Policy
    findings: tuple[Finding, ...]
    risk: RiskResult | None = None

    def findings_of(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reason: str
    evidence: tuple[Evidence, ...] = ()


Check = Callable[[CheckContext], Outcome]
CHECKS: dict[str, Check] = {}


def check(function: Check) -> Check:
    CHECKS[function.__name__] = function
    return function


def _outcome(verdict: Verdict, reason: str, evidence: Iterable[Evidence] = ()) -> Outcome:
    return Outcome(verdict, reason, tuple(evidence)[:MAX_EVIDENCE])


def short(sha: str) -> str:
    return sha[:12]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _first_three(items: list[str]) -> str:
    more = f" and {len(items) - 3} more" if len(items) > 3 else ""
    return "; ".join(items[:3]) + more


def finding_evidence(finding: Finding, text: str) -> Evidence:
    return Evidence(text=text, commit=finding.commit, path=finding.path, line=finding.line)


# --- audit trail ------------------------------------------------------------------------------


@check
def audit_recorded(ctx: CheckContext) -> Outcome:
    """The verdict is written to the bot's tamper-evident audit trail."""
    change = ctx.change
    if change.forge == "local":
        return _outcome(
            Verdict.NOT_APPLICABLE,
            "local evaluation: the bot records the verdict in its audit trail when it "
            "evaluates the pull request",
        )
    where = f"{change.repository}#{change.number}" if change.number else change.repository
    return _outcome(
        Verdict.PASS,
        f"this verdict is recorded in the bot's audit trail for {where} "
        f"at {short(change.head_sha)}",
        [Evidence(text="audit record of this evaluation", commit=change.head_sha)],
    )


@check
def commits_attributed(ctx: CheckContext) -> Outcome:
    """Every commit names its author and committer."""
    commits = ctx.change.commits
    if not commits:
        return _outcome(Verdict.NOT_APPLICABLE, "the change has no commits")
    anonymous = [c for c in commits if not _identified(c)]
    if anonymous:
        return _outcome(
            Verdict.FAIL,
            f"{plural(len(anonymous), 'commit')} without a named author and committer",
            [Evidence("author or committer identity missing", commit=c.sha) for c in anonymous],
        )
    return _outcome(
        Verdict.PASS,
        f"every commit names its author and committer ({plural(len(commits), 'commit')})",
        [Evidence(f"by {c.author.display}", commit=c.sha) for c in commits],
    )


def _identified(commit: Commit) -> bool:
    return bool(commit.author.email or commit.author.name) and bool(
        commit.committer.email or commit.committer.name
    )


# --- signatures -------------------------------------------------------------------------------

# git's %G? letters: G good, U good but unknown validity, X/Y expired signature/key,
# R revoked key, E cannot be checked (key missing), B bad signature, N none.
_SIGNATURE_PROBLEMS = {
    "N": "is not signed",
    "B": "has a bad signature (the content does not match it)",
    "R": "is signed with a revoked key",
}
_AUTHENTICATION_PROBLEMS = {
    **_SIGNATURE_PROBLEMS,
    "U": "is signed with a key of unknown validity",
    "X": "carries an expired signature",
    "Y": "is signed with an expired key",
}


def _exempt(commit: Commit, policy: Policy) -> bool:
    """Exempt as `signing.exempt_identities` says (bots), or an unsigned merge when allowed."""
    signing = policy.signing
    if signing.allow_unsigned_merges and commit.is_merge and not commit.signature.is_signed:
        return True
    committer = commit.committer
    names = [n for n in (committer.email, committer.name, committer.login) if n]
    return any(principal_matches(n, signing.exempt_identities) for n in names)


def _checked_commits(ctx: CheckContext) -> list[Commit]:
    return [c for c in ctx.change.commits if not _exempt(c, ctx.policy)]


def _signature_verdict(commits: list[Commit], problems: dict[str, str]) -> Outcome | None:
    """FAIL/PENDING from the signature letters alone; None when every commit is fine."""
    failing = [
        c
        for c in commits
        if c.signature.verified_by_forge is not True and c.signature.status in problems
    ]
    if failing:
        reasons = [f"commit {short(c.sha)} {problems[c.signature.status]}" for c in failing]
        evidence = [Evidence(problems[c.signature.status], commit=c.sha) for c in failing]
        return _outcome(Verdict.FAIL, _first_three(reasons), evidence)
    unchecked = [
        c for c in commits if c.signature.status == "E" and c.signature.verified_by_forge is None
    ]
    if unchecked:
        return _outcome(
            Verdict.PENDING,
            f"{plural(len(unchecked), 'signature')} not checkable here (public key missing)",
            [Evidence("signature not checkable here", commit=c.sha) for c in unchecked],
        )
    return None


@check
def commits_signed(ctx: CheckContext) -> Outcome:
    """Every commit carries a cryptographically valid signature (integrity of the record)."""
    commits = _checked_commits(ctx)
    if not commits:
        return _outcome(Verdict.NOT_APPLICABLE, "no commits to check (none, or all exempt)")
    decided = _signature_verdict(commits, _SIGNATURE_PROBLEMS)
    if decided is not None:
        return decided
    return _outcome(
        Verdict.PASS,
        f"every commit carries a valid signature ({plural(len(commits), 'commit')})",
        [_signed_evidence(c) for c in commits],
    )


@check
def signers_authenticated(ctx: CheckContext) -> Outcome:
    """Every signature is trusted and made by the committer, with an allowed signer's key."""
    commits = _checked_commits(ctx)
    problems = ctx.findings_of("signature")
    if problems:
        named = [f"{f.rule} ({short(f.commit) or f.path or 'policy'})" for f in problems]
        reason = f"{plural(len(problems), 'signature problem')}: {_first_three(named)}"
        return _outcome(Verdict.FAIL, reason, [finding_evidence(f, f.message) for f in problems])
    if not commits:
        return _outcome(Verdict.NOT_APPLICABLE, "no commits to check (none, or all exempt)")
    accepted = dict(_AUTHENTICATION_PROBLEMS)
    if ctx.policy.signing.accept_unknown_validity:
        accepted.pop("U")
    decided = _signature_verdict(commits, accepted)
    if decided is not None:
        return decided
    return _outcome(
        Verdict.PASS,
        "every commit is signed by its committer with an allowed key "
        f"({plural(len(commits), 'commit')})",
        [_signed_evidence(c) for c in commits],
    )


def _signed_evidence(commit: Commit) -> Evidence:
    signer = commit.signature.signer or commit.committer.display
    return Evidence(f"signed by {signer}", commit=commit.sha)


# --- content of the added lines ---------------------------------------------------------------


@check
def transmission_secure(ctx: CheckContext) -> Outcome:
    """No added code disables TLS verification or adds a plain http:// endpoint."""
    if not ctx.change.files:
        return _outcome(Verdict.NOT_APPLICABLE, "the change touches no files")
    problems = ctx.findings_of(TRANSMISSION_KIND)
    if problems:
        where = ", ".join(f"{f.path}:{f.line}" for f in problems[:3])
        return _outcome(
            Verdict.FAIL,
            f"transport security weakened on {plural(len(problems), 'added line')} ({where})",
            [finding_evidence(f, f.message) for f in problems],
        )
    return _outcome(
        Verdict.PASS, "no added line disables TLS verification or adds a plain http:// endpoint"
    )


@check
def no_phi_added(ctx: CheckContext) -> Outcome:
    """No PHI identifier in the added lines (types and places only, never values)."""
    if not ctx.change.files:
        return _outcome(Verdict.NOT_APPLICABLE, "the change touches no files")
    phi = ctx.findings_of("phi")
    if phi:
        types = Counter(f.entity_type or "PHI" for f in phi)
        summary = ", ".join(f"{name} ×{count}" for name, count in types.most_common())
        return _outcome(
            Verdict.FAIL,
            f"{plural(len(phi), 'PHI finding')} in added lines: {summary}",
            [finding_evidence(f, f"{f.entity_type or 'PHI'} found") for f in phi],
        )
    if not ctx.policy.phi.enabled:
        return _outcome(
            Verdict.PENDING, "PHI scanning is off (phi.enabled: false), so this cannot be shown"
        )
    return _outcome(Verdict.PASS, "no PHI found in the added lines")


_CARD_ENTITIES = frozenset({"CREDIT_CARD", "ACCOUNT_NUMBER"})
# 13-19 digits, optionally grouped by single spaces or dashes, not glued to other digits/letters
_CARD_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")


def has_card_number(text: str) -> bool:
    """A Luhn-valid number with a card issuer prefix (published test cards excluded)."""
    return any(card_ok(m.group()) for m in _CARD_CANDIDATE.finditer(text))


@check
def no_card_numbers(ctx: CheckContext) -> Outcome:
    """No Luhn-valid card number (PAN) in the added lines."""
    if not ctx.change.files:
        return _outcome(Verdict.NOT_APPLICABLE, "the change touches no files")
    places: dict[tuple[str, int], str] = {}
    for file in ctx.change.files:
        if file.binary:
            continue
        for line in file.added_lines:
            if has_card_number(line.text):
                places.setdefault((file.path, line.number), "card number")
    for finding in ctx.findings_of("phi"):
        if finding.entity_type in _CARD_ENTITIES and _card_finding(finding):
            places.setdefault((finding.path, finding.line), "card number (PHI scan)")
    if places:
        evidence = [Evidence(text, path=path, line=line) for (path, line), text in places.items()]
        where = ", ".join(f"{e.path}:{e.line}" for e in evidence[:3])
        return _outcome(
            Verdict.FAIL,
            f"card number on {plural(len(places), 'added line')} ({where})",
            evidence,
        )
    return _outcome(Verdict.PASS, "no card number in the added lines")


def _card_finding(finding: Finding) -> bool:
    if finding.entity_type == "CREDIT_CARD":
        return True
    return re.search(r"card|credit", f"{finding.rule} {finding.message}", re.IGNORECASE) is not None


# --- reviews ----------------------------------------------------------------------------------


def latest_reviews(change: Change) -> list[Review]:
    """Each reviewer's deciding review: the last one that approves, requests changes or dismisses.

    Comments do not cancel an approval (GitHub semantics).
    """
    reviews = list(change.reviews)
    if all(r.submitted_at is not None for r in reviews):
        reviews.sort(key=lambda r: r.submitted_at)  # type: ignore[arg-type, return-value]
    deciding: dict[str, Review] = {}
    for review in reviews:
        if review.state in (ReviewState.COMMENTED, ReviewState.PENDING):
            continue
        deciding[review.reviewer.display.lower()] = review
    return list(deciding.values())


def independent_approvals(change: Change) -> list[Review]:
    """Approvals by people who neither opened the change nor wrote or committed any commit."""
    return [
        r
        for r in latest_reviews(change)
        if r.state is ReviewState.APPROVED and not is_contributor(r.reviewer, change)
    ]


def review_evidence(review: Review, text: str) -> Evidence:
    return Evidence(text=text, commit=review.commit_sha, review=review.reviewer.display)


@check
def independent_approval(ctx: CheckContext) -> Outcome:
    """Approved by someone other than the author and the committers (segregation of duties)."""
    change = ctx.change
    approvals = independent_approvals(change)
    if approvals:
        names = ", ".join(r.reviewer.display for r in approvals)
        return _outcome(
            Verdict.PASS,
            f"approved by {names}, who did not author the change",
            [review_evidence(r, f"approved by {r.reviewer.display}") for r in approvals],
        )
    own = [r for r in latest_reviews(change) if r.state is ReviewState.APPROVED]
    if own:
        names = ", ".join(r.reviewer.display for r in own)
        return _outcome(
            Verdict.PENDING,
            f"only contributors to the change approved it ({names}); "
            "an approval from someone else is needed",
            [review_evidence(r, "approval by a contributor (not counted)") for r in own],
        )
    return _outcome(Verdict.PENDING, "waiting for an approval from someone other than the author")


@check
def approval_on_head(ctx: CheckContext) -> Outcome:
    """At least one independent approval was given on the current head commit."""
    change = ctx.change
    approvals = independent_approvals(change)
    if not approvals:
        return _outcome(Verdict.PENDING, "no independent approval yet")
    # approvals imports this module, so its notion of "current" is imported when used
    from gitops_health.rules.approvals import on_current_head

    current = [r for r in approvals if on_current_head(r, change)]
    if current:
        return _outcome(
            Verdict.PASS,
            f"approved on the current head {short(change.head_sha)}",
            [review_evidence(r, _reviewed_commit(r)) for r in current],
        )
    stale = [review_evidence(r, f"approved {short(r.commit_sha) or '?'}") for r in approvals]
    return _outcome(
        Verdict.PENDING,
        f"every approval predates the current head {short(change.head_sha)} "
        "(stale after a push); a fresh approval is needed",
        stale,
    )


def _reviewed_commit(review: Review) -> str:
    if review.commit_sha:
        return f"approved {short(review.commit_sha)}"
    return "approved; the forge did not name the commit, so it is taken as the head"


@check
def approvals_identified(ctx: CheckContext) -> Outcome:
    """Every approval names who gave it, with the commit and time when the forge reports them
    (Part 11 signature manifestation: signer, date and time, meaning)."""
    approvals = [r for r in latest_reviews(ctx.change) if r.state is ReviewState.APPROVED]
    if not approvals:
        return _outcome(Verdict.PENDING, "no approval recorded yet")
    anonymous = [r for r in approvals if not _named(r.reviewer)]
    if anonymous:
        return _outcome(
            Verdict.FAIL,
            f"{plural(len(anonymous), 'approval')} without the reviewer's identity",
            [review_evidence(r, "approval by an unnamed reviewer") for r in anonymous],
        )
    return _outcome(
        Verdict.PASS,
        f"{plural(len(approvals), 'approval')}, each naming the reviewer",
        [review_evidence(r, _approval_text(r)) for r in approvals],
    )


def _named(identity: Identity) -> bool:
    return bool(identity.login or identity.name or identity.email)


def _approval_text(review: Review) -> str:
    when = f" at {review.submitted_at.isoformat()}" if review.submitted_at else ""
    return f"approved by {review.reviewer.display}{when}"


# --- documentation ----------------------------------------------------------------------------


@check
def ticket_referenced(ctx: CheckContext) -> Outcome:
    """A change ticket (compliance.ticket_pattern) is named in the title, description, branch
    or a commit message."""
    change = ctx.change
    pattern = re.compile(ctx.policy.compliance.ticket_pattern)
    places = [("title", change.title, ""), ("description", change.description, "")]
    places.append(("branch", change.head_ref, ""))
    places += [(f"commit {short(c.sha)}", c.message, c.sha) for c in change.commits]
    for where, text, sha in places:
        match = pattern.search(text or "")
        if match:
            return _outcome(
                Verdict.PASS,
                f"change ticket {match.group()} referenced in the {where}",
                [Evidence(f"ticket {match.group()} in the {where}", commit=sha)],
            )
    return _outcome(
        Verdict.FAIL,
        "no change ticket referenced: name one (pattern "
        f"{ctx.policy.compliance.ticket_pattern}) in the title, description or a commit message",
    )


@check
def description_present(ctx: CheckContext) -> Outcome:
    """The change is described (non-empty description, or commit bodies locally)."""
    change = ctx.change
    if change.description.strip():
        return _outcome(Verdict.PASS, "the change has a description")
    if change.forge == "local" and any(_body(c) for c in change.commits):
        return _outcome(Verdict.PASS, "the commits carry a description in their message bodies")
    return _outcome(Verdict.FAIL, "the change has no description: say what changes and why")


def _body(commit: Commit) -> str:
    return commit.message.partition("\n")[2].strip()


# --- CI and tests -----------------------------------------------------------------------------

_CI_FAILED = frozenset({"failure", "error", "cancelled", "timed_out", "action_required"})
_CI_PASSED = frozenset({"success", "neutral", "skipped"})


def _ci_outcome(change: Change) -> Outcome | None:
    """The CI verdict on the head, or None when no CI status was reported."""
    if not change.checks:
        return None
    failed = [c for c in change.checks if c.state.lower() in _CI_FAILED]
    if failed:
        names = ", ".join(f"{c.context} ({c.state})" for c in failed)
        return _outcome(
            Verdict.FAIL,
            f"CI failed on the head: {names}",
            [Evidence(f"{c.context}: {c.state}", commit=change.head_sha) for c in failed],
        )
    waiting = [c for c in change.checks if c.state.lower() not in _CI_PASSED]
    if waiting:
        names = ", ".join(c.context for c in waiting)
        return _outcome(Verdict.PENDING, f"CI still running on the head: {names}")
    return _outcome(
        Verdict.PASS,
        f"CI passed on the head ({plural(len(change.checks), 'check')})",
        [Evidence(f"{c.context}: {c.state}", commit=change.head_sha) for c in change.checks],
    )


@check
def ci_green(ctx: CheckContext) -> Outcome:
    """CI passed on the head commit, where CI status is known."""
    outcome = _ci_outcome(ctx.change)
    if outcome is None:
        return _outcome(Verdict.NOT_APPLICABLE, "no CI status reported for the head commit")
    return outcome


@check
def tested(ctx: CheckContext) -> Outcome:
    """Tests changed along with the code, or CI passed on the head."""
    change = ctx.change
    ci = _ci_outcome(change)
    if ci is not None and ci.verdict is Verdict.FAIL:
        return ci
    facts = path_facts(change, ctx.policy.risk)  # test and code files as the risk score sees them
    code, tests = facts.code, facts.tests
    if not code:
        return _outcome(Verdict.NOT_APPLICABLE, "no code changed (only tests, docs or config)")
    if tests:
        return _outcome(
            Verdict.PASS,
            f"{plural(len(tests), 'test file')} changed with {plural(len(code), 'code file')}",
            [Evidence("test changed", path=p) for p in tests],
        )
    if ci is not None:
        return ci
    return _outcome(
        Verdict.FAIL,
        f"{plural(len(code), 'code file')} changed without a test change and no CI result",
        [Evidence("code changed without tests", path=p) for p in code],
    )
