"""The forge-neutral snapshot every rule is evaluated against.

A front-end (the local git builder in `hooks/`, the GitHub and Bitbucket adapters in `bot/`)
builds one `Change`; the engine only reads it. Everything is frozen so a Change can be cached,
compared and evaluated from several threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum


class FileStatus(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    RENAMED = "renamed"
    COPIED = "copied"


class ReviewState(StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    COMMENTED = "commented"
    DISMISSED = "dismissed"
    PENDING = "pending"


@dataclass(frozen=True)
class Identity:
    """A person or bot as the forge or git knows them; `login` is the forge account if known."""

    name: str = ""
    email: str = ""
    login: str = ""

    def matches(self, other: Identity) -> bool:
        if self.login and other.login:
            return self.login.lower() == other.login.lower()
        if self.email and other.email:
            return self.email.lower() == other.email.lower()
        return bool(self.name) and self.name == other.name

    @property
    def display(self) -> str:
        return self.login or self.name or self.email or "unknown"


@dataclass(frozen=True)
class AddedLine:
    number: int  # 1-based line number in the new version of the file
    text: str


@dataclass(frozen=True)
class FileChange:
    path: str
    status: FileStatus = FileStatus.MODIFIED
    previous_path: str | None = None
    additions: int = 0
    deletions: int = 0
    added_lines: tuple[AddedLine, ...] = ()
    binary: bool = False
    lines_before: int | None = None  # size of the file before the change (Kamei's LT)


@dataclass(frozen=True)
class Signature:
    """What `git log --format=%G?` and friends report for one commit.

    status is git's letter: G good, B bad, U good but unknown validity, X expired signature,
    Y expired key, R revoked key, E cannot be checked, N no signature.
    """

    status: str = "N"
    signer: str = ""  # %GS: the signer's name/e-mail (GPG uid or SSH principal)
    key: str = ""  # %GK / %GF: key id or fingerprint
    verified_by_forge: bool | None = None  # GitHub's `verification.verified`, if known
    format: str = ""  # openpgp | ssh | x509, when known
    primary_key: str = ""  # %GP: fingerprint of the primary key when a GPG subkey signed

    @property
    def is_signed(self) -> bool:
        return self.status != "N"


@dataclass(frozen=True)
class Commit:
    sha: str
    message: str
    author: Identity = field(default_factory=Identity)
    committer: Identity = field(default_factory=Identity)
    signature: Signature = field(default_factory=Signature)
    parents: tuple[str, ...] = ()
    authored_at: datetime | None = None

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


@dataclass(frozen=True)
class Review:
    reviewer: Identity
    state: ReviewState
    commit_sha: str = ""  # head it was given on (GitHub commit_id, DC lastReviewedCommit)
    submitted_at: datetime | None = None
    body: str = ""


@dataclass(frozen=True)
class CheckStatus:
    """A CI result on the head commit, as the forge reports it."""

    context: str
    state: str  # success | failure | pending | error | neutral | skipped


@dataclass(frozen=True)
class FileHistory:
    """History of one touched file before this change (from a local clone)."""

    path: str
    age_days: float | None = None  # days since the file was last changed
    authors: tuple[str, ...] = ()  # distinct prior authors (Kamei's NDEV)
    changes: int = 0  # prior commits touching the file (Kamei's NUC counts unique ones)
    fixes: int = 0  # prior bug-fix commits touching the file


@dataclass(frozen=True)
class AuthorHistory:
    """Experience of the change's author before this change."""

    experience: int = 0  # prior commits by the author (EXP)
    recent_experience: float = 0.0  # commits weighted by 1/(age in years + 1) (REXP)
    subsystem_experience: int = 0  # prior commits to the touched subsystems (SEXP)
    first_change_in_subsystems: tuple[str, ...] = ()
    # the counts of the shared training data (see rules/risk/model.py):
    file_changes: int = 0  # prior file modifications by the author (one per file per commit)
    recent_file_changes: float = 0.0  # those weighted by 1/(days ago + 1)
    subsystem_files: int = 0  # distinct files in the touched subsystems by the author, these too


@dataclass(frozen=True)
class History:
    files: tuple[FileHistory, ...] = ()
    author: AuthorHistory | None = None
    unique_prior_changes: int = 0  # NUC: distinct prior commits touching any of the files
    base_sha: str = ""  # the commit the figures were computed at (history before the change)


@dataclass(frozen=True)
class Change:
    """One change under evaluation: a pull request, a local branch, or the staged index."""

    repository: str  # "owner/name" or a local path
    forge: str = "local"  # local | github | bitbucket-cloud | bitbucket-server
    number: int | None = None
    base_ref: str = ""
    head_ref: str = ""
    base_sha: str = ""
    head_sha: str = ""
    title: str = ""
    description: str = ""
    author: Identity = field(default_factory=Identity)
    labels: tuple[str, ...] = ()
    draft: bool = False
    files: tuple[FileChange, ...] = ()
    commits: tuple[Commit, ...] = ()
    reviews: tuple[Review, ...] = ()
    checks: tuple[CheckStatus, ...] = ()
    codeowners: str | None = None  # the CODEOWNERS text as of the base
    history: History | None = None  # None when no clone was available
    base_files: dict[str, str] = field(default_factory=dict, compare=False)
    # ^ files the policy refers to, read from the base (e.g. the allowed_signers file)
    files_truncated: bool = False  # the forge capped the file list (GitHub: 3000 files)
    notes: tuple[str, ...] = ()  # facts a front-end wants said in the report

    @property
    def additions(self) -> int:
        return sum(f.additions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files)

    def with_reviews(self, *reviews: Review) -> Change:
        """A simulated Change with extra reviews, for "what if" evaluation."""
        return replace(self, reviews=self.reviews + reviews)


class Directory:
    """Team membership and permission look-ups, injected so rules stay pure.

    The default knows nothing: no teams, and everyone who reviews has write permission.
    Forge adapters subclass it with cached API look-ups.
    """

    def team_members(self, team: str) -> frozenset[str]:
        return frozenset()

    def permission(self, login: str) -> str:
        """One of admin, maintain, write, triage, read, none."""
        return "write"

    def users_with_permission(self, level: str) -> frozenset[str]:
        return frozenset()
