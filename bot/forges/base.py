"""What every forge adapter offers the worker: read a PR into a Change, publish a Report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gitops_health.rules.change import Change, Directory
from gitops_health.rules.report import Report


@dataclass(frozen=True)
class PullRequestRef:
    """Identifies one PR on one forge; all the worker needs to re-read it from the API."""

    forge: str  # github | bitbucket-cloud | bitbucket-server
    owner: str  # GitHub owner / Bitbucket Cloud workspace / Data Center project key
    repo: str
    number: int
    installation_id: int | None = None  # GitHub App installation

    @property
    def slug(self) -> str:
        return f"{self.forge}/{self.owner}/{self.repo}/{self.number}"


@dataclass(frozen=True)
class PullRequestSnapshot:
    """A PR as read from the forge API at one moment."""

    change: Change
    policy_text: str | None  # `.gitops-health.yml` from the base branch, None if absent
    head_policy_text: str | None  # the same file at the head, when the PR changes it
    directory: Directory
    state: str = "open"  # open | closed | merged


class Forge(Protocol):
    name: str

    def snapshot(self, ref: PullRequestRef) -> PullRequestSnapshot: ...

    def publish(self, ref: PullRequestRef, report: Report, details_url: str) -> None:
        """Create or update the one annotation set for this PR (comment, check/status...)."""
        ...

    def publish_error(self, ref: PullRequestRef, head_sha: str, message: str) -> None:
        """Leave a clear error status on the PR when evaluation failed."""
        ...
