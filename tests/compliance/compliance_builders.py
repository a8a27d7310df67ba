"""Hand-built Changes for the pack tests: `good_change()` passes every control of every pack;
each test changes one thing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from gitops_health.rules.change import (
    AddedLine,
    Change,
    CheckStatus,
    Commit,
    FileChange,
    Identity,
    Review,
    ReviewState,
    Signature,
)
from gitops_health.rules.compliance import evaluate_controls
from gitops_health.rules.config.policy import Policy, parse_policy
from gitops_health.rules.report import ControlVerdict, Finding

HEAD = "a" * 40
OLD = "b" * 40
ALICE = Identity(name="Alice Example", email="alice@example.com", login="alice")
BOB = Identity(name="Bob Reviewer", email="bob@example.com", login="bob")
CAROL = Identity(name="Carol Coder", email="carol@example.com", login="carol")
ALL_PACKS = ("hipaa", "sox", "soc2", "pci-dss", "part11")


def signed_commit(
    sha: str = HEAD, status: str = "G", who: Identity = ALICE, message: str = "feat: add x"
) -> Commit:
    return Commit(
        sha=sha,
        message=message,
        author=who,
        committer=who,
        signature=Signature(status=status, signer=who.email if status != "N" else ""),
        authored_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


def approval(who: Identity = BOB, sha: str = HEAD, hour: int = 12) -> Review:
    return Review(who, ReviewState.APPROVED, sha, datetime(2026, 11, 2, hour, tzinfo=UTC))


def source_file(path: str = "src/app.py", *lines: str) -> FileChange:
    added = tuple(AddedLine(n, text) for n, text in enumerate(lines or ("x = 1",), start=1))
    return FileChange(path=path, additions=len(added), added_lines=added)


def good_change(**changes: object) -> Change:
    change = Change(
        repository="acme/app",
        forge="github",
        number=7,
        base_ref="main",
        head_ref="feature/x",
        base_sha="0" * 40,
        head_sha=HEAD,
        title="PROJ-12 add x",
        description="Adds x so that y.",
        author=ALICE,
        files=(source_file(), source_file("tests/test_app.py", "def test_x(): pass")),
        commits=(signed_commit(),),
        reviews=(approval(),),
        checks=(CheckStatus("ci/test", "success"),),
    )
    return replace(change, **changes)  # type: ignore[arg-type]


def policy(text: str = "") -> Policy:
    return parse_policy(f"extends: [{', '.join(ALL_PACKS)}]\n{text}")


def verdicts(
    change: Change, findings: tuple[Finding, ...] = (), policy_text: str = ""
) -> dict[str, ControlVerdict]:
    controls = evaluate_controls(change, policy(policy_text), findings, None)
    return {f"{c.framework}.{c.control}": c for c in controls}


def verdict(
    key: str, change: Change, findings: tuple[Finding, ...] = (), policy_text: str = ""
) -> ControlVerdict:
    return verdicts(change, findings, policy_text)[key]
