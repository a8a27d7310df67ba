"""A local GitHub REST server for the bot's tests, and a client of the running bot.

`FakeGitHub` serves the shapes PyGithub reads and writes (paging with Link headers, ETag/304,
secondary rate limits with Retry-After, 5xx faults) from in-memory repositories built out of
the captured payloads in ../shared/fixtures/github, and records every request it answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
GITHUB_FIXTURES = FIXTURES / "github"
OWNER, REPO = "Codertocat", "Hello-World"
INSTALLATION_TOKEN = "ghs_installationtoken0123456789"
APP_SLUG = "gitops-health-test"
WEBHOOK_SECRET = "test-webhook-secret"


def fixture_payload(name: str) -> dict[str, Any]:
    data = json.loads((GITHUB_FIXTURES / name).read_text())
    return data["payload"] if "payload" in data and "event" in data else data


def new_app_key() -> str:
    """A GitHub App private key (PEM) for the bot under test."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]
    status: int = 0  # what the fake answered
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class Fault:
    method: str
    pattern: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=lambda: {"message": "fault"})
    times: int = 1


@dataclass
class PullData:
    number: int
    head_sha: str
    base_sha: str
    title: str = "feat: add a greeting"
    body: str = ""
    author: str = "Codertocat"
    draft: bool = False
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    commits: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    requested_reviewers: list[str] = field(default_factory=list)
    changed_files: int | None = None


class FakeGitHub:
    """In-memory GitHub for one repository, served over real HTTP under /api/v3."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.pulls: dict[int, PullData] = {}
        self.contents: dict[tuple[str, str], str] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.hold_pattern = ""  # requests matching it wait for `release`
        self.release = threading.Event()
        self.held = threading.Event()
        self.bot_login = f"{APP_SLUG}[bot]"
        self.clone_url = ""  # the repository's `clone_url` (a real git server), if any
        self._ids = iter(range(1000, 10**9))
        self._lock = threading.Lock()
        self._local = threading.local()  # the route match of the request this thread serves
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.api = f"{self.base}/api/v3"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- test helpers -----------------------------------------------------------------------

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def app_env(self, private_key: str) -> dict[str, str]:
        """The environment of a bot in App mode against this fake, with fast throttling."""
        return {
            "GITOPS_HEALTH_GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "GITOPS_HEALTH_GITHUB_APP_ID": "1",
            "GITOPS_HEALTH_GITHUB_PRIVATE_KEY": private_key,
            "GITOPS_HEALTH_GITHUB_API_URL": self.api,
            "GITOPS_HEALTH_GITHUB_SECONDS_BETWEEN_REQUESTS": "0",
            "GITOPS_HEALTH_GITHUB_SECONDS_BETWEEN_WRITES": "0",
            "GITOPS_HEALTH_GITHUB_SECONDARY_RATE_WAIT": "0.2",
            "GITOPS_HEALTH_GITHUB_RETRY_BACKOFF": "0.05",
            "GITOPS_HEALTH_PUBLIC_URL": "https://bot.example.test",
        }

    def calls(self, method: str, pattern: str = "") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    def add_pull(self, pull: PullData) -> PullData:
        self.pulls[pull.number] = pull
        return pull

    def fail(self, method: str, pattern: str, status: int, times: int = 1, **headers: str) -> None:
        body = {"message": "You have exceeded a secondary rate limit"} if status == 403 else {}
        self.faults.append(Fault(method, pattern, status, headers, body, times))

    # -- serving ----------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                path = unquote(url.path).removeprefix("/api/v3")
                record = Recorded(
                    self.command,
                    path,
                    parse_qs(url.query),
                    body,
                    {k.lower(): v for k, v in self.headers.items()},
                )
                with fake._lock:
                    fake.requests.append(record)
                    fault = fake._take_fault(self.command, path)
                if fake.hold_pattern and re.search(fake.hold_pattern, f"{self.command} {path}"):
                    fake.held.set()
                    fake.release.wait(30)
                if fault is not None:
                    record.status = fault.status
                    return self._send(fault.status, fault.body, fault.headers)
                status, payload, headers = fake.route(self.command, path, record)
                etag = '"' + hashlib.sha1(json.dumps(payload).encode()).hexdigest() + '"'
                if self.command == "GET" and status == 200:
                    headers = {"ETag": etag, **headers}
                    if self.headers.get("If-None-Match") == etag:
                        record.status = 304
                        return self._send(304, None, headers)
                record.status = status
                self._send(status, payload, headers)

            def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
                data = b"" if payload is None or status == 304 else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-RateLimit-Remaining", "4999")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        return Handler

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and re.search(fault.pattern, path) and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _page(
        self, items: list[Any], record: Recorded, path: str
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = int(record.query.get("per_page", ["30"])[0])
        page = int(record.query.get("page", ["1"])[0])
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        if page < last:
            links.append(f'<{self.api}{path}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{self.api}{path}?per_page={per_page}&page={last}>; rel="last"')
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})

    def route(self, method: str, path: str, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        repo = r"/repos/[^/]+/[^/]+"
        routes: list[tuple[str, str, Any]] = [
            ("POST", r"^/app/installations/(\d+)/access_tokens$", self._token),
            ("GET", r"^/app$", lambda r: (200, {"id": 1, "slug": APP_SLUG}, {})),
            ("GET", r"^/user$", lambda r: (200, self._user(self.bot_login), {})),
            ("GET", rf"^{repo}/installation$", lambda r: (200, {"id": 42}, {})),
            ("GET", r"^/installation/repositories$", self._installation_repositories),
            ("GET", rf"^{repo}$", lambda r: (200, self._repo(), {})),
            ("GET", rf"^{repo}/pulls/(\d+)$", self._get_pull),
            ("GET", rf"^{repo}/pulls/(\d+)/files$", self._list("files")),
            ("GET", rf"^{repo}/pulls/(\d+)/commits$", self._list("commits")),
            ("GET", rf"^{repo}/pulls/(\d+)/reviews$", self._list("reviews")),
            ("GET", rf"^{repo}/contents/(.+)$", self._contents),
            ("GET", rf"^{repo}/issues/(\d+)/comments$", self._list_comments),
            ("POST", rf"^{repo}/issues/(\d+)/comments$", self._create_comment),
            ("PATCH", rf"^{repo}/issues/comments/(\d+)$", self._edit_comment),
            ("POST", rf"^{repo}/check-runs$", self._create_check_run),
            ("PATCH", rf"^{repo}/check-runs/(\d+)$", self._edit_check_run),
            ("POST", rf"^{repo}/statuses/(\w+)$", self._status),
            ("POST", rf"^{repo}/issues/(\d+)/labels$", self._add_labels),
            ("DELETE", rf"^{repo}/issues/(\d+)/labels/(.+)$", self._remove_label),
            ("POST", rf"^{repo}/pulls/(\d+)/requested_reviewers$", self._request_reviewers),
            ("GET", rf"^{repo}/commits/(\w+)/pulls$", self._pulls_for_commit),
            ("GET", rf"^{repo}/pulls$", self._open_pulls),
        ]
        for verb, pattern, handler in routes:
            match = re.match(pattern, path)
            if verb == method and match:
                self._local.match = match
                return handler(record)
        return 404, {"message": "Not Found"}, {}

    @property
    def _match(self) -> re.Match[str]:
        return self._local.match

    # -- resources ---------------------------------------------------------------------------

    def _user(self, login: str) -> dict[str, Any]:
        return {
            "login": login,
            "id": abs(hash(login)) % 10**6,
            "type": "User",
            "url": f"{self.api}/users/{login}",
        }

    def _repo(self) -> dict[str, Any]:
        return {
            "id": 1,
            "name": REPO,
            "full_name": f"{OWNER}/{REPO}",
            "owner": self._user(OWNER),
            "url": f"{self.api}/repos/{OWNER}/{REPO}",
            **({"clone_url": self.clone_url} if self.clone_url else {}),
        }

    def _token(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        return 201, {"token": INSTALLATION_TOKEN, "expires_at": "2099-01-01T00:00:00Z"}, {}

    def _pull_json(self, pull: PullData) -> dict[str, Any]:
        url = f"{self.api}/repos/{OWNER}/{REPO}/pulls/{pull.number}"
        return {
            "url": url,
            "number": pull.number,
            "state": pull.state,
            "merged": False,
            "draft": pull.draft,
            "title": pull.title,
            "body": pull.body,
            "user": self._user(pull.author),
            "labels": [{"name": name} for name in pull.labels],
            "requested_reviewers": [self._user(login) for login in pull.requested_reviewers],
            "requested_teams": [],
            "base": {"ref": "main", "sha": pull.base_sha, "repo": self._repo()},
            "head": {"ref": "feature", "sha": pull.head_sha, "repo": self._repo()},
            "changed_files": pull.changed_files or len(pull.files),
            "issue_url": f"{self.api}/repos/{OWNER}/{REPO}/issues/{pull.number}",
        }

    def _get_pull(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        pull = self.pulls.get(int(self._match.group(1)))
        return (200, self._pull_json(pull), {}) if pull else (404, {"message": "Not Found"}, {})

    def _list(self, attribute: str) -> Any:
        def handler(record: Recorded) -> tuple[int, Any, dict[str, str]]:
            pull = self.pulls.get(int(self._match.group(1)))
            if pull is None:
                return 404, {"message": "Not Found"}, {}
            items = getattr(pull, attribute)
            if attribute == "files":
                items = items[:3000]  # GitHub's own cap
            return self._page(items, record, record.path)

        return handler

    def _contents(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        path, ref = self._match.group(1), record.query.get("ref", [""])[0]
        text = self.contents.get((ref, path))
        if text is None:
            return 404, {"message": "Not Found"}, {}
        encoded = base64.b64encode(text.encode()).decode()
        return (
            200,
            {
                "type": "file",
                "encoding": "base64",
                "content": encoded,
                "path": path,
                "name": path.rsplit("/", 1)[-1],
                "sha": "f" * 40,
            },
            {},
        )

    def _comment_json(self, comment_id: int) -> dict[str, Any]:
        comment = self.comments[comment_id]
        return {
            "id": comment_id,
            "body": comment["body"],
            "user": self._user(comment["user"]),
            "url": f"{self.api}/repos/{OWNER}/{REPO}/issues/comments/{comment_id}",
        }

    def _list_comments(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        number = int(self._match.group(1))
        items = [
            self._comment_json(cid)
            for cid, c in sorted(self.comments.items())
            if c["issue"] == number
        ]
        return self._page(items, record, record.path)

    def _create_comment(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        comment_id = next(self._ids)
        self.comments[comment_id] = {
            "issue": int(self._match.group(1)),
            "body": record.body["body"],
            "user": self.bot_login,
        }
        return 201, self._comment_json(comment_id), {}

    def _edit_comment(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        comment_id = int(self._match.group(1))
        if comment_id not in self.comments:
            return 404, {"message": "Not Found"}, {}
        self.comments[comment_id]["body"] = record.body["body"]
        return 200, self._comment_json(comment_id), {}

    def _check_run_json(self, run_id: int) -> dict[str, Any]:
        return {
            "id": run_id,
            **self.check_runs[run_id],
            "url": f"{self.api}/repos/{OWNER}/{REPO}/check-runs/{run_id}",
        }

    def _create_check_run(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        run_id = next(self._ids)
        self.check_runs[run_id] = dict(record.body)
        return 201, self._check_run_json(run_id), {}

    def _edit_check_run(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        run_id = int(self._match.group(1))
        self.check_runs[run_id].update(record.body)
        return 200, self._check_run_json(run_id), {}

    def _status(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        self.statuses.append({"sha": self._match.group(1), **record.body})
        return 201, {"id": next(self._ids), **record.body}, {}

    def _add_labels(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        pull = self.pulls[int(self._match.group(1))]
        names = record.body["labels"] if isinstance(record.body, dict) else record.body
        pull.labels += [name for name in names if name not in pull.labels]
        return 200, [{"name": name} for name in pull.labels], {}

    def _remove_label(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        pull = self.pulls[int(self._match.group(1))]
        pull.labels = [name for name in pull.labels if name != self._match.group(2)]
        return 200, [{"name": name} for name in pull.labels], {}

    def _request_reviewers(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        pull = self.pulls[int(self._match.group(1))]
        pull.requested_reviewers += record.body.get("reviewers", [])
        return 201, self._pull_json(pull), {}

    def _pulls_for_commit(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        sha = self._match.group(1)
        found = [self._pull_json(p) for p in self.pulls.values() if p.head_sha == sha]
        return self._page(found, record, record.path)

    def _installation_repositories(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        return 200, {"total_count": 1, "repositories": [self._repo()]}, {}

    def _open_pulls(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        found = [self._pull_json(p) for p in self.pulls.values() if p.state == "open"]
        return self._page(found, record, record.path)


def file_entry(path: str, added: list[str], status: str = "added") -> dict[str, Any]:
    patch = f"@@ -0,0 +1,{len(added)} @@\n" + "\n".join("+" + line for line in added)
    return {
        "filename": path,
        "status": status,
        "additions": len(added),
        "deletions": 0,
        "changes": len(added),
        "patch": patch,
        "sha": "a" * 40,
    }


def commit_entry(sha: str, message: str, verified: bool = True) -> dict[str, Any]:
    person = {"name": "Codertocat", "email": "octo@example.com", "date": "2026-01-01T00:00:00Z"}
    return {
        "sha": sha,
        "url": f"https://example.invalid/commits/{sha}",
        "commit": {
            "message": message,
            "author": person,
            "committer": person,
            "verification": {
                "verified": verified,
                "reason": "valid" if verified else "unsigned",
                "signature": None,
                "payload": None,
            },
        },
        "author": {"login": "Codertocat", "id": 1},
        "committer": {"login": "web-flow", "id": 2},
        "parents": [{"sha": "0" * 40}],
    }


@dataclass
class RunningBot:
    url: str
    runtime: Any
    fake: FakeGitHub
    server: Any = None

    @classmethod
    def start(cls, env: dict[str, str], fake: FakeGitHub) -> RunningBot:
        """The bot's app serving in this process on a free port, its runtime built from env."""
        from werkzeug.serving import make_server

        from gitops_health.bot import runtime as runtime_module
        from gitops_health.bot.app import create_app
        from gitops_health.bot.settings import Settings

        runtime = runtime_module.start(Settings.from_env(env))
        server = make_server("127.0.0.1", 0, create_app(runtime=runtime), threaded=True)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        return cls(f"http://127.0.0.1:{server.port}", runtime, fake, server)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.runtime.engine.dispose()

    def post(
        self,
        forge: str,
        event: str,
        payload: Any,
        delivery: str = "",
        secret: str = WEBHOOK_SECRET,
        **headers: str,
    ) -> requests.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        names = {
            "github": ("X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256"),
            "bitbucket-cloud": ("X-Event-Key", "X-Request-UUID", "X-Hub-Signature"),
            "bitbucket-server": ("X-Event-Key", "X-Request-Id", "X-Hub-Signature"),
        }[forge]
        sent = {
            names[0]: event,
            names[1]: delivery or f"d-{time.monotonic_ns()}",
            names[2]: sign(secret, body),
            "Content-Type": "application/json",
            **headers,
        }
        return requests.post(
            f"{self.url}/webhooks/{forge}",
            data=body,
            headers={k: v for k, v in sent.items() if v},
            timeout=10,
        )

    def drain(self) -> int:
        """Run every queued job in this thread, as a worker would; returns how many ran."""
        huey = self.runtime.huey
        ran = 0
        while (task := huey.dequeue()) is not None:
            huey.execute(task)  # failures are scheduled for retry, as in a worker
            ran += 1
        return ran
