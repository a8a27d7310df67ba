"""Local Bitbucket Cloud 2.0 and Data Center 1.0 REST servers for the adapter tests.

Each fake is a real HTTP server on 127.0.0.1 (threaded) serving the shapes the adapters use,
built from the captured API responses in ../shared/fixtures where there is one. It keeps the
state the bot writes (comments, statuses, reports, annotations), records every request, and
can be told to fail the next matching requests (429 with Retry-After, 5xx, 409).
"""

from __future__ import annotations

import json
import re
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from gitops_health.rules.report import (
    ControlVerdict,
    Finding,
    Level,
    Report,
    RiskFactor,
    RiskResult,
    RuleResult,
    RuleState,
    Verdict,
)

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
CLOUD_PR_FIXTURE = (
    FIXTURES / "bitbucket-cloud/api-responses/get_pullrequest_with_participants.atlantis.json"
)
SERVER_PR_FIXTURE = FIXTURES / "bitbucket-server/api-responses/get_pull_request.atlantis.json"
SERVER_CHANGES_FIXTURE = (
    FIXTURES / "bitbucket-server/api-responses/get_pull_request_changes.atlantis.json"
)

Json = Any
PERMISSION_RANK = {"REPO_READ": 1, "REPO_WRITE": 2, "REPO_ADMIN": 3}  # each implies the lower
Reply = tuple[int, Json, dict[str, str]]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Json
    headers: dict[str, str]


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    headers: dict[str, str]
    times: int


@dataclass
class FakeFile:
    """One file of the fake PR; generates both the unified and the structured diff."""

    path: str
    added: list[str] = field(default_factory=list)
    removed: int = 0
    status: str = "modified"  # added | modified | removed | renamed
    old_path: str | None = None
    binary: bool = False

    @property
    def source(self) -> str | None:
        return None if self.status == "added" else (self.old_path or self.path)

    @property
    def destination(self) -> str | None:
        return None if self.status == "removed" else self.path

    def unified(self) -> str:
        old, new = self.source, self.destination
        header = f"diff --git a/{old or new} b/{new or old}\n"
        if self.binary:
            return header + f"Binary files {_side('a', old)} and {_side('b', new)} differ\n"
        body = [f"--- {_side('a', old)}", f"+++ {_side('b', new)}"]
        body.append(f"@@ -1,{self.removed} +1,{len(self.added)} @@")
        body += [f"-old line {i}" for i in range(self.removed)]
        body += [f"+{line}" for line in self.added]
        return header + "\n".join(body) + "\n"

    def structured(self) -> Json:
        entry: dict[str, Json] = {
            "source": {"toString": self.source} if self.source else None,
            "destination": {"toString": self.destination} if self.destination else None,
        }
        if self.binary:
            entry["binary"] = True
            return entry
        removed = [{"source": i + 1, "destination": 1, "line": "old"} for i in range(self.removed)]
        added = [
            {"source": self.removed + 1, "destination": i + 1, "line": text}
            for i, text in enumerate(self.added)
        ]
        entry["hunks"] = [
            {"segments": [{"type": "REMOVED", "lines": removed}, {"type": "ADDED", "lines": added}]}
        ]
        return entry


def _side(prefix: str, path: str | None) -> str:
    return f"{prefix}/{path}" if path else "/dev/null"


class FakeApi:
    """Routing, request log and fault injection shared by both fakes."""

    def __init__(self, authorization: str) -> None:
        self.authorization = authorization
        self.base_url = ""
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Reply]]] = []
        self.extra_headers: dict[str, str] = {}

    def route(self, method: str, pattern: str, handler: Callable[..., Reply]) -> None:
        self.routes.append((method, re.compile(pattern + r"$"), handler))

    def fail_next(
        self,
        method: str,
        pattern: str,
        status: int,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        self.faults.append(Fault(method, re.compile(pattern), status, headers or {}, times))

    def calls(self, method: str, pattern: str = "") -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    def handle(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            if request.headers.get("Authorization") != self.authorization:
                return 401, self.error("Unauthorized"), {}
            for fault in self.faults:
                if (
                    fault.times
                    and fault.method == request.method
                    and fault.pattern.search(request.path)
                ):
                    fault.times -= 1
                    return fault.status, self.error(f"injected {fault.status}"), fault.headers
            for method, pattern, handler in self.routes:
                if method == request.method and (match := pattern.match(request.path)):
                    return handler(request, *match.groups())
            return 404, self.error(f"no route for {request.method} {request.path}"), {}

    def error(self, message: str) -> Json:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # headers and body leave in one write: no Nagle / delayed-ACK stalls
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode()
        request = Request(
            self.command, parts.path, parse_qs(parts.query), body, dict(self.headers.items())
        )
        status, payload, headers = self.server.api.handle(request)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        content_type = "text/plain" if isinstance(payload, bytes) else "application/json"
        for name, value in {
            "Content-Type": content_type,
            **self.server.api.extra_headers,
            **headers,
        }.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: FakeApi


@contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[str]:
    """Serve `server` (bound on 127.0.0.1) from a thread; yields its base URL, stops on exit."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve(api: FakeApi) -> Iterator[FakeApi]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.api = api
    with serving(server) as url:
        api.base_url = url
        yield api


def query_int(request: Request, name: str, default: int) -> int:
    return int(request.query.get(name, [default])[0])


# --- Bitbucket Cloud -------------------------------------------------------------------------


class FakeBitbucketCloud(FakeApi):
    workspace = "acme"
    slug = "payments"
    number = 7

    def __init__(self, authorization: str = "Bearer cloud-token", page_cap: int = 2) -> None:
        super().__init__(authorization)
        self.page_cap = page_cap
        self.me = {
            "type": "user",
            "uuid": "{bot-uuid}",
            "nickname": "gitops-bot",
            "display_name": "gitops-health bot",
            "account_id": "bot-account",
        }
        self.head = "a1" * 20
        self.base = "b2" * 20
        self.files: list[FakeFile] = []
        self.commits: list[Json] = []
        self.participants: list[Json] = []
        self.activity: list[Json] = []  # newest first
        self.sources: dict[tuple[str, str], str] = {}  # (commit, path) → text
        self.repository = f"{self.workspace}/{self.slug}"
        self.source_repository = self.repository  # another one for a PR from a fork
        self.fork_sources: dict[tuple[str, str], str] = {}
        self.comments: dict[int, Json] = {}
        self.statuses: list[Json] = []
        self.reports: dict[tuple[str, str], Json] = {}
        self.annotations: dict[tuple[str, str], list[Json]] = {}
        self.permissions: list[Json] = []
        self.groups: dict[str, list[Json]] = {}
        self.draft = False
        self.clone_url = ""  # the repository's https clone link (a real git server), if any
        self.open_numbers = [self.number]  # what the repository's open PR list shows
        self._next_comment = 1000
        repo = rf"/2\.0/repositories/{self.workspace}/{self.slug}"
        pr = rf"{repo}/pullrequests/{self.number}"
        self.route("GET", r"/2\.0/user", lambda r: (200, self.me, {}))
        self.route("GET", repo, self._repository)
        self.route("GET", rf"{repo}/pullrequests", self._open_pulls)
        self.route("GET", pr, self._pull_request)
        self.route("GET", rf"{pr}/diff", self._diff_redirect)
        self.route("GET", rf"{repo}/diff/(.+)", self._diff)
        self.route("GET", rf"{pr}/diffstat", lambda r: self.page(r, self._diffstat()))
        self.route("GET", rf"{pr}/commits", lambda r: self.page(r, self.commits))
        self.route("GET", rf"{pr}/activity", lambda r: self.page(r, self.activity))
        self.route("GET", rf"{pr}/comments", lambda r: self.page(r, list(self.comments.values())))
        self.route("POST", rf"{pr}/comments", self._create_comment)
        self.route("GET", rf"{pr}/comments/(\d+)", self._get_comment)
        self.route("PUT", rf"{pr}/comments/(\d+)", self._update_comment)
        self.route("GET", r"/2\.0/repositories/([\w-]+/[\w-]+)/src/([^/]+)/(.+)", self._source)
        self.route("POST", rf"{repo}/commit/(\w+)/statuses/build", self._status)
        self.route("PUT", rf"{repo}/commit/(\w+)/reports/([\w-]+)", self._put_report)
        self.route("DELETE", rf"{repo}/commit/(\w+)/reports/([\w-]+)", self._delete_report)
        self.route("POST", rf"{repo}/commit/(\w+)/reports/([\w-]+)/annotations", self._annotate)
        self.route(
            "GET",
            rf"/2\.0/workspaces/{self.workspace}/permissions/repositories/{self.slug}",
            lambda r: self.page(r, self.permissions),
        )
        self.route("GET", rf"/1\.0/groups/{self.workspace}/([\w-]+)/members", self._group)

    def error(self, message: str) -> Json:
        return {"type": "error", "error": {"message": message}}

    def page(self, request: Request, values: list[Json]) -> Reply:
        number = query_int(request, "page", 1)
        size = min(query_int(request, "pagelen", 10), self.page_cap)
        chunk = values[(number - 1) * size : number * size]
        body: Json = {"page": number, "pagelen": size, "size": len(values), "values": chunk}
        if number * size < len(values):
            kept = {name: values[0] for name, values in request.query.items()}  # as bitbucket.org
            query = urlencode({**kept, "pagelen": size, "page": number + 1})
            body["next"] = f"{self.base_url}{request.path}?{query}"
        return 200, body, {}

    def _open_pulls(self, request: Request) -> Reply:
        if request.query.get("state") != ["OPEN"]:
            return 400, self.error("this fake lists open pull requests only"), {}
        return self.page(request, [{"id": n, "state": "OPEN"} for n in self.open_numbers])

    def _repository(self, request: Request) -> Reply:
        url = f"{self.base_url}/2.0/repositories/{self.workspace}/{self.slug}"
        return (
            200,
            {
                "type": "repository",
                "full_name": f"{self.workspace}/{self.slug}",
                "name": self.slug,
                "links": {
                    "self": {"href": url},
                    "clone": [{"name": "https", "href": self.clone_url}] if self.clone_url else [],
                },
            },
            {},
        )

    def _pull_request(self, request: Request) -> Reply:
        text = CLOUD_PR_FIXTURE.read_text()
        text = text.replace("https://api.bitbucket.org", self.base_url)
        text = text.replace("lkysow/atlantis-example", f"{self.workspace}/{self.slug}")
        text = text.replace("/pullrequests/12", f"/pullrequests/{self.number}")
        pr = json.loads(text)
        pr["id"] = self.number
        pr["source"]["commit"]["hash"] = self.head[:12]
        pr["destination"]["commit"]["hash"] = self.base[:12]
        pr["source"]["repository"]["full_name"] = self.source_repository
        pr["participants"] = self.participants
        pr["draft"] = self.draft
        return 200, pr, {}

    def _diff_redirect(self, request: Request) -> Reply:
        # bitbucket.org answers /diff with a redirect to the repository diff of the two commits
        spec = f"{self.head[:12]}..{self.base[:12]}"
        location = f"{self.base_url}/2.0/repositories/{self.workspace}/{self.slug}/diff/{spec}"
        return 302, b"", {"Location": location}

    def _diff(self, request: Request, spec: str) -> Reply:
        return 200, "".join(f.unified() for f in self.files).encode(), {}

    def _diffstat(self) -> list[Json]:
        return [
            {
                "type": "diffstat",
                "status": f.status,
                "lines_added": len(f.added),
                "lines_removed": f.removed,
                "old": {"path": f.source, "type": "commit_file"} if f.source else None,
                "new": {"path": f.destination, "type": "commit_file"} if f.destination else None,
            }
            for f in self.files
        ]

    def add_comment(self, raw: str, user: Json) -> Json:
        self._next_comment += 1
        comment = {
            "type": "pullrequest_comment",
            "id": self._next_comment,
            "deleted": False,
            "content": {"raw": raw, "markup": "markdown"},
            "user": user,
        }
        self.comments[comment["id"]] = comment
        return comment

    def _create_comment(self, request: Request) -> Reply:
        return 201, self.add_comment(request.body["content"]["raw"], self.me), {}

    def _get_comment(self, request: Request, cid: str) -> Reply:
        comment = self.comments.get(int(cid))
        return (200, comment, {}) if comment else (404, self.error("no comment"), {})

    def _update_comment(self, request: Request, cid: str) -> Reply:
        comment = self.comments.get(int(cid))
        if comment is None:
            return 404, self.error("no comment"), {}
        if comment["user"]["uuid"] != self.me["uuid"]:
            return 403, self.error("not your comment"), {}
        comment["content"]["raw"] = request.body["content"]["raw"]
        return 200, comment, {}

    def _source(self, request: Request, repository: str, commit: str, path: str) -> Reply:
        sources = self.sources if repository == self.repository else self.fork_sources
        for (sha, name), text in sources.items():
            if sha.startswith(commit) and name == path:
                return 200, text.encode(), {}
        return 404, self.error("No such file or directory"), {}

    def _status(self, request: Request, sha: str) -> Reply:
        if not request.body.get("url"):
            return 400, self.error("url is required"), {}
        self.statuses.append({"sha": sha, **request.body})
        return 201, {"type": "build", **request.body}, {}

    def _put_report(self, request: Request, sha: str, key: str) -> Reply:
        self.reports[(sha, key)] = request.body
        self.annotations.setdefault((sha, key), [])
        return 200, {"type": "report", "external_id": key, **request.body}, {}

    def _delete_report(self, request: Request, sha: str, key: str) -> Reply:
        if (sha, key) not in self.reports:
            return 404, self.error("report not found"), {}
        del self.reports[(sha, key)]
        self.annotations.pop((sha, key), None)
        return 204, b"", {}

    def _annotate(self, request: Request, sha: str, key: str) -> Reply:
        batch = request.body
        stored = self.annotations.get((sha, key))
        if stored is None:
            return 404, self.error("report not found"), {}
        if len(batch) > 100 or len(stored) + len(batch) > 1000:
            return 400, self.error("too many annotations"), {}
        if any(len(a["summary"]) > 450 for a in batch):
            return 400, self.error("summary too long"), {}
        stored.extend(batch)
        return 200, {"values": batch}, {}

    def _group(self, request: Request, group: str) -> Reply:
        if group not in self.groups:
            return 404, self.error("no such group"), {}
        return 200, self.groups[group], {}


# --- Bitbucket Data Center -------------------------------------------------------------------


class FakeBitbucketServer(FakeApi):
    project = "AT"
    slug = "atlantis-example"
    number = 3

    def __init__(self, authorization: str = "Bearer server-token", page_cap: int = 1) -> None:
        super().__init__(authorization)
        self.page_cap = page_cap
        self.username = "gitops-bot"
        self.extra_headers = {"X-AUSERNAME": self.username}
        self.pull_request: Json = json.loads(SERVER_PR_FIXTURE.read_text())
        self.head = self.pull_request["fromRef"]["latestCommit"]
        self.base = self.pull_request["toRef"]["latestCommit"]
        self.changes: list[Json] = json.loads(SERVER_CHANGES_FIXTURE.read_text())["values"]
        self.files: list[FakeFile] = []
        self.diff_truncated = False
        self.commits: list[Json] = []
        self.sources: dict[tuple[str, str], str] = {}
        self.fork_sources: dict[tuple[str, str], str] = {}  # of any other repository
        self.comments: dict[int, Json] = {}
        self.statuses: list[Json] = []
        self.reports: dict[tuple[str, str], Json] = {}
        self.annotations: dict[tuple[str, str], list[Json]] = {}
        self.permissions: dict[str, str] = {}  # user → REPO_ADMIN | REPO_WRITE | REPO_READ
        self.groups: dict[str, list[str]] = {}
        self.annotation_limit = 1000
        self._next_comment = 500
        self.open_numbers = [self.number]  # what the repository's open PR list shows
        repo = rf"/rest/api/1\.0/projects/{self.project}/repos/{self.slug}"
        pr = rf"{repo}/pull-requests/{self.number}"
        self.route(
            "GET",
            rf"{repo}/pull-requests",
            lambda r: self.page(r, [{"id": n, "state": "OPEN"} for n in self.open_numbers]),
        )
        insights = rf"/rest/insights/1\.0/projects/{self.project}/repos/{self.slug}"
        report = rf"{insights}/commits/(\w+)/reports/([\w-]+)"
        self.route("GET", r"/rest/api/1\.0/application-properties", self._properties)
        self.route("GET", pr, lambda r: (200, self.pull_request, {}))
        self.route("GET", rf"{pr}/changes", lambda r: self.page(r, self.changes))
        self.route("GET", rf"{pr}/diff", self._diff)
        self.route("GET", rf"{pr}/commits", lambda r: self.page(r, self.commits))
        self.route("GET", rf"{pr}/activities", lambda r: self.page(r, self._activities()))
        self.route("POST", rf"{pr}/comments", self._create_comment)
        self.route("GET", rf"{pr}/comments/(\d+)", self._get_comment)
        self.route("PUT", rf"{pr}/comments/(\d+)", self._update_comment)
        self.route("GET", r"/rest/api/1\.0/projects/([\w~-]+)/repos/([\w-]+)/raw/(.+)", self._raw)
        self.route("POST", r"/rest/build-status/1\.0/commits/(\w+)", self._status)
        self.route("PUT", report, self._put_report)
        self.route("DELETE", report, self._delete_report)
        self.route("POST", rf"{report}/annotations", self._annotate)
        self.route("GET", r"/rest/api/1\.0/users", self._users)
        self.route("GET", r"/rest/api/1\.0/admin/groups/more-members", self._group)

    def error(self, message: str) -> Json:
        return {"errors": [{"context": None, "message": message, "exceptionName": None}]}

    def page(self, request: Request, values: list[Json]) -> Reply:
        start = query_int(request, "start", 0)
        limit = min(query_int(request, "limit", 25), self.page_cap)
        chunk = values[start : start + limit]
        last = start + limit >= len(values)
        return (
            200,
            {
                "size": len(chunk),
                "limit": limit,
                "start": start,
                "values": chunk,
                "isLastPage": last,
                "nextPageStart": None if last else start + limit,
            },
            {},
        )

    def user(self, name: str) -> Json:
        return {
            "name": name,
            "slug": name,
            "displayName": name.title(),
            "emailAddress": f"{name}@example.com",
            "type": "NORMAL",
        }

    def _properties(self, request: Request) -> Reply:
        return 200, {"version": "8.19.0", "displayName": "Bitbucket"}, {}

    def _diff(self, request: Request) -> Reply:
        return (
            200,
            {"diffs": [f.structured() for f in self.files], "truncated": self.diff_truncated},
            {},
        )

    def _activities(self) -> list[Json]:
        newest_first = sorted(self.comments.values(), key=lambda c: -c["id"])
        return [
            {
                "id": c["id"],
                "action": "COMMENTED",
                "commentAction": "ADDED",
                "comment": dict(c),
                "user": c["author"],
            }
            for c in newest_first
        ] + [{"id": 1, "action": "OPENED", "user": self.user("lkysow")}]

    def add_comment(self, text: str, author: str) -> Json:
        self._next_comment += 1
        comment = {
            "id": self._next_comment,
            "version": 0,
            "text": text,
            "author": self.user(author),
        }
        self.comments[comment["id"]] = comment
        return comment

    def _create_comment(self, request: Request) -> Reply:
        return 201, self.add_comment(request.body["text"], self.username), {}

    def _get_comment(self, request: Request, cid: str) -> Reply:
        comment = self.comments.get(int(cid))
        return (200, comment, {}) if comment else (404, self.error("no comment"), {})

    def _update_comment(self, request: Request, cid: str) -> Reply:
        comment = self.comments.get(int(cid))
        if comment is None:
            return 404, self.error("no comment"), {}
        if request.body.get("version") != comment["version"]:
            return (
                409,
                self.error("You are attempting to modify a comment based on a stale version"),
                {},
            )
        comment["text"] = request.body["text"]
        comment["version"] += 1
        return 200, comment, {}

    def _raw(self, request: Request, project: str, slug: str, path: str) -> Reply:
        at = request.query.get("at", [""])[0]
        ours = (project, slug) == (self.project, self.slug)
        text = (self.sources if ours else self.fork_sources).get((at, path))
        return (200, text.encode(), {}) if text is not None else (404, self.error("no file"), {})

    def _status(self, request: Request, sha: str) -> Reply:
        self.statuses.append({"sha": sha, **request.body})
        return 204, b"", {}

    def _put_report(self, request: Request, sha: str, key: str) -> Reply:
        if "link" in request.body and not request.body["link"].startswith("http"):
            return 400, self.error("link must be a valid http(s) URL"), {}
        self.reports[(sha, key)] = request.body
        self.annotations.setdefault((sha, key), [])
        return 200, {"key": key, **request.body}, {}

    def _delete_report(self, request: Request, sha: str, key: str) -> Reply:
        if (sha, key) not in self.reports:
            return 404, self.error("no report"), {}
        del self.reports[(sha, key)]
        self.annotations.pop((sha, key), None)
        return 204, b"", {}

    def _annotate(self, request: Request, sha: str, key: str) -> Reply:
        batch = request.body["annotations"]
        stored = self.annotations.get((sha, key))
        if stored is None:
            return 404, self.error("no report"), {}
        if len(stored) + len(batch) > self.annotation_limit:  # rejected whole, as DC does
            return 422, self.error("annotation limit exceeded"), {}
        stored.extend(batch)
        return 204, b"", {}

    def _users(self, request: Request) -> Reply:
        scope = (
            request.query.get("permission.1.projectKey"),
            request.query.get("permission.1.repositorySlug"),
        )
        if scope != ([self.project], [self.slug]):
            return 400, self.error("permission filter without this repository"), {}
        needed = PERMISSION_RANK[request.query.get("permission.1", [""])[0]]
        wanted = request.query.get("filter", [""])[0].lower()  # Bitbucket ignores case
        names = sorted(
            name
            for name, held in self.permissions.items()
            if PERMISSION_RANK[held] >= needed and wanted in name
        )
        return self.page(request, [self.user(n) for n in names])

    def _group(self, request: Request) -> Reply:
        group = request.query.get("context", [""])[0]
        if group not in self.groups:
            return 404, self.error("no such group"), {}
        return self.page(request, [self.user(n) for n in self.groups[group]])


# --- reports to publish ------------------------------------------------------------------------

SECRET_SSN = "123-45-6789"  # must never reach the forge


def make_report(
    head_sha: str, findings: int = 3, conclusion_failing: bool = True, number: int = 7
) -> Report:
    """A Report with a PHI finding whose message holds a value (it must never be published)."""
    found = [
        Finding(
            kind="phi",
            rule="US_SSN",
            message=f"SSN {SECRET_SSN} in a fixture",
            path="data/patients.csv",
            line=4,
            entity_type="US_SSN",
        )
    ]
    found += [
        Finding(
            kind="commit-message",
            rule="conventional",
            message=f"subject {i} not conventional",
            path=f"src/file_{i % 40}.py",
            line=i + 1,
            severity="warning",
        )
        for i in range(max(findings - 1, 0))
    ]
    verdict = Verdict.FAIL if conclusion_failing else Verdict.PASS
    return Report(
        repository="acme/payments",
        forge="bitbucket",
        head_sha=head_sha,
        number=number,
        title="Add payments export",
        risk=RiskResult(
            score=62,
            level=Level.HIGH,
            probability=0.62,
            factors=(RiskFactor("la", 30, "+420 lines"),),
        ),
        controls=(
            ControlVerdict(
                "hipaa",
                "164.312(c)(1)",
                "Integrity",
                "45 CFR 164.312(c)(1)",
                verdict,
                "PHI found in the change",
            ),
        ),
        approval=RuleResult(
            "two reviewers", RuleState.PENDING, "needs 2 approvals", candidates=("alice", "bob")
        ),
        findings=tuple(found),
    )
