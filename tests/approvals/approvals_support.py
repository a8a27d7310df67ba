"""Hand-built Changes, an in-memory Directory and a one-call evaluation helper.

Test modules import from here, not from `conftest`: with several `conftest.py` files outside
packages, which one `import conftest` finds depends on the collection order.
"""

from __future__ import annotations

from collections.abc import Sequence

from testkit import ROOT, git  # noqa: F401  (re-exported for the test modules)

from gitops_health.rules.approvals import evaluate_approvals
from gitops_health.rules.change import (
    Change,
    Commit,
    Directory,
    FileChange,
    Identity,
    Review,
    ReviewState,
    Signature,
)
from gitops_health.rules.config.policy import parse_policy
from gitops_health.rules.report import ControlVerdict, Finding, RiskResult, RuleResult

HEAD = "c0ffee" + "0" * 34
OLD = "deadbe" + "0" * 34
AUTHOR = Identity(name="Dana Dev", email="dana@example.com", login="dana")


class TeamDirectory(Directory):
    """The Directory a forge adapter would give, from fixed data."""

    def __init__(
        self,
        teams: dict[str, Sequence[str]] | None = None,
        permissions: dict[str, str] | None = None,
    ) -> None:
        self.teams = {k: frozenset(v) for k, v in (teams or {}).items()}
        self.permissions = permissions or {}

    def team_members(self, team: str) -> frozenset[str]:
        return self.teams.get(team, frozenset())

    def permission(self, login: str) -> str:
        return self.permissions.get(login, "read")

    def users_with_permission(self, level: str) -> frozenset[str]:
        order = ("none", "read", "triage", "write", "maintain", "admin")
        at_least = order[order.index(level) :]
        return frozenset(u for u, p in self.permissions.items() if p in at_least)


def approve(login: str, sha: str = HEAD, state: ReviewState = ReviewState.APPROVED) -> Review:
    return Review(Identity(login=login), state, commit_sha=sha)


def commit(sha: str = HEAD, *, who: Identity = AUTHOR, status: str = "G", key: str = "") -> Commit:
    return Commit(
        sha=sha,
        message="feat: change",
        author=who,
        committer=who,
        signature=Signature(status=status, signer=who.email, key=key),
    )


def make_change(
    paths: Sequence[str] = ("src/app.py",),
    *,
    reviews: Sequence[Review] = (),
    commits: Sequence[Commit] | None = None,
    additions: int = 10,
    deletions: int = 2,
    **fields: object,
) -> Change:
    files = tuple(FileChange(p, additions=additions, deletions=deletions) for p in paths)
    values: dict[str, object] = {
        "repository": "acme/app",
        "forge": "github",
        "number": 7,
        "base_ref": "main",
        "head_ref": "feature/x",
        "head_sha": HEAD,
        "title": "feat: add things",
        "author": AUTHOR,
        "files": files,
        "commits": tuple(commits if commits is not None else (commit(),)),
        "reviews": tuple(reviews),
    }
    values.update(fields)
    return Change(**values)  # type: ignore[arg-type]


def run(
    policy_yaml: str,
    change: Change,
    directory: Directory | None = None,
    *,
    risk: RiskResult | None = None,
    controls: Sequence[ControlVerdict] = (),
    findings: Sequence[Finding] = (),
) -> tuple[RuleResult | None, RuleResult | None]:
    return evaluate_approvals(
        change,
        parse_policy(policy_yaml),
        risk=risk,
        controls=controls,
        findings=findings,
        directory=directory or TeamDirectory(),
    )


def rule_policy(rule_yaml: str) -> str:
    """A policy with one rule named `r`, given as the YAML lines under `- name: r`."""
    body = "\n".join(f"      {line}" for line in rule_yaml.strip().splitlines())
    return f"approvals:\n  rules:\n    - name: r\n{body}\n"
