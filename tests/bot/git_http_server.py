"""A real smart-HTTP git server on 127.0.0.1 for the clone tests: `git http-backend` as CGI.

It serves every repository under `root` (`http://127.0.0.1:PORT/<name>.git`), answers 401
to a request without the expected `Authorization` header, and records each request (method,
path, Authorization header) so tests can see what the bot sent and when it fetched.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bitbucket_fakes import serving

HTTP_BACKEND = ["git", "http-backend"]


@dataclass(frozen=True)
class GitRequest:
    method: str
    path: str
    query: str
    authorization: str


@dataclass
class GitHttpServer:
    root: Path
    authorization: str = ""  # required value of the Authorization header; "" = open
    requests: list[GitRequest] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def repo_url(self, name: str) -> str:
        return f"{self.url}/{name}.git"

    def fetches(self) -> list[GitRequest]:
        """Pack negotiations (the POSTs to git-upload-pack) answered so far."""
        with self.lock:
            return [r for r in self.requests if r.path.endswith("/git-upload-pack")]

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        authorization = handler.headers.get("Authorization", "")
        with self.lock:
            self.requests.append(
                GitRequest(handler.command, parts.path, parts.query, authorization)
            )
        if self.authorization and authorization != self.authorization:
            return _reply(handler, 401, {"WWW-Authenticate": 'Basic realm="git"'}, b"")
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        env = {
            "PATH": "/usr/bin:/bin",
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": handler.command,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": handler.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": handler.headers.get("Git-Protocol", ""),
            "REMOTE_ADDR": "127.0.0.1",
        }
        result = subprocess.run(HTTP_BACKEND, input=body, env=env, capture_output=True, check=False)
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        headers = dict(
            line.split(": ", 1) for line in head.decode("latin-1").split("\r\n") if ": " in line
        )
        status = int(headers.pop("Status", "200").split()[0])
        _reply(handler, status, headers, payload)


def _reply(
    handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes
) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def git_http_server(root: Path, authorization: str = "") -> Iterator[GitHttpServer]:
    git_server = GitHttpServer(root, authorization)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            git_server.serve(self)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with serving(server) as url:
        git_server.url = url
        yield git_server
