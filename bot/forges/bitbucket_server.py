"""Bitbucket Data Center (Server) adapter: read a PR into a Change, publish the Report.

Reads, comments and Code Insights go through `atlassian.Bitbucket`; the build-status POST is a
raw call (the library only reads build statuses), and so are the permission-filtered user
look-ups and the structured PR diff.

Checked against Atlassian's documentation and long-running clients (not a live server):
- `GET rest/api/1.0/users?permission.1=REPO_WRITE&permission.1.projectKey=P&permission.1.
  repositorySlug=r[&filter=login]` is the user search of `UserSearchRequest` (DC 9.5 javadoc):
  every permission must hold, project and group grants count, and `filter` matches usernames,
  display names or e-mails *containing* the text, so the exact login is compared here. Renovate's
  bitbucket-server platform queries it the same way. Numbering must start at 1: a filter the
  server does not understand (`permission.2` without `permission.1`) is dropped silently.
- `X-AUSERNAME` is not in the REST reference, but Bitbucket sets it on authenticated answers;
  Renovate (#39554), Eclipse Che (#790) and Jenkins bitbucket-branch-source (#965) rely on it.
  Without it the sticky comment is found by its marker alone.
- A Code Insights report LINK value is `{"linktext", "href"}` on Data Center (Cloud: `{"text",
  "href"}`), as the SonarQube community branch plugin's `DataValue.Link` sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
from atlassian import Bitbucket

from gitops_health.bot.clones import (
    CloneCache,
    CloneSource,
    add_history,
    bearer_authorization,
    clone_link,
    clone_source,
)
from gitops_health.bot.forges.base import PullRequestRef, PullRequestSnapshot
from gitops_health.bot.forges.bitbucket_common import (
    ANNOTATIONS_PER_REPORT,
    REPORT_KEY,
    REPORT_TITLE,
    REPORTER,
    BaseFilesCache,
    DiffFile,
    RetryingSession,
    RetryPolicy,
    annotation_severity,
    annotation_type,
    api_errors,
    build_state,
    chunks,
    error_description,
    http_status,
    ordered_findings,
    read_base_files,
    render_comment,
    report_data,
    report_details,
    status_description,
    truncate,
)
from gitops_health.rules.change import (
    AddedLine,
    Change,
    Commit,
    Directory,
    FileChange,
    FileStatus,
    Identity,
    Review,
    ReviewState,
    Signature,
)
from gitops_health.rules.config.policy import POLICY_FILE
from gitops_health.rules.render.markdown import COMMENT_MARKER
from gitops_health.rules.render.text import finding_text
from gitops_health.rules.report import Finding, Report

if TYPE_CHECKING:
    from gitops_health.bot.settings import Settings

log = logging.getLogger(__name__)

FLAVOUR = "Bitbucket Data Center"
ANNOTATIONS_PER_REQUEST = 500
ANNOTATION_MESSAGE_MAX = 2000
NO_SIGNATURES_NOTE = (
    "Bitbucket Data Center's API does not report commit signatures: signature status is unknown"
)
DIFF_TRUNCATED_NOTE = (
    "Bitbucket Data Center truncated the PR diff: added lines past its limit were not scanned"
)
_FILE_STATUS = {
    "ADD": FileStatus.ADDED,
    "DELETE": FileStatus.REMOVED,
    "MOVE": FileStatus.RENAMED,
    "COPY": FileStatus.COPIED,
}
_REVIEW_STATE = {"APPROVED": ReviewState.APPROVED, "NEEDS_WORK": ReviewState.CHANGES_REQUESTED}
_PR_STATE = {"OPEN": "open", "MERGED": "merged"}
_RESULT = {"success": "PASS", "failure": "FAIL"}  # pending: no result until approvals land
# Repository permissions, strongest first, with the Directory level each one means.
_PERMISSIONS = (("REPO_ADMIN", "admin"), ("REPO_WRITE", "write"), ("REPO_READ", "read"))
_LEVEL_PERMISSION = {
    "admin": "REPO_ADMIN", "maintain": "REPO_WRITE", "write": "REPO_WRITE",
    "triage": "REPO_READ", "read": "REPO_READ",
}  # fmt: skip


def user_identity(user: dict[str, Any] | None) -> Identity:
    user = user or {}
    return Identity(
        name=user.get("displayName", user.get("name", "")),
        email=user.get("emailAddress", ""),
        login=user.get("name", ""),
    )


def commit_author(person: dict[str, Any] | None) -> Identity:
    """A git author: a Bitbucket user when it has a slug, else just the git name and e-mail."""
    person = person or {}
    if "slug" in person:
        return user_identity(person)
    return Identity(name=person.get("name", ""), email=person.get("emailAddress", ""))


def from_millis(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if value else None


def commit_from_api(raw: dict[str, Any]) -> Commit:
    return Commit(
        sha=raw["id"],
        message=raw.get("message", ""),
        author=commit_author(raw.get("author")),
        committer=commit_author(raw.get("committer")),
        signature=Signature(status="E"),  # E: cannot be checked from the REST API
        parents=tuple(p["id"] for p in raw.get("parents", [])),
        authored_at=from_millis(raw.get("authorTimestamp")),
    )


def diff_files(diff: dict[str, Any]) -> tuple[dict[str, DiffFile], bool]:
    """Added lines and counts per path from the structured PR diff, and whether it was cut."""
    files: dict[str, DiffFile] = {}
    truncated = bool(diff.get("truncated"))
    for entry in diff.get("diffs", []):
        path = (entry.get("destination") or entry.get("source") or {}).get("toString", "")
        file = files.setdefault(path, DiffFile(path, binary=bool(entry.get("binary"))))
        truncated = truncated or bool(entry.get("truncated"))
        for hunk in entry.get("hunks", []):
            truncated = truncated or bool(hunk.get("truncated"))
            for segment in hunk.get("segments", []):
                count_segment(file, segment)
    return files, truncated


def count_segment(file: DiffFile, segment: dict[str, Any]) -> None:
    lines = segment.get("lines", [])
    if segment.get("type") == "ADDED":
        file.added_lines.extend(AddedLine(x["destination"], x.get("line", "")) for x in lines)
        file.additions += len(lines)
    elif segment.get("type") == "REMOVED":
        file.deletions += len(lines)


def file_from_change(change: dict[str, Any], diff: dict[str, DiffFile]) -> FileChange:
    path = change["path"]["toString"]
    status = _FILE_STATUS.get(change.get("type", ""), FileStatus.MODIFIED)
    source = (change.get("srcPath") or {}).get("toString")
    parsed = diff.get(path) or DiffFile(path)
    return FileChange(
        path=path,
        status=status,
        previous_path=source if status in (FileStatus.RENAMED, FileStatus.COPIED) else None,
        additions=parsed.additions,
        deletions=parsed.deletions,
        added_lines=tuple(parsed.added_lines),
        binary=parsed.binary,
    )


def reviews_from_pr(pr: dict[str, Any]) -> tuple[Review, ...]:
    """Approvals and needs-work verdicts of reviewers and participants, with the commit seen."""
    return tuple(
        Review(
            reviewer=user_identity(p.get("user")),
            state=_REVIEW_STATE[p["status"]],
            commit_sha=p.get("lastReviewedCommit", ""),
        )
        for p in [*pr.get("reviewers", []), *pr.get("participants", [])]
        if p.get("status") in _REVIEW_STATE
    )


def server_annotation(index: int, finding: Finding, details_url: str) -> dict[str, Any]:
    annotation: dict[str, Any] = {
        "externalId": f"{REPORT_KEY}-{index}",
        "message": truncate(finding_text(finding), ANNOTATION_MESSAGE_MAX),
        "severity": annotation_severity(finding),
        "type": annotation_type(finding),
    }
    if finding.path:
        annotation["path"] = finding.path
    if finding.line > 0:
        annotation["line"] = finding.line
    if details_url:
        annotation["link"] = details_url
    return annotation


def server_pages(client: Bitbucket, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every value of a paged 1.0 list (`isLastPage` / `nextPageStart`)."""
    while True:
        page = client.get(path, params=params) or {}
        yield from page.get("values", [])
        if page.get("isLastPage", True) or page.get("nextPageStart") is None:
            return
        params = {**params, "start": page["nextPageStart"]}


class ServerDirectory(Directory):
    """Effective repository permissions and group members, looked up once each."""

    def __init__(self, client: Bitbucket, project: str, slug: str) -> None:
        self._client = client
        self._project = project
        self._slug = slug
        self._levels: dict[str, str] = {}
        self._holders: dict[str, frozenset[str]] = {}
        self._teams: dict[str, frozenset[str]] = {}

    def _users_with(self, permission: str, login: str = "") -> frozenset[str]:
        """Users holding `permission` on the repository, directly, by project or by group."""
        params = {
            "permission.1": permission,
            "permission.1.projectKey": self._project,
            "permission.1.repositorySlug": self._slug,
            "limit": 1000,
        }
        if login:
            params["filter"] = login
        with api_errors(FLAVOUR, f"listing users with {permission} on {self._slug}"):
            users = server_pages(self._client, "rest/api/1.0/users", **params)
            return frozenset(u.get("name", "").lower() for u in users)

    def permission(self, login: str) -> str:
        key = login.lower()
        if key not in self._levels:
            self._levels[key] = next(
                (level for perm, level in _PERMISSIONS if key in self._users_with(perm, login)),
                "none",
            )
        return self._levels[key]

    def users_with_permission(self, level: str) -> frozenset[str]:
        permission = _LEVEL_PERMISSION.get(level, "REPO_ADMIN")
        if permission not in self._holders:
            self._holders[permission] = self._users_with(permission)
        return self._holders[permission]

    def team_members(self, team: str) -> frozenset[str]:
        if team not in self._teams:
            try:
                members = self._client.group_members(team, limit=1000)
                self._teams[team] = frozenset(m.get("name", "").lower() for m in members)
            except requests.HTTPError as error:
                log.warning(
                    "%s: cannot read members of group %s (HTTP %s)",
                    FLAVOUR,
                    team,
                    http_status(error),
                )
                self._teams[team] = frozenset()
        return self._teams[team]


class BitbucketServerForge:
    """The `Forge` for Bitbucket Data Center / Server."""

    name = "bitbucket-server"

    def __init__(
        self,
        *,
        url: str,
        token: str,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        base_files: BaseFilesCache | None = None,
        clones: CloneCache | None = None,
    ) -> None:
        if not url:
            raise ValueError("Bitbucket Data Center needs GITOPS_HEALTH_BITBUCKET_SERVER_URL")
        if not token:
            raise ValueError("Bitbucket Data Center needs GITOPS_HEALTH_BITBUCKET_SERVER_TOKEN")
        self.url = url.rstrip("/")
        self.client = Bitbucket(
            url=self.url,
            token=token,
            cloud=False,
            session=RetryingSession(retry or RetryPolicy(), self.name),
            retry_with_header=False,  # the session honours Retry-After itself
            timeout=timeout,
        )
        self._base_files = base_files or BaseFilesCache()
        self._comment_ids: dict[str, int] = {}
        self._username: str | None = None
        self._clones = clones
        self._git_authorization = bearer_authorization(token)

    @classmethod
    def from_settings(cls, settings: Settings, store: object = None) -> BitbucketServerForge:
        """The adapter for `bot.settings`; no store needed, the comment is found on Bitbucket."""
        return cls(
            url=settings.bitbucket_server.url,
            token=settings.bitbucket_server.token,
            clones=CloneCache.from_settings(settings),
        )

    # --- reading -------------------------------------------------------------------------

    def open_pull_requests(self, scope: PullRequestRef) -> list[PullRequestRef]:
        """The open PRs into the repository `scope.owner/scope.repo` (PROJECT/slug), paged."""
        path = f"rest/api/1.0/projects/{scope.owner}/repos/{scope.repo}/pull-requests"
        with api_errors(FLAVOUR, f"listing the open PRs of {scope.owner}/{scope.repo}"):
            pulls = list(server_pages(self.client, path, state="OPEN", limit=100))
        return [PullRequestRef(self.name, scope.owner, scope.repo, pull["id"]) for pull in pulls]

    def snapshot(self, ref: PullRequestRef) -> PullRequestSnapshot:
        project, slug, number = ref.owner, ref.repo, ref.number
        with api_errors(FLAVOUR, f"reading {ref.slug}"):
            pr = self.client.get_pull_request(project, slug, number)
            diff, truncated = diff_files(
                self.client.get(self._pr_path(ref, "diff"),
                                params={"contextLines": 0, "withComments": "false"}) or {}
            )  # fmt: skip
            files = tuple(
                file_from_change(c, diff)
                for c in self.client.get_pull_requests_changes(project, slug, number, limit=1000)
            )
            commits = tuple(
                commit_from_api(c)
                for c in self.client.get_pull_requests_commits(project, slug, number, limit=100)
            )
            head_sha, base_sha = pr["fromRef"]["latestCommit"], pr["toRef"]["latestCommit"]
            base = self._base_files.get(
                f"{self.name}/{project}/{slug}", base_sha,
                lambda: read_base_files(lambda path: self._read(project, slug, base_sha, path)),
            )  # fmt: skip
            changes_policy = any(
                f.path == POLICY_FILE and f.status is not FileStatus.REMOVED for f in files
            )
            source = pr["fromRef"].get("repository") or {}  # a fork PR's head lives in the fork
            source_project = (source.get("project") or {}).get("key", project)
            source_slug = source.get("slug", slug)
            head_policy = (
                self._read(source_project, source_slug, head_sha, POLICY_FILE)
                if changes_policy
                else None
            )
        notes = (NO_SIGNATURES_NOTE, DIFF_TRUNCATED_NOTE) if truncated else (NO_SIGNATURES_NOTE,)
        change = Change(
            repository=f"{project}/{slug}",
            forge=self.name,
            number=number,
            base_ref=pr["toRef"].get("displayId", ""),
            head_ref=pr["fromRef"].get("displayId", ""),
            base_sha=base_sha,
            head_sha=head_sha,
            title=pr.get("title", ""),
            description=pr.get("description", ""),
            author=user_identity((pr.get("author") or {}).get("user")),
            draft=bool(pr.get("draft", False)),
            files=files,
            commits=commits,
            reviews=reviews_from_pr(pr),
            codeowners=base.codeowners,
            base_files=dict(base.referenced),
            notes=notes,
        )
        change = add_history(change, self._clones, lambda: self._clone_source(ref, pr))
        return PullRequestSnapshot(
            change=change,
            policy_text=base.policy_text,
            head_policy_text=head_policy,
            directory=ServerDirectory(self.client, project, slug),
            state=_PR_STATE.get(pr.get("state", ""), "closed"),
        )

    def _clone_source(self, ref: PullRequestRef, pr: dict[str, Any]) -> CloneSource | None:
        """The http(s) clone link of the target repository, from the PR itself."""
        links = pr["toRef"]["repository"].get("links", {}).get("clone", [])
        url = clone_link(links, "http", "https")
        return clone_source(f"{self.name}/{ref.owner}/{ref.repo}", url, self._git_authorization)

    def _pr_path(self, ref: PullRequestRef, tail: str) -> str:
        return (
            f"rest/api/1.0/projects/{ref.owner}/repos/{ref.repo}/pull-requests/{ref.number}/{tail}"
        )

    def _read(self, project: str, slug: str, commit: str, path: str) -> str | None:
        """A file at a commit; None when it does not exist there."""
        try:
            content = self.client.get_content_of_file(project, slug, path, at=commit)
        except requests.HTTPError as error:
            if http_status(error) == 404:
                return None
            raise
        return content.decode("utf-8", "replace")

    # --- publishing ----------------------------------------------------------------------

    def publish(self, ref: PullRequestRef, report: Report, details_url: str) -> None:
        with api_errors(FLAVOUR, f"publishing on {ref.slug}"):
            self._publish_report(ref, report, details_url)
            self._upsert_comment(ref, render_comment(report, details_url))
            self._post_status(
                report.head_sha, build_state(report), status_description(report),
                details_url or self.pull_request_url(ref),
            )  # fmt: skip

    def publish_error(self, ref: PullRequestRef, head_sha: str, message: str) -> None:
        with api_errors(FLAVOUR, f"reporting an error on {ref.slug}"):
            self._post_status(
                head_sha, "FAILED", error_description(message), self.pull_request_url(ref)
            )

    def pull_request_url(self, ref: PullRequestRef) -> str:
        return f"{self.url}/projects/{ref.owner}/repos/{ref.repo}/pull-requests/{ref.number}"

    def _post_status(self, sha: str, state: str, description: str, url: str) -> None:
        # The library only reads build statuses; this legacy endpoint exists on every version.
        self.client.post(
            f"rest/build-status/1.0/commits/{sha}",
            data={"key": REPORT_KEY, "name": REPORT_TITLE, "state": state,
                  "description": description, "url": url},
        )  # fmt: skip

    def _publish_report(self, ref: PullRequestRef, report: Report, details_url: str) -> None:
        findings = ordered_findings(report.findings)[:ANNOTATIONS_PER_REPORT]
        fields: dict[str, Any] = {
            "details": report_details(report, len(findings)),
            "reporter": REPORTER,
            "data": report_data(report, details_url, link_text_key="linktext"),
        }
        if report.conclusion in _RESULT:
            fields["result"] = _RESULT[report.conclusion]
        if details_url:
            fields["link"] = details_url
        if self._replace_report(ref, report.head_sha, fields):
            annotations = [server_annotation(i, f, details_url) for i, f in enumerate(findings)]
            self._add_annotations(ref, report.head_sha, annotations)

    def _replace_report(self, ref: PullRequestRef, sha: str, fields: dict[str, Any]) -> bool:
        """Delete and re-create our report (dropping old annotations); False without Insights."""
        try:
            self.client.delete_code_insights_report(ref.owner, ref.repo, sha, REPORT_KEY)
        except requests.HTTPError as error:
            if http_status(error) != 404:
                raise
        try:
            self.client.create_code_insights_report(
                ref.owner, ref.repo, sha, REPORT_KEY, REPORT_TITLE, **fields
            )
        except requests.HTTPError as error:
            if http_status(error) != 404:
                raise
            log.warning("%s has no Code Insights (5.15+): comment and status only", self.url)
            return False
        return True

    def _add_annotations(
        self, ref: PullRequestRef, sha: str, annotations: list[dict[str, Any]]
    ) -> None:
        for sent, batch in enumerate(chunks(annotations, ANNOTATIONS_PER_REQUEST)):
            try:
                self.client.add_code_insights_annotations_to_report(
                    ref.owner, ref.repo, sha, REPORT_KEY, list(batch)
                )
            except requests.HTTPError as error:
                if http_status(error) not in (400, 422):
                    raise
                # An admin may set the per-report limit below 1000: keep what was accepted.
                log.warning("%s rejected annotations past %d (limit lowered?): %s",
                            self.url, sent * ANNOTATIONS_PER_REQUEST, error)  # fmt: skip
                return

    def _upsert_comment(self, ref: PullRequestRef, text: str) -> None:
        existing = self._find_comment(ref)
        if existing is None:
            created = self.client.add_pull_request_comment(ref.owner, ref.repo, ref.number, text)
            self._comment_ids[ref.slug] = (created or {}).get("id", 0)
        elif existing.get("text") != text:
            self._edit_comment(ref, existing, text)

    def _edit_comment(self, ref: PullRequestRef, comment: dict[str, Any], text: str) -> None:
        """Edit with the comment's version; on a 409 (edited meanwhile) re-read it once."""
        args = (ref.owner, ref.repo, ref.number, comment["id"])
        try:
            self.client.update_pull_request_comment(*args, text, comment["version"])
        except requests.HTTPError as error:
            if http_status(error) != 409:
                raise
            fresh = self.client.get_pull_request_comment(*args)
            self.client.update_pull_request_comment(*args, text, fresh["version"])

    def _find_comment(self, ref: PullRequestRef) -> dict[str, Any] | None:
        """Our sticky comment: the remembered id first, else a scan of the PR's activities."""
        known = self._comment_ids.get(ref.slug)
        if known:
            try:
                comment = self.client.get_pull_request_comment(
                    ref.owner, ref.repo, ref.number, known
                )
            except requests.HTTPError as error:
                if http_status(error) != 404:
                    raise
            else:
                if self._is_ours(comment):
                    return comment
        activities = self.client.get_pull_requests_activities(
            ref.owner, ref.repo, ref.number, limit=100
        )
        for activity in activities:
            comment = activity.get("comment") or {}
            if activity.get("commentAction") == "ADDED" and self._is_ours(comment):
                self._comment_ids[ref.slug] = comment["id"]
                return comment
        return None

    def _is_ours(self, comment: dict[str, Any]) -> bool:
        if COMMENT_MARKER not in (comment.get("text") or ""):
            return False
        me = self._bot_username().lower()
        return not me or (comment.get("author") or {}).get("name", "").lower() == me

    def _bot_username(self) -> str:
        """The token's user, from the `X-AUSERNAME` header Bitbucket puts on every answer."""
        if self._username is None:
            response = self.client.get("rest/api/1.0/application-properties", advanced_mode=True)
            self.client.raise_for_status(response)
            self._username = response.headers.get("X-AUSERNAME", "")
        return self._username
