"""Bitbucket Cloud adapter: read a PR into a Change, publish the Report (comment, status, report).

Every call goes through one `atlassian.bitbucket.Cloud` client (auth, error handling, our
retrying session) with relative 2.0 paths. The library's Repository/PullRequest objects are
not used: each one costs an extra GET, builds URLs from response links, and is created without
our `retry_with_header=False`, so it would sleep up to 30 minutes on a 429 by itself. Code
Insights has no wrapper at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from atlassian.bitbucket import Cloud

from gitops_health.bot.clones import (
    CloneCache,
    CloneSource,
    add_history,
    basic_authorization,
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
    parse_unified_diff,
    read_base_files,
    render_comment,
    report_data,
    report_details,
    status_description,
    truncate,
)
from gitops_health.rules.change import (
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

FLAVOUR = "Bitbucket Cloud"
DEFAULT_API_URL = "https://api.bitbucket.org"
ANNOTATIONS_PER_REQUEST = 100
ANNOTATION_SUMMARY_MAX = 450
NO_SIGNATURES_NOTE = (
    "Bitbucket Cloud's API does not report commit signatures: signature status is unknown"
)
_FILE_STATUS = {
    "added": FileStatus.ADDED,
    "removed": FileStatus.REMOVED,
    "renamed": FileStatus.RENAMED,
}
_PR_STATE = {"OPEN": "open", "MERGED": "merged"}
_RESULT = {"success": "PASSED", "failure": "FAILED", "pending": "PENDING"}
_PERMISSION_RANK = {"none": 0, "read": 1, "triage": 1, "write": 2, "maintain": 2, "admin": 3}
_VERDICT_ACTIVITY = ("approval", "changes_request")


def api_root(api_url: str) -> str:
    """The API host without `/2.0` (the client adds it; `.../2.0` would give `/2.0/2.0`)."""
    url = api_url.rstrip("/")
    return url[: -len("/2.0")] if url.endswith("/2.0") else url


def web_root(api_url: str) -> str:
    """https://api.bitbucket.org → https://bitbucket.org; other hosts are used as they are."""
    return api_url.replace("://api.", "://", 1)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def user_identity(user: dict[str, Any] | None, email: str = "") -> Identity:
    user = user or {}
    return Identity(name=user.get("display_name", ""), email=email, login=user.get("nickname", ""))


def full_hash(short: str, commits: tuple[Commit, ...]) -> str:
    """Cloud gives PR heads as 12-character hashes; the PR's commit list has the full ones."""
    if not short:
        return ""
    return next((c.sha for c in commits if c.sha.startswith(short)), short)


def commit_from_api(raw: dict[str, Any]) -> Commit:
    author = raw.get("author") or {}
    name, email = parseaddr(author.get("raw", ""))
    user = author.get("user") or {}
    return Commit(
        sha=raw["hash"],
        message=raw.get("message", ""),
        author=Identity(name=name or user.get("display_name", ""), email=email,
                        login=user.get("nickname", "")),
        signature=Signature(status="E"),  # E: cannot be checked from the Cloud API
        parents=tuple(p["hash"] for p in raw.get("parents", [])),
        authored_at=parse_time(raw.get("date")),
    )  # fmt: skip


def file_from_diffstat(stat: dict[str, Any], diff: dict[str, DiffFile]) -> FileChange:
    old = (stat.get("old") or {}).get("path")
    new = (stat.get("new") or {}).get("path")
    path = new or old or ""
    status = _FILE_STATUS.get(stat.get("status", ""), FileStatus.MODIFIED)
    parsed = diff.get(path)
    return FileChange(
        path=path,
        status=status,
        previous_path=old if status is FileStatus.RENAMED else None,
        additions=stat.get("lines_added") or 0,
        deletions=stat.get("lines_removed") or 0,
        added_lines=tuple(parsed.added_lines) if parsed else (),
        binary=parsed.binary if parsed else False,
    )


def review_state(participant: dict[str, Any]) -> ReviewState | None:
    if participant.get("approved"):
        return ReviewState.APPROVED
    if participant.get("state") == "changes_requested":
        return ReviewState.CHANGES_REQUESTED
    return None


def cloud_annotation(index: int, finding: Finding, details_url: str) -> dict[str, Any]:
    annotation: dict[str, Any] = {
        "external_id": f"{REPORT_KEY}-{index}",
        "annotation_type": annotation_type(finding),
        "summary": truncate(finding_text(finding), ANNOTATION_SUMMARY_MAX),
        "details": f"rule {finding.rule}",
        "severity": annotation_severity(finding),
        "result": "FAILED",
    }
    if finding.path:
        annotation["path"] = finding.path
    if finding.line > 0:
        annotation["line"] = finding.line
    if details_url:
        annotation["link"] = details_url
    return annotation


class CloudDirectory(Directory):
    """Permissions and group members of one workspace repository, looked up once each."""

    def __init__(self, client: Cloud, workspace: str, slug: str) -> None:
        self._client = client
        self._workspace = workspace
        self._slug = slug
        self._permissions: dict[str, str] | None = None  # None until looked up
        self._permissions_readable = True
        self._teams: dict[str, frozenset[str]] = {}

    def _permission_table(self) -> dict[str, str] | None:
        """login → admin/write/read; None when the token may not list permissions."""
        if self._permissions is None:
            path = f"workspaces/{self._workspace}/permissions/repositories/{self._slug}"
            try:
                self._permissions = {
                    entry["user"].get("nickname", "").lower(): entry.get("permission", "none")
                    for entry in cloud_pages(self._client, path, pagelen=100)
                }
            except requests.HTTPError as error:
                log.warning(
                    "%s: cannot list permissions of %s/%s (HTTP %s); assuming write",
                    FLAVOUR,
                    self._workspace,
                    self._slug,
                    http_status(error),
                )
                self._permissions, self._permissions_readable = {}, False
        return self._permissions if self._permissions_readable else None

    def permission(self, login: str) -> str:
        table = self._permission_table()
        return super().permission(login) if table is None else table.get(login.lower(), "none")

    def users_with_permission(self, level: str) -> frozenset[str]:
        needed = _PERMISSION_RANK.get(level, 3)
        table = self._permission_table() or {}
        return frozenset(u for u, p in table.items() if _PERMISSION_RANK.get(p, 0) >= needed)

    def team_members(self, team: str) -> frozenset[str]:
        group = team.split("/", 1)[-1]
        if group not in self._teams:
            self._teams[group] = self._group_members(group)
        return self._teams[group]

    def _group_members(self, group: str) -> frozenset[str]:
        # Groups exist only in the 1.0 API: `/1.0/groups/{workspace}/{group_slug}/members` is one
        # of the 1.0 resources kept after 1.0 was removed (Atlassian's "groups Endpoint" page,
        # BCLOUD-18913); it answers a JSON list of users (nickname, display_name, uuid). Reading
        # may need workspace admin rights: a 403 leaves the group empty, with a warning.
        url = f"{api_root(self._client.url)}/1.0/groups/{self._workspace}/{group}/members"
        try:
            members = self._client.get(url, absolute=True) or []
        except requests.HTTPError as error:
            log.warning(
                "%s: cannot read members of group %s (HTTP %s)", FLAVOUR, group, http_status(error)
            )
            return frozenset()
        return frozenset(m.get("nickname") or m.get("username", "") for m in members)


def cloud_pages(client: Cloud, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every value of a paged 2.0 list, following `next` links."""
    url: str | None = path
    absolute = False
    while url:
        page = client.get(url, params=params or None, absolute=absolute) or {}
        yield from page.get("values", [])
        url, absolute, params = page.get("next"), True, {}


class BitbucketCloudForge:
    """The `Forge` for Bitbucket Cloud (bitbucket.org)."""

    name = "bitbucket-cloud"

    def __init__(
        self,
        *,
        api_url: str = DEFAULT_API_URL,
        token: str = "",
        username: str = "",
        app_password: str = "",
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        base_files: BaseFilesCache | None = None,
        clones: CloneCache | None = None,
    ) -> None:
        if not token and not (username and app_password):
            raise ValueError(
                "Bitbucket Cloud needs GITOPS_HEALTH_BITBUCKET_CLOUD_TOKEN, or a username "
                "and app password"
            )
        self.api_url = api_root(api_url)
        credentials = (
            {"token": token} if token else {"username": username, "password": app_password}
        )
        self.client = Cloud(
            url=self.api_url,
            session=RetryingSession(retry or RetryPolicy(), self.name),
            retry_with_header=False,  # the session honours Retry-After itself
            timeout=timeout,
            **credentials,
        )
        self._base_files = base_files or BaseFilesCache()
        self._comment_ids: dict[str, int] = {}
        self._me: str | None = None
        self._clones = clones
        self._clone_urls: dict[str, str] = {}
        self._git_authorization = (  # what git over https accepts for each kind of credential
            basic_authorization("x-token-auth", token)
            if token
            else basic_authorization(username, app_password)
        )

    @classmethod
    def from_settings(cls, settings: Settings, store: object = None) -> BitbucketCloudForge:
        """The adapter for `bot.settings`; no store needed, the comment is found on Bitbucket."""
        s = settings.bitbucket_cloud
        return cls(
            api_url=s.api_url,
            token=s.token,
            username=s.username,
            app_password=s.app_password,
            clones=CloneCache.from_settings(settings),
        )

    # --- reading -------------------------------------------------------------------------

    def open_pull_requests(self, scope: PullRequestRef) -> list[PullRequestRef]:
        """The open PRs of the repository `scope.owner/scope.repo` (`state=OPEN`, paged by 50,
        the most `pagelen` Cloud allows for pull requests)."""
        path = f"repositories/{scope.owner}/{scope.repo}/pullrequests"
        with api_errors(FLAVOUR, f"listing the open PRs of {scope.owner}/{scope.repo}"):
            pulls = list(cloud_pages(self.client, path, state="OPEN", pagelen=50))
        return [PullRequestRef(self.name, scope.owner, scope.repo, pull["id"]) for pull in pulls]

    def snapshot(self, ref: PullRequestRef) -> PullRequestSnapshot:
        with api_errors(FLAVOUR, f"reading {ref.slug}"):
            data = self.client.get(self._pr_path(ref)) or {}
            diff = self.client.get(self._pr_path(ref, "diff"), not_json_response=True) or b""
            files = self._files(ref, diff.decode("utf-8", "replace"))
            pages = cloud_pages(self.client, self._pr_path(ref, "commits"), pagelen=100)
            commits = tuple(map(commit_from_api, pages))
            head_sha = full_hash(data["source"]["commit"]["hash"], commits)
            base_sha = data["destination"]["commit"]["hash"]
            repository = f"{ref.owner}/{ref.repo}"
            base = self._base_files.get(
                f"{self.name}/{repository}", base_sha,
                lambda: read_base_files(lambda path: self._read(repository, base_sha, path)),
            )  # fmt: skip
            # a fork PR's head lives in the fork
            source = data["source"].get("repository", {}).get("full_name", repository)
            head_policy = self._head_policy(source, head_sha, files)
            change = Change(
                repository=repository,
                forge=self.name,
                number=ref.number,
                base_ref=data["destination"]["branch"]["name"],
                head_ref=data["source"]["branch"]["name"],
                base_sha=base_sha,
                head_sha=head_sha,
                title=data.get("title", ""),
                description=data.get("description", ""),
                author=user_identity(data.get("author")),
                draft=bool(data.get("draft", False)),
                files=files,
                commits=commits,
                reviews=self._reviews(ref, data.get("participants", []), commits),
                codeowners=base.codeowners,
                base_files=dict(base.referenced),
                notes=(NO_SIGNATURES_NOTE,),
            )
        change = add_history(change, self._clones, lambda: self._clone_source(repository))
        return PullRequestSnapshot(
            change=change,
            policy_text=base.policy_text,
            head_policy_text=head_policy,
            directory=CloudDirectory(self.client, ref.owner, ref.repo),
            state=_PR_STATE.get(data.get("state", ""), "closed"),
        )

    def _clone_source(self, repository: str) -> CloneSource | None:
        """The https clone link of `workspace/slug` (one request per repository and process)."""
        if repository not in self._clone_urls:
            links = (self.client.get(f"repositories/{repository}") or {}).get("links", {})
            self._clone_urls[repository] = clone_link(links.get("clone", []), "https")
        url = self._clone_urls[repository]
        return clone_source(f"{self.name}/{repository}", url, self._git_authorization)

    def _pr_path(self, ref: PullRequestRef, tail: str = "") -> str:
        path = f"repositories/{ref.owner}/{ref.repo}/pullrequests/{ref.number}"
        return f"{path}/{tail}" if tail else path

    def _files(self, ref: PullRequestRef, diff_text: str) -> tuple[FileChange, ...]:
        diff = parse_unified_diff(diff_text)
        stats = cloud_pages(self.client, self._pr_path(ref, "diffstat"), pagelen=500)
        return tuple(file_from_diffstat(stat, diff) for stat in stats)

    def _read(self, repository: str, commit: str, path: str) -> str | None:
        """A file at a commit of `workspace/slug`; None when it does not exist there."""
        source = f"repositories/{repository}/src/{quote(commit, safe='')}/{quote(path)}"
        try:
            content = self.client.get(source, not_json_response=True) or b""
        except requests.HTTPError as error:
            if http_status(error) == 404:
                return None
            raise
        return content.decode("utf-8", "replace")

    def _head_policy(
        self, repository: str, head_sha: str, files: tuple[FileChange, ...]
    ) -> str | None:
        changed = any(f.path == POLICY_FILE and f.status is not FileStatus.REMOVED for f in files)
        return self._read(repository, head_sha, POLICY_FILE) if changed else None

    def _reviews(
        self, ref: PullRequestRef, participants: list[dict[str, Any]], commits: tuple[Commit, ...]
    ) -> tuple[Review, ...]:
        verdicts = [(p, state) for p in participants if (state := review_state(p)) is not None]
        if not verdicts:
            return ()
        given_on = self._verdict_commits(ref, {p["user"].get("uuid", "") for p, _ in verdicts})
        return tuple(
            Review(
                reviewer=user_identity(p["user"]),
                state=state,
                commit_sha=full_hash(given_on.get(p["user"].get("uuid", ""), ""), commits),
                submitted_at=parse_time(p.get("participated_on")),
            )
            for p, state in verdicts
        )

    def _verdict_commits(self, ref: PullRequestRef, reviewers: set[str]) -> dict[str, str]:
        """Head each reviewer's latest approval/request-changes was given on.

        Cloud keeps no commit per approval, but its activity (newest first) interleaves
        verdicts with `update` entries carrying the source commit: the first update older than
        a verdict is the head it was given on.
        """
        pending, waiting, given_on = set(reviewers), [], {}
        for entry in cloud_pages(self.client, self._pr_path(ref, "activity"), pagelen=50):
            verdict = next((entry[k] for k in _VERDICT_ACTIVITY if k in entry), None)
            if verdict is not None:
                uuid = (verdict.get("user") or {}).get("uuid", "")
                if uuid in pending:
                    pending.discard(uuid)
                    waiting.append(uuid)
            elif "update" in entry:
                commit = entry["update"].get("source", {}).get("commit", {}).get("hash", "")
                given_on.update((uuid, commit) for uuid in waiting)
                waiting.clear()
                if not pending:
                    break
        return given_on

    # --- publishing ----------------------------------------------------------------------

    def publish(self, ref: PullRequestRef, report: Report, details_url: str) -> None:
        with api_errors(FLAVOUR, f"publishing on {ref.slug}"):
            self._publish_report(ref, report, details_url)
            self._upsert_comment(ref, render_comment(report, details_url))
            self._post_status(
                ref, report.head_sha, build_state(report), status_description(report),
                details_url or self.pull_request_url(ref),
            )  # fmt: skip

    def publish_error(self, ref: PullRequestRef, head_sha: str, message: str) -> None:
        with api_errors(FLAVOUR, f"reporting an error on {ref.slug}"):
            self._post_status(
                ref, head_sha, "FAILED", error_description(message), self.pull_request_url(ref)
            )

    def pull_request_url(self, ref: PullRequestRef) -> str:
        return f"{web_root(self.api_url)}/{ref.owner}/{ref.repo}/pull-requests/{ref.number}"

    def _post_status(
        self, ref: PullRequestRef, sha: str, state: str, description: str, url: str
    ) -> None:
        self.client.post(
            f"repositories/{ref.owner}/{ref.repo}/commit/{sha}/statuses/build",
            data={"key": REPORT_KEY, "name": REPORT_TITLE, "state": state,
                  "description": description, "url": url},
        )  # fmt: skip

    def _publish_report(self, ref: PullRequestRef, report: Report, details_url: str) -> None:
        path = f"repositories/{ref.owner}/{ref.repo}/commit/{report.head_sha}/reports/{REPORT_KEY}"
        findings = ordered_findings(report.findings)[:ANNOTATIONS_PER_REPORT]
        body: dict[str, Any] = {
            "title": REPORT_TITLE,
            "details": report_details(report, len(findings)),
            "report_type": "SECURITY",
            "reporter": REPORTER,
            "result": _RESULT[report.conclusion],
            "data": report_data(report, details_url),
        }
        if details_url:
            body["link"] = details_url
        self._delete_report(path)  # clears the previous run's annotations
        self.client.put(path, data=body)
        annotations = [cloud_annotation(i, f, details_url) for i, f in enumerate(findings)]
        for batch in chunks(annotations, ANNOTATIONS_PER_REQUEST):
            self.client.post(f"{path}/annotations", data=list(batch))

    def _delete_report(self, path: str) -> None:
        try:
            self.client.delete(path)
        except requests.HTTPError as error:
            if http_status(error) != 404:
                raise

    def _upsert_comment(self, ref: PullRequestRef, text: str) -> None:
        path = self._pr_path(ref, "comments")
        existing = self._find_comment(ref)
        if existing is None:
            created = self.client.post(path, data={"content": {"raw": text}}) or {}
            self._comment_ids[ref.slug] = created.get("id", 0)
        elif existing.get("content", {}).get("raw") != text:
            self.client.put(f"{path}/{existing['id']}", data={"content": {"raw": text}})

    def _find_comment(self, ref: PullRequestRef) -> dict[str, Any] | None:
        """Our sticky comment: the remembered id first, else a scan for marker + our account."""
        path = self._pr_path(ref, "comments")
        known = self._comment_ids.get(ref.slug)
        if known:
            try:
                comment = self.client.get(f"{path}/{known}") or {}
            except requests.HTTPError as error:
                if http_status(error) != 404:
                    raise
            else:
                if self._is_ours(comment):
                    return comment
        for comment in cloud_pages(self.client, path, pagelen=100):
            if self._is_ours(comment):
                self._comment_ids[ref.slug] = comment["id"]
                return comment
        return None

    def _is_ours(self, comment: dict[str, Any]) -> bool:
        if comment.get("deleted") or comment.get("inline"):
            return False
        if COMMENT_MARKER not in (comment.get("content") or {}).get("raw", ""):
            return False
        me = self._account_uuid()
        return not me or (comment.get("user") or {}).get("uuid") == me

    def _account_uuid(self) -> str:
        """The bot's own account; "" when the token may not read it (marker alone then)."""
        if self._me is None:
            try:
                self._me = (self.client.get("user") or {}).get("uuid", "")
            except requests.HTTPError as error:
                log.warning(
                    "%s: cannot read the bot's own account (HTTP %s)", FLAVOUR, http_status(error)
                )
                self._me = ""
        return self._me
