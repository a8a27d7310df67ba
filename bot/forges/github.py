"""GitHub adapter (PyGithub): read a PR into a Change and publish one coherent annotation.

App mode authenticates per installation (JWT → installation token, refreshed by PyGithub);
token mode uses one token and reports through a commit status instead of a check run (only
Apps may write checks). `GITOPS_HEALTH_GITHUB_API_URL` points it at GitHub Enterprise Server.

Every request goes through `GitHubTransport` (a requests adapter under PyGithub): it is counted
in the forge API metrics, and a repeated GET is made conditional (ETag → 304, answered from
memory). Files and commits are parsed once per (base, head) SHA pair, base-branch files once per
base commit (in the database).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import requests
from github import Auth, Github, GithubException, GithubIntegration, GithubRetry
from github.PaginatedList import PaginatedList
from github.PullRequest import PullRequest
from github.Repository import Repository
from github.Requester import Requester
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError

from gitops_health.bot.clones import (
    CloneCache,
    CloneSource,
    add_history,
    basic_authorization,
    clone_source,
)
from gitops_health.bot.forges.base import PullRequestRef, PullRequestSnapshot
from gitops_health.bot.metrics import count_forge_call
from gitops_health.bot.settings import Settings
from gitops_health.bot.store import Store
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
from gitops_health.rules.config.policy import POLICY_FILE, parse_policy
from gitops_health.rules.config.schema import ConfigInvalid
from gitops_health.rules.diff import added_lines
from gitops_health.rules.report import Finding, Report, RuleResult, RuleState

log = logging.getLogger(__name__)

FORGE = "github"
CHECK_NAME = "gitops-health"
FILE_CAP = 3000  # the pulls/{n}/files endpoint lists at most 3000 files
ANNOTATIONS_PER_REQUEST = 50
MAX_ANNOTATIONS = 1000
MAX_OUTPUT_CHARS = 65_000  # GitHub's limit for check summary/text and comments is 65 535
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
RISK_LABEL_PREFIX = "risk:"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})  # paced by `WritePacer`
TEAM_PREFIX = "team:"  # how approval rules name a team to request
CONDITIONAL_CACHE_BYTES = 32 * 1024 * 1024  # GET answers kept for conditional requests
PULL_CONTENTS_KEPT = 32  # PRs whose parsed files and commits are kept, by (base, head) SHA

# GitHub's verification.reason → git's %G? letter (see rules.change.Signature)
SIGNATURE_STATUS = {
    "valid": "G",
    "unsigned": "N",
    "expired_key": "Y",
    "invalid": "B",
    "malformed_signature": "B",
    "bad_cert": "B",
    "no_user": "U",
    "unverified_email": "U",
    "bad_email": "U",
    "not_signing_key": "U",
    "unknown_key": "E",
    "gpgverify_error": "E",
    "gpgverify_unavailable": "E",
    "unknown_signature_type": "E",
    "ocsp_pending": "E",
}
REVIEW_STATES = {
    "APPROVED": ReviewState.APPROVED,
    "CHANGES_REQUESTED": ReviewState.CHANGES_REQUESTED,
    "COMMENTED": ReviewState.COMMENTED,
    "DISMISSED": ReviewState.DISMISSED,
    "PENDING": ReviewState.PENDING,
}
CHECK_CONCLUSIONS = {"success": "success", "failure": "failure", "pending": "action_required"}
STATUS_STATES = {"success": "success", "failure": "failure", "pending": "pending"}
ANNOTATION_LEVELS = {"error": "failure", "warning": "warning", "note": "notice"}


class ForgeRetry(GithubRetry):
    """GithubRetry (Retry-After, x-ratelimit-reset, 5xx backoff) minus one hazard: a POST that
    failed with 5xx may have been applied, so it is not repeated (no duplicate comments)."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method == "POST" and status_code >= 500:
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> GithubRetry:
        if method == "POST" and error is not None and self._is_read_error(error):
            raise error  # the request was sent; the server may have acted on it
        final = False
        try:
            return super().increment(method, url, response, error, _pool, _stacktrace)
        except MaxRetryError:
            final = True  # urllib3 hands this answer back; the transport counts it then
            raise
        finally:
            if response is not None and not final:  # an answer retried below the transport
                count_forge_call(FORGE, method or "", response.status, response.headers)


# -- HTTP: conditional requests and metrics -----------------------------------------------------
#
# PyGithub makes conditional requests only in `CompletableGithubObject.update()`, for one object
# whose ETag the caller kept; paginated lists never send validators (PyGithub issues #536,
# #2950). So the bot does it underneath, in a requests transport adapter on PyGithub's session:
# a repeated GET carries the ETag / Last-Modified of the last answer and a 304 (free of rate
# limit) is answered from memory. GitHub ETags differ per token (github/docs#34689), so after
# an installation token is renewed the first answer is a full 200 again.


@dataclass(frozen=True)
class KeptAnswer:
    """A 200 answer to a GET, with what is needed to validate and replay it."""

    headers: dict[str, str]
    body: bytes
    encoding: str | None

    @classmethod
    def of(cls, response: requests.Response) -> KeptAnswer | None:
        if "ETag" not in response.headers and "Last-Modified" not in response.headers:
            return None
        return cls(dict(response.headers), response.content, response.encoding)

    def validators(self) -> dict[str, str]:
        found = {}
        if "ETag" in self.headers:
            found["If-None-Match"] = self.headers["ETag"]
        if "Last-Modified" in self.headers:
            found["If-Modified-Since"] = self.headers["Last-Modified"]
        return found

    def replay(self, not_modified: requests.Response) -> requests.Response:
        """The kept answer as a fresh 200, with the 304's current headers (rate limit...)."""
        response = requests.Response()
        response.status_code, response.reason = 200, "OK"
        response._content = self.body
        response.encoding = self.encoding
        fresh = {k: v for k, v in not_modified.headers.items() if k.lower() not in _BODY_HEADERS}
        response.headers = CaseInsensitiveDict({**self.headers, **fresh})
        response.url, response.request = not_modified.url, not_modified.request
        response.raw, response.connection = not_modified.raw, not_modified.connection
        response.elapsed = not_modified.elapsed
        return response


_BODY_HEADERS = frozenset(
    {"content-length", "content-type", "content-encoding", "transfer-encoding"}
)


class ConditionalCache:
    """GET answers by (client, URL), least recently used dropped past `max_bytes` of bodies."""

    def __init__(self, max_bytes: int = CONDITIONAL_CACHE_BYTES) -> None:
        self._entries: OrderedDict[tuple[str, str], KeptAnswer] = OrderedDict()
        self._bytes = 0
        self._max = max_bytes
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> KeptAnswer | None:
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None:
                self._entries.move_to_end(key)
            return kept

    def put(self, key: tuple[str, str], kept: KeptAnswer) -> None:
        if len(kept.body) > self._max // 8:
            return  # one huge answer would evict everything else
        with self._lock:
            self._drop(key)
            self._entries[key] = kept
            self._bytes += len(kept.body)
            while self._bytes > self._max:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[str, str]) -> None:
        kept = self._entries.pop(key, None)
        if kept is not None:
            self._bytes -= len(kept.body)


class WritePacer:
    """Spaces the content-creating requests of one installation (or token) in this process.

    GitHub's secondary limits count an installation's writes whichever thread makes them, and
    PyGithub's own spacing reads its clock without a lock, so threads sharing a client would
    each keep to it alone. A slot is reserved under the lock and waited for outside it.
    """

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, scope: str) -> None:
        if self._interval <= 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(scope, now))
            self._next_slot[scope] = slot + self._interval
        time.sleep(slot - now)


class GitHubTransport(HTTPAdapter):
    """Every request of one PyGithub client: counted in the metrics, GETs made conditional,
    writes paced per installation."""

    def __init__(
        self, cache: ConditionalCache | None, scope: str, pacer: WritePacer | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._cache, self._scope, self._pacer = cache, scope, pacer

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self._pacer is not None and request.method in WRITE_METHODS:
            self._pacer.wait(self._scope)
        key = (self._scope, request.url or "")
        cache = self._cache if request.method == "GET" and not kwargs.get("stream") else None
        own_validators = (
            "If-None-Match" in request.headers or "If-Modified-Since" in request.headers
        )
        kept = cache.get(key) if cache is not None and not own_validators else None
        if kept is not None:
            request.headers.update(kept.validators())
        response = super().send(request, **kwargs)
        count_forge_call(FORGE, request.method or "", response.status_code, response.headers)
        if kept is not None and response.status_code == 304:
            return kept.replay(response)
        if cache is not None and response.status_code == 200:
            fresh = KeptAnswer.of(response)
            if fresh is not None:
                cache.put(key, fresh)
        return response


def _instrument(requester: Requester, transport: Callable[..., HTTPAdapter]) -> None:
    """Mount `transport` on the session of every connection this PyGithub requester opens.

    PyGithub offers no per-client hook (only the process-wide `injectConnectionClasses`, which
    also turns off connection reuse), so the requester's connection class is wrapped.
    """
    attribute = "_Requester__connectionClass"
    connection_class = getattr(requester, attribute, None)
    if connection_class is None:
        log.warning("PyGithub's Requester changed: no API metrics or conditional requests")
        return
    setattr(requester, attribute, partial(_connect, connection_class, transport))


def _connect(
    connection_class: Any, transport: Callable[..., HTTPAdapter], *args: Any, **kwargs: Any
) -> Any:
    connection = connection_class(*args, **kwargs)
    connection.adapter = transport(
        max_retries=connection.retry,
        pool_connections=connection.pool_size,
        pool_maxsize=connection.pool_size,
    )
    connection.session.mount(f"{connection.protocol}://", connection.adapter)
    return connection


@dataclass(frozen=True)
class _PullContent:
    """What a PR's base and head SHAs fix: its files and its commits."""

    files: tuple[FileChange, ...]
    truncated: bool
    commits: tuple[Commit, ...]


@dataclass
class _PullFacts:
    """What publishing needs to know about the PR, kept from the snapshot."""

    head_sha: str
    author: str
    draft: bool
    labels: tuple[str, ...]
    reviewed_by: frozenset[str]
    requested: frozenset[str]
    requested_teams: frozenset[str]


class GitHubDirectory(Directory):
    """Team and permission look-ups for one repository, cached for one evaluation."""

    def __init__(self, gh: Github, repo: Repository) -> None:
        self._gh, self._repo = gh, repo
        self._teams: dict[str, frozenset[str]] = {}
        self._permissions: dict[str, str] = {}
        self._levels: dict[str, frozenset[str]] = {}

    def team_members(self, team: str) -> frozenset[str]:
        org, _, slug = team.lstrip("@").rpartition("/")
        key = team.lower()
        if key not in self._teams:
            try:
                found = self._gh.get_organization(org or self._repo.owner.login)
                members = found.get_team_by_slug(slug).get_members()
                self._teams[key] = frozenset(m.login for m in members)
            except GithubException as exc:
                log.info("team %s not readable (HTTP %s)", team, exc.status)
                self._teams[key] = frozenset()
        return self._teams[key]

    def permission(self, login: str) -> str:
        key = login.lower()
        if key not in self._permissions:
            try:
                raw = self._repo.get_collaborator_permission(login)
                self._permissions[key] = raw if isinstance(raw, str) else "none"
            except GithubException:
                self._permissions[key] = "none"
        return self._permissions[key]

    def users_with_permission(self, level: str) -> frozenset[str]:
        if level not in self._levels:
            try:
                users = self._repo.get_collaborators(permission=level)
                self._levels[level] = frozenset(u.login for u in users)
            except GithubException:
                self._levels[level] = frozenset()
        return self._levels[level]


@dataclass
class _Clients:
    by_installation: dict[int | None, Github] = field(default_factory=dict)
    installation_of: dict[str, int] = field(default_factory=dict)
    login: str = ""


class GitHubForge:
    name = FORGE

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings.github
        self.store = store
        self._clients = _Clients()
        self._facts: dict[str, _PullFacts] = {}
        self._lock = threading.Lock()
        self._clones = CloneCache.from_settings(settings)
        self._conditional = ConditionalCache()
        self._pacer = WritePacer(settings.github.seconds_between_writes)
        self._pull_contents: OrderedDict[tuple[str, str, str], _PullContent] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> GitHubForge:
        return cls(settings, store)

    # -- clients ------------------------------------------------------------------------------

    def _github(self, auth: Auth.Auth, scope: str) -> Github:
        """A client whose GETs are conditional within `scope` (one installation or token)."""
        s = self.settings
        retry = ForgeRetry(
            total=6,
            backoff_factor=s.retry_backoff,
            raise_on_status=False,
            secondary_rate_wait=s.secondary_rate_wait,
            allowed_methods={"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"},
            status_forcelist=[*range(500, 600), 429],
        )
        gh = Github(
            auth=auth,
            base_url=s.api_url,
            per_page=100,
            retry=retry,
            timeout=20,
            seconds_between_requests=s.seconds_between_requests or None,
            seconds_between_writes=None,  # paced by `WritePacer` across threads instead
            lazy=True,
        )
        _instrument(gh.requester, partial(GitHubTransport, self._conditional, scope, self._pacer))
        token_source = getattr(auth, "_AppInstallationAuth__integration", None)
        if token_source is not None:  # the installation token request, once an hour
            _instrument(token_source.requester, partial(GitHubTransport, None, "", None))
        return gh

    def _app_auth(self) -> Auth.AppAuth:
        assert self.settings.app_id is not None
        return Auth.AppAuth(self.settings.app_id, self.settings.private_key)

    def _integration(self) -> GithubIntegration:
        integration = GithubIntegration(auth=self._app_auth(), base_url=self.settings.api_url)
        _instrument(integration.requester, partial(GitHubTransport, None, "", None))
        return integration

    def client(self, ref: PullRequestRef) -> Github:
        """The client for this PR's installation (App mode) or the token client."""
        with self._lock:
            if not self.settings.app_mode:
                key = None
            else:
                key = ref.installation_id or self._installation(ref)
            if key not in self._clients.by_installation:
                auth: Auth.Auth = (
                    self._app_auth().get_installation_auth(key)
                    if key is not None
                    else Auth.Token(self.settings.token)
                )
                self._clients.by_installation[key] = self._github(auth, str(key))
            return self._clients.by_installation[key]

    def _installation(self, ref: PullRequestRef) -> int:
        repo = f"{ref.owner}/{ref.repo}"
        if repo not in self._clients.installation_of:
            installation = self._integration().get_repo_installation(ref.owner, ref.repo)
            self._clients.installation_of[repo] = installation.id
        return self._clients.installation_of[repo]

    def own_login(self, gh: Github) -> str:
        """Our login: `<app-slug>[bot]` in App mode, the token's user otherwise."""
        if not self._clients.login:
            login = self.store.identity(FORGE)
            if not login:
                if self.settings.app_mode:
                    login = f"{self._integration().get_app().slug}[bot]"
                else:
                    login = gh.get_user().login
                self.store.remember_identity(FORGE, login)
            self._clients.login = login
        return self._clients.login

    def _repo(self, ref: PullRequestRef) -> tuple[Github, Repository]:
        gh = self.client(ref)
        return gh, gh.get_repo(f"{ref.owner}/{ref.repo}")

    # -- reading ------------------------------------------------------------------------------

    def pull_requests_at(self, ref: PullRequestRef, head_sha: str) -> list[int]:
        """Open PRs whose head is `head_sha` (check re-runs on fork PRs do not name them)."""
        _, repo = self._repo(ref)
        pulls = repo.get_commit(head_sha).get_pulls()
        return [p.number for p in pulls if p.state == "open" and p.head.sha == head_sha]

    def open_pull_requests(self, scope: PullRequestRef) -> list[PullRequestRef]:
        """The open PRs of `scope.owner/scope.repo`, or of every repository of the installation
        `scope.installation_id` when `scope.repo` is empty (`installation` events)."""
        gh = self.client(scope)
        if scope.repo:
            names = [f"{scope.owner}/{scope.repo}"]
        else:
            listed = PaginatedList(
                Repository, gh.requester, "/installation/repositories", None,
                list_item="repositories",
            )  # fmt: skip
            names = [repository.full_name for repository in listed]
        refs = []
        for name in names:
            owner, _, repo = name.partition("/")
            pulls = gh.get_repo(name).get_pulls(state="open")
            refs += [
                PullRequestRef(FORGE, owner, repo, p.number, scope.installation_id) for p in pulls
            ]
        return refs

    def snapshot(self, ref: PullRequestRef) -> PullRequestSnapshot:
        gh, repo = self._repo(ref)
        pr = repo.get_pull(ref.number)
        content = self._content(ref, pr)
        files, truncated = content.files, content.truncated
        reviews = self._reviews(pr)
        base_sha, head_sha = pr.base.sha, pr.head.sha
        policy_text = self._file_at(repo, base_sha, POLICY_FILE)
        head_policy_text = None
        if any(f.path == POLICY_FILE and f.status != FileStatus.REMOVED for f in files):
            head_policy_text = self._file_at(repo, head_sha, POLICY_FILE)
        notes: tuple[str, ...] = ()
        if truncated:
            notes += (
                f"GitHub lists at most {FILE_CAP} files per PR: files beyond that were "
                "not evaluated",
            )
        change = Change(
            repository=f"{ref.owner}/{ref.repo}",
            forge=FORGE,
            number=ref.number,
            base_ref=pr.base.ref,
            head_ref=pr.head.ref,
            base_sha=base_sha,
            head_sha=head_sha,
            title=pr.title or "",
            description=pr.body or "",
            author=_identity(pr.user),
            labels=tuple(label.name for label in pr.labels),
            draft=bool(pr.draft),
            files=files,
            commits=content.commits,
            reviews=reviews,
            codeowners=self._codeowners(repo, base_sha),
            base_files=self._policy_files(repo, base_sha, policy_text),
            files_truncated=truncated,
            notes=notes,
        )
        change = add_history(change, self._clones, lambda: _clone_source(ref, gh, pr))
        self._remember_facts(ref, pr, change)
        state = "merged" if pr.merged else pr.state
        return PullRequestSnapshot(
            change, policy_text, head_policy_text, GitHubDirectory(gh, repo), state=state
        )

    def _remember_facts(self, ref: PullRequestRef, pr: PullRequest, change: Change) -> None:
        self._facts[ref.slug] = _PullFacts(
            head_sha=change.head_sha,
            author=change.author.login,
            draft=change.draft,
            labels=change.labels,
            reviewed_by=frozenset(r.reviewer.login.lower() for r in change.reviews),
            requested=frozenset(user.login.lower() for user in pr.requested_reviewers),
            requested_teams=frozenset(team.slug.lower() for team in pr.requested_teams),
        )

    def _content(self, ref: PullRequestRef, pr: PullRequest) -> _PullContent:
        """Files and commits, read and parsed once per (base, head) SHA pair: they fix both."""
        key = (ref.slug, pr.base.sha, pr.head.sha)
        with self._lock:
            if key in self._pull_contents:
                self._pull_contents.move_to_end(key)
                return self._pull_contents[key]
        files, truncated = self._files(pr)
        content = _PullContent(files, truncated, self._commits(pr))
        with self._lock:
            self._pull_contents[key] = content
            while len(self._pull_contents) > PULL_CONTENTS_KEPT:
                self._pull_contents.popitem(last=False)
        return content

    def _files(self, pr: PullRequest) -> tuple[tuple[FileChange, ...], bool]:
        files: list[FileChange] = []
        for item in pr.get_files():
            if len(files) == FILE_CAP:
                break
            files.append(
                FileChange(
                    path=item.filename,
                    status=_file_status(item.status),
                    previous_path=item.previous_filename,
                    additions=item.additions,
                    deletions=item.deletions,
                    added_lines=added_lines(item.patch),
                    binary=item.patch is None and item.changes == 0 and item.status != "removed",
                )
            )
        return tuple(files), len(files) >= FILE_CAP and pr.changed_files > FILE_CAP

    def _commits(self, pr: PullRequest) -> tuple[Commit, ...]:
        """Commits with GitHub's signature verification (already in the list, no extra calls)."""
        commits = []
        for item in pr.get_commits():
            git = item.commit
            verification = git.verification
            commits.append(
                Commit(
                    sha=item.sha,
                    message=git.message or "",
                    author=_git_identity(git.author, item.author),
                    committer=_git_identity(git.committer, item.committer),
                    signature=Signature(
                        status=SIGNATURE_STATUS.get(
                            verification.reason if verification else "", "E"
                        ),
                        verified_by_forge=verification.verified if verification else None,
                    ),
                    parents=tuple(parent.sha for parent in item.parents),
                    authored_at=git.author.date if git.author else None,
                )
            )
        return tuple(commits)

    def _reviews(self, pr: PullRequest) -> tuple[Review, ...]:
        return tuple(
            Review(
                reviewer=_identity(review.user),
                state=REVIEW_STATES.get(review.state, ReviewState.COMMENTED),
                commit_sha=review.commit_id or "",
                submitted_at=review.submitted_at,
                body=review.body or "",
            )
            for review in pr.get_reviews()
            if review.user is not None
        )

    def _file_at(self, repo: Repository, sha: str, path: str) -> str | None:
        """A file at an (immutable) commit, through the shared cache."""
        cached, content = self.store.base_file(FORGE, repo.full_name, sha, path)
        if cached:
            return content
        try:
            found = repo.get_contents(path, ref=sha)
            content = (
                None
                if isinstance(found, list)
                else found.decoded_content.decode("utf-8", "replace")
            )
        except GithubException as exc:
            if exc.status != 404:
                raise
            content = None
        self.store.save_base_file(FORGE, repo.full_name, sha, path, content)
        return content

    def _codeowners(self, repo: Repository, base_sha: str) -> str | None:
        for path in CODEOWNERS_PATHS:  # GitHub's own order; the first one found wins
            text = self._file_at(repo, base_sha, path)
            if text is not None:
                return text
        return None

    def _policy_files(
        self, repo: Repository, base_sha: str, policy_text: str | None
    ) -> dict[str, str]:
        """Files the base policy refers to (the allowed_signers file)."""
        if policy_text is None:
            return {}
        try:
            path = parse_policy(policy_text).signing.allowed_signers_file
        except ConfigInvalid:
            return {}
        text = self._file_at(repo, base_sha, path) if path else None
        return {path: text} if text is not None else {}

    # -- publishing ---------------------------------------------------------------------------

    def publish(self, ref: PullRequestRef, report: Report, details_url: str) -> None:
        gh, repo = self._repo(ref)
        facts = self._facts_for(ref, repo)
        self._upsert_comment(gh, repo, ref, comment_body(report, details_url))
        if self.settings.app_mode:
            self._check_run(repo, report, details_url)
        else:
            self._status(
                repo,
                report.head_sha,
                STATUS_STATES[report.conclusion],
                _status_description(report),
                details_url,
            )
        if report.risk is not None:
            self._risk_label(repo, ref, facts, report.risk.level.value)
        self._request_reviews(repo, ref, facts, report.approval)

    def publish_error(self, ref: PullRequestRef, head_sha: str, message: str) -> None:
        _, repo = self._repo(ref)
        head_sha = head_sha or repo.get_pull(ref.number).head.sha
        text = f"gitops-health could not evaluate this PR: {message}"
        if self.settings.app_mode:
            repo.create_check_run(
                CHECK_NAME,
                head_sha,
                status="completed",
                conclusion="failure",
                output={"title": "Evaluation failed", "summary": text},
            )
        else:
            self._status(repo, head_sha, "error", text, None)

    def _facts_for(self, ref: PullRequestRef, repo: Repository) -> _PullFacts:
        if ref.slug not in self._facts:
            pr = repo.get_pull(ref.number)
            change = Change(
                repository=repo.full_name,
                head_sha=pr.head.sha,
                draft=bool(pr.draft),
                author=_identity(pr.user),
                reviews=self._reviews(pr),
                labels=tuple(label.name for label in pr.labels),
            )
            self._remember_facts(ref, pr, change)
        return self._facts.pop(ref.slug)

    def _upsert_comment(self, gh: Github, repo: Repository, ref: PullRequestRef, body: str) -> None:
        """Edit our sticky comment (stored id, else found by marker + our login) or create it."""
        comment_id, _ = self.store.comment(ref)
        if comment_id and self._edit_comment(gh, ref, comment_id, body):
            return
        found = self._find_comment(gh, repo, ref)
        if found and self._edit_comment(gh, ref, found, body):
            self.store.remember_comment(ref, found)
            return
        created = repo.get_issue(ref.number).create_comment(body)
        self.store.remember_comment(ref, str(created.id))

    def _edit_comment(self, gh: Github, ref: PullRequestRef, comment_id: str, body: str) -> bool:
        url = f"/repos/{ref.owner}/{ref.repo}/issues/comments/{comment_id}"
        try:
            gh.requester.requestJsonAndCheck("PATCH", url, input={"body": body})
        except GithubException as exc:
            if exc.status in (404, 410):
                return False  # deleted by someone: find or create anew
            raise
        return True

    def _find_comment(self, gh: Github, repo: Repository, ref: PullRequestRef) -> str:
        from gitops_health.rules.render import COMMENT_MARKER

        login = self.own_login(gh).lower()
        for comment in repo.get_issue(ref.number).get_comments():
            if COMMENT_MARKER in (comment.body or "") and comment.user.login.lower() == login:
                return str(comment.id)
        return ""

    def _check_run(self, repo: Repository, report: Report, details_url: str) -> None:
        annotations = [_annotation(f) for f in report.findings if f.path][:MAX_ANNOTATIONS]
        title = check_title(report)
        summary = _truncate(comment_body(report, details_url), details_url)
        batches = [
            annotations[i : i + ANNOTATIONS_PER_REQUEST]
            for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
        ] or [[]]
        output: dict[str, Any] = {"title": title, "summary": summary, "annotations": batches[0]}
        run = repo.create_check_run(
            CHECK_NAME,
            report.head_sha,
            details_url=details_url,
            external_id=str(report.number),
            status="completed",
            conclusion=CHECK_CONCLUSIONS[report.conclusion],
            output=output,
        )
        for batch in batches[1:]:  # each edit appends its annotations to the run
            run.edit(output={"title": title, "summary": summary, "annotations": batch})

    def _status(
        self, repo: Repository, sha: str, state: str, description: str, target_url: str | None
    ) -> None:
        extra = {"target_url": target_url} if target_url else {}
        repo.get_commit(sha).create_status(
            state, description=description[:140], context=CHECK_NAME, **extra
        )

    def _risk_label(
        self, repo: Repository, ref: PullRequestRef, facts: _PullFacts, level: str
    ) -> None:
        wanted = f"{RISK_LABEL_PREFIX}{level}"
        issue = repo.get_issue(ref.number)
        for label in facts.labels:
            if label.startswith(RISK_LABEL_PREFIX) and label != wanted:
                issue.remove_from_labels(label)
        if wanted not in facts.labels:
            issue.add_to_labels(wanted)

    def _request_reviews(
        self, repo: Repository, ref: PullRequestRef, facts: _PullFacts, approval: RuleResult | None
    ) -> None:
        if facts.draft or approval is None:
            return
        users, teams = reviewers_to_request(approval, facts)
        if users or teams:
            repo.get_pull(ref.number).create_review_request(reviewers=users, team_reviewers=teams)


# -- pure helpers -------------------------------------------------------------------------------


def _clone_source(ref: PullRequestRef, gh: Github, pr: PullRequest) -> CloneSource | None:
    """The base repository's clone URL (GHES too), fetched with the installation token."""
    url = pr.raw_data.get("base", {}).get("repo", {}).get("clone_url")
    token = getattr(gh.requester.auth, "token", "")
    return clone_source(
        f"{FORGE}/{ref.owner}/{ref.repo}", url, basic_authorization("x-access-token", token)
    )


def _identity(user: Any) -> Identity:
    return Identity(login=user.login or "") if user is not None else Identity()


def _git_identity(person: Any, account: Any) -> Identity:
    """A git author/committer, with the GitHub account GitHub matched to it, if any."""
    return Identity(
        name=getattr(person, "name", "") or "",
        email=getattr(person, "email", "") or "",
        login=account.login if account is not None else "",
    )


def _file_status(status: str) -> FileStatus:
    return {
        "added": FileStatus.ADDED,
        "removed": FileStatus.REMOVED,
        "renamed": FileStatus.RENAMED,
        "copied": FileStatus.COPIED,
    }.get(status, FileStatus.MODIFIED)


def _annotation(finding: Finding) -> dict[str, Any]:
    line = max(finding.line, 1)
    return {
        "path": finding.path,
        "start_line": line,
        "end_line": line,
        "annotation_level": ANNOTATION_LEVELS.get(finding.severity, "warning"),
        "title": finding.rule[:255],
        "message": finding.message[:64_000],
    }


def comment_body(report: Report, details_url: str) -> str:
    from gitops_health.rules.render import COMMENT_MARKER, render_markdown

    body = render_markdown(report, details_url=details_url, max_chars=MAX_OUTPUT_CHARS)
    return body if COMMENT_MARKER in body else f"{COMMENT_MARKER}\n{body}"


def _truncate(text: str, details_url: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    pointer = f"\n\n… truncated; the full explanation is at {details_url}"
    return text[: MAX_OUTPUT_CHARS - len(pointer)] + pointer


def check_title(report: Report) -> str:
    parts = []
    if report.risk is not None:
        parts.append(f"risk {report.risk.level.value} ({report.risk.score}/100)")
    if report.failing_controls:
        parts.append(f"{len(report.failing_controls)} failing control(s)")
    if report.policy_errors:
        parts.append("invalid policy file")
    if report.approval is not None and report.approval.state is RuleState.PENDING:
        parts.append("approvals pending")
    return ", ".join(parts) or "all checks passed"


def _status_description(report: Report) -> str:
    return f"gitops-health: {check_title(report)}"


def _pending_requests(rule: RuleResult) -> list[str]:
    if rule.state is not RuleState.PENDING:
        return []
    found = list(rule.request)
    for child in rule.children:
        found += _pending_requests(child)
    return found


def reviewers_to_request(approval: RuleResult, facts: _PullFacts) -> tuple[list[str], list[str]]:
    """Users and team slugs to ask, never the author, someone who reviewed, or one already asked."""
    users: list[str] = []
    teams: list[str] = []
    for name in _pending_requests(approval):
        name = name.removeprefix(TEAM_PREFIX).lstrip("@")
        if "/" in name:  # org/team, as the approval rules name teams
            slug = name.rpartition("/")[2]
            if slug.lower() not in facts.requested_teams and slug not in teams:
                teams.append(slug)
            continue
        key = name.lower()
        skip = {facts.author.lower()} | facts.reviewed_by | facts.requested
        if key not in skip and name not in users:
            users.append(name)
    return users, teams
