"""Hypothesis fuzz of the three webhook endpoints and of the worker behind them.

Random bodies (bytes, random JSON, deep nesting, huge numbers, payloads shaped like the real
ones with wrong types in the fields the bot reads), random, missing and duplicated headers,
wrong content types, and valid signatures over all of it. Properties: the answer is always
one of the documented codes with a JSON reason, never a 500 or 503; every delivery that was
queued is processed by the worker without the worker crashing, and ends `done` or `failed`
with the reason on its row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from gitops_health.bot import runtime as runtime_module
from gitops_health.bot.app import create_app
from gitops_health.bot.models import Delivery, DeliveryStatus
from gitops_health.bot.settings import FORGES, Settings
from gitops_health.bot.webhooks import (
    CLOUD_EVENTS,
    DELIVERY_HEADERS,
    EVENT_HEADERS,
    GITHUB_PR_ACTIONS,
    GITHUB_REVIEW_ACTIONS,
    SERVER_EVENTS,
)
from gitops_health.bot.worker import process_delivery

MAX_BODY = 64 * 1024
# the answers README documents, and what each must say
MEANINGS: dict[int, Callable[[dict[str, Any]], bool]] = {
    200: lambda reply: reply == {"status": "ignored", "reason": "pong"},
    202: lambda reply: (
        reply["status"] in {"queued", "duplicate", "ignored"}
        and bool(reply.get("delivery") or reply.get("reason"))
    ),
    400: lambda reply: reply["status"] == "rejected" and bool(reply["error"]),
    401: lambda reply: reply["status"] == "rejected" and "signature" in reply["error"],
    413: lambda reply: reply == {"error": "request body too large"},
}
DOCUMENTED = set(MEANINGS)
SECRETS = {
    "github": "fuzz-github-secret",
    "bitbucket-cloud": "fuzz-cloud-secret",
    "bitbucket-server": "fuzz-server-secret",
}
SIGNATURE_HEADER = {
    "github": "X-Hub-Signature-256",
    "bitbucket-cloud": "X-Hub-Signature",
    "bitbucket-server": "X-Hub-Signature",
}
EVENTS = {
    "github": [
        "pull_request",
        "pull_request_review",
        "check_run",
        "check_suite",
        "installation",
        "installation_repositories",
        "ping",
    ],
    "bitbucket-cloud": sorted(CLOUD_EVENTS),
    "bitbucket-server": [*sorted(SERVER_EVENTS), "diagnostics:ping"],
}
ACTIONS = sorted(
    GITHUB_PR_ACTIONS
    | GITHUB_REVIEW_ACTIONS
    | {"rerequested", "closed", "created", "added", "new_permissions_accepted"}
)

# -- strategies ---------------------------------------------------------------------------------

header_text = st.text(
    st.characters(codec="latin-1", exclude_characters="\r\n"), min_size=0, max_size=200
)
huge_integers = st.one_of(
    st.integers(), st.integers(min_value=2**31, max_value=2**200), st.just(-(2**63))
)
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    huge_integers,
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def mostly(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` eight times in ten, so most examples get past the checks to the routing."""
    return st.integers(0, 9).flatmap(lambda n: other if n >= 8 else usual)


names = mostly(
    st.sampled_from(["acme", "Codertocat", "Hello-World", "PRJ", "e" * 40]),
    st.just("nul\x00") | st.text(),
)
numbers = st.integers(min_value=-3, max_value=2**40) | huge_integers
pull_request_lists = st.lists(st.fixed_dictionaries({"number": numbers}) | json_values, max_size=3)
full_names = mostly(st.just("acme/api"), st.sampled_from(["acme/", "/api", "a/b/c"]) | names)
repository_lists = st.lists(
    st.fixed_dictionaries({"full_name": full_names}) | json_values, max_size=3
)
# every payload field the routing reads, per forge, with values of the right type
READ_PATHS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "github": {
        "action": st.sampled_from(ACTIONS),  # replaced by one that fits the event, mostly
        "repository.owner.login": names,
        "repository.name": names,
        "installation.id": numbers,
        "pull_request.number": numbers,
        "review.user.login": names,
        "sender.login": names,
        "check_run.pull_requests": pull_request_lists,
        "check_run.head_sha": names,
        "check_suite.pull_requests": pull_request_lists,
        "check_suite.head_sha": names,
        "installation.account.login": names,
        "repositories": repository_lists,
        "repositories_added": repository_lists,
    },
    "bitbucket-cloud": {
        "repository.full_name": full_names,
        "pullrequest.id": numbers,
        "actor.nickname": names,
        "actor.display_name": names,
        "pullrequest.source.commit.hash": names,
        "pullrequest.destination.branch.name": names,
    },
    "bitbucket-server": {
        "pullRequest.toRef.repository.project.key": names,
        "pullRequest.toRef.repository.slug": names,
        "pullRequest.id": numbers,
        "actor.name": names,
    },
}


def _set(payload: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = payload
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[leaf] = value


def _drop(payload: dict[str, Any], path: str) -> None:
    *parents, leaf = path.split(".")
    node: Any = payload
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(leaf, None)


def _fitting_action(event: str) -> st.SearchStrategy[str]:
    fitting = {
        "pull_request": sorted(GITHUB_PR_ACTIONS),
        "pull_request_review": sorted(GITHUB_REVIEW_ACTIONS),
        "check_run": ["rerequested"],
        "check_suite": ["rerequested"],
        "installation": ["created", "new_permissions_accepted"],
        "installation_repositories": ["added"],
    }
    return mostly(st.sampled_from(fitting.get(event, ACTIONS)), st.sampled_from(ACTIONS))


@st.composite
def shaped_payloads(draw: st.DrawFn, forge: str, event: str) -> dict[str, Any]:
    """A payload with every field the bot reads, then a few of them removed or given a value
    of any other type."""
    payload: dict[str, Any] = {}
    paths = {
        **READ_PATHS[forge],
        **({"action": _fitting_action(event)} if forge == "github" else {}),
    }
    for path, plausible in paths.items():
        _set(payload, path, draw(plausible))
    for path in draw(st.lists(st.sampled_from(sorted(paths)), max_size=3)):
        if draw(st.booleans()):
            _set(payload, path, draw(json_values))
        else:
            _drop(payload, path)
    return payload


def deep_nesting(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@st.composite
def bodies(draw: st.DrawFn, forge: str, event: str) -> bytes:
    others = ["json", "bytes", "deep", "bignum", "huge"]
    kind = draw(mostly(st.just("shaped"), st.sampled_from(others)))
    if kind == "shaped":
        return json.dumps(draw(shaped_payloads(forge, event))).encode()
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "deep":
        return deep_nesting(draw(st.integers(min_value=10, max_value=MAX_BODY // 2)))
    if kind == "bignum":
        return b'{"action": ' + b"9" * draw(st.integers(min_value=1, max_value=6000)) + b"}"
    return b"{" + b" " * MAX_BODY + b"}"  # over the cap


def fresh_delivery_id() -> str:
    return str(uuid.uuid4())


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Request:
    forge: str
    body: bytes
    headers: list[tuple[str, str]]


@st.composite
def chaotic_headers(draw: st.DrawFn, forge: str, event: str) -> list[tuple[str, str]]:
    """Each header missing, garbage, or sent twice."""
    headers: list[tuple[str, str]] = []
    for name, values in (
        (EVENT_HEADERS[forge], st.just(event) | header_text),
        (DELIVERY_HEADERS[forge], st.builds(fresh_delivery_id) | header_text),
        ("Content-Type", st.sampled_from(["application/json", "text/plain", ""]) | header_text),
    ):
        count = draw(st.sampled_from([1, 0, 2]))
        headers.extend((name, draw(values)) for _ in range(count))
    return headers


def proper_headers(forge: str, event: str) -> st.SearchStrategy[list[tuple[str, str]]]:
    """What a forge sends: the event name, a fresh delivery id, a JSON content type."""
    return st.builds(
        lambda: [
            (EVENT_HEADERS[forge], event),
            (DELIVERY_HEADERS[forge], fresh_delivery_id()),
            ("Content-Type", "application/json"),
        ]
    )


@st.composite
def requests_to(draw: st.DrawFn, forge: str) -> Request:
    event = draw(mostly(st.sampled_from(EVENTS[forge]), header_text))
    body = draw(bodies(forge, event))
    kind = draw(mostly(st.just(proper_headers), st.just(chaotic_headers)))
    headers = draw(kind(forge, event))
    good = sign(SECRETS[forge], body)
    others = ["valid-upper", "missing", "garbage", "other-secret"]
    signature = draw(mostly(st.just("valid"), st.sampled_from(others)))
    signatures = {
        "valid": good,
        "valid-upper": good.upper().replace("SHA256=", "sha256="),
        "garbage": draw(header_text),
        "other-secret": sign("not-the-secret", body),
    }
    if signature in signatures:
        headers.append((SIGNATURE_HEADER[forge], signatures[signature]))
    return Request(forge, body, headers)


# -- the bot under test -------------------------------------------------------------------------


class NotFoundForge(BaseHTTPRequestHandler):
    """Every forge API call is answered 404: the PRs named by garbage payloads do not exist."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b'{"message": "Not Found", "errors": [{"message": "Not Found"}]}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def forge_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFoundForge)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@dataclass
class Bot:
    client: FlaskClient
    runtime: runtime_module.Runtime


@pytest.fixture
def bot(request: pytest.FixtureRequest, tmp_path: Path, forge_api: str) -> Iterator[Bot]:
    """One bot for all the examples of a test, on the embedded database or PostgreSQL."""
    env = {
        **(
            {"GITOPS_HEALTH_DATABASE_URL": request.getfixturevalue("postgres_url")}
            if getattr(request, "param", "sqlite") == "postgresql"
            else {}
        ),
        "GITOPS_HEALTH_DATA_DIR": str(tmp_path),
        "GITOPS_HEALTH_MAX_BODY_BYTES": str(MAX_BODY),
        "GITOPS_HEALTH_GITHUB_WEBHOOK_SECRET": SECRETS["github"],
        "GITOPS_HEALTH_GITHUB_TOKEN": "fuzz-github-token",
        "GITOPS_HEALTH_GITHUB_API_URL": f"{forge_api}/api/v3",
        "GITOPS_HEALTH_GITHUB_SECONDS_BETWEEN_REQUESTS": "0",
        "GITOPS_HEALTH_GITHUB_SECONDS_BETWEEN_WRITES": "0",
        "GITOPS_HEALTH_GITHUB_RETRY_BACKOFF": "0.01",
        "GITOPS_HEALTH_BITBUCKET_CLOUD_WEBHOOK_SECRET": SECRETS["bitbucket-cloud"],
        "GITOPS_HEALTH_BITBUCKET_CLOUD_TOKEN": "fuzz-cloud-token",
        "GITOPS_HEALTH_BITBUCKET_CLOUD_API_URL": forge_api,
        "GITOPS_HEALTH_BITBUCKET_SERVER_WEBHOOK_SECRET": SECRETS["bitbucket-server"],
        "GITOPS_HEALTH_BITBUCKET_SERVER_URL": forge_api,
        "GITOPS_HEALTH_BITBUCKET_SERVER_TOKEN": "fuzz-server-token",
    }
    runtime = runtime_module.start(Settings.from_env(env))
    yield Bot(create_app(runtime=runtime).test_client(), runtime)
    runtime.engine.dispose()


def delivery_row(runtime: runtime_module.Runtime, forge: str, delivery_id: str) -> Delivery:
    with runtime.store.sessions() as session:
        row = session.scalar(
            select(Delivery).where(Delivery.forge == forge, Delivery.delivery_id == delivery_id)
        )
    assert row is not None, f"a queued delivery {delivery_id!r} has no row"
    return row


def check_answer(bot: Bot, request: Request) -> tuple[int, dict[str, Any]]:
    """The answer is documented and says why; a queued delivery goes through the worker."""
    answer = bot.client.post(
        f"/webhooks/{request.forge}", data=request.body, headers=request.headers
    )
    assert answer.status_code in DOCUMENTED, (answer.status_code, answer.get_data()[:300])
    reply = answer.get_json()
    assert isinstance(reply, dict), answer.get_data()[:300]
    assert MEANINGS[answer.status_code](reply), reply
    if reply.get("status") == "queued":
        check_worker(bot, request.forge, reply["delivery"])
    return answer.status_code, reply


def check_worker(bot: Bot, forge: str, delivery_id: str) -> None:
    """The worker survives the delivery and leaves an outcome (and a reason) on its row."""
    row = delivery_row(bot.runtime, forge, delivery_id)
    process_delivery(bot.runtime, row.id, final_attempt=True)
    row = delivery_row(bot.runtime, forge, delivery_id)
    assert row.status in {DeliveryStatus.DONE, DeliveryStatus.FAILED}, row.status
    assert row.status == DeliveryStatus.DONE or row.error


FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # the bot is meant to serve every example
    ],
)


def signed(
    forge: str,
    event: str,
    body: bytes | dict[str, Any],
    delivery: str = "",
    content_type: str = "application/json",
) -> Request:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = [
        (EVENT_HEADERS[forge], event),
        (DELIVERY_HEADERS[forge], delivery or f"regression-{uuid.uuid4()}"),
        (SIGNATURE_HEADER[forge], sign(SECRETS[forge], raw)),
        ("Content-Type", content_type),
    ]
    return Request(forge, raw, headers)


def github_pr(number: Any = 2, sender: Any = "octocat") -> dict[str, Any]:
    repository = {"owner": {"login": "acme"}, "name": "api"}
    return {
        "action": "opened",
        "repository": repository,
        "pull_request": {"number": number},
        "sender": {"login": sender},
    }


CLOUD_PR = {"repository": {"full_name": "acme/api"}, "pullrequest": {"id": 2**63}}
# what the fuzz found once, kept as fixed examples: 503s and a worker crash before the fixes
FOUND = [
    signed("github", "pull_request", deep_nesting(5000)),  # RecursionError in json.loads
    signed(
        "github", "pull_request", github_pr(sender=5)
    ),  # a number where the (optional) login goes
    signed("github", "pull_request", github_pr(number=2**63)),  # overflowed the INTEGER column
    signed("github", "pull_request", github_pr(number=-1)),
    signed("github", "pull_request", github_pr(sender="octo\x00cat")),  # PostgreSQL: no NUL
    signed("github", "pull_request", github_pr(), delivery="nul\x00id"),
    signed("bitbucket-cloud", "pullrequest:created", CLOUD_PR),
    signed("github", "ping", b"payload=%7B%7D", content_type="application/x-www-form-urlencoded"),
]


@pytest.mark.parametrize("bot", ["sqlite", "postgresql"], indirect=True)
@FUZZ
@given(st.sampled_from(FORGES).flatmap(requests_to))
def test_webhook_endpoints_never_fail_and_the_worker_never_crashes(
    bot: Bot, request: Request
) -> None:
    status, reply = check_answer(bot, request)
    why = reply.get("error") or reply.get("reason") or reply.get("status")
    event(f"{status} {why[:40]}")  # what was exercised: --hypothesis-show-statistics


@pytest.mark.parametrize("bot", ["sqlite", "postgresql"], indirect=True)
def test_inputs_that_once_failed_are_refused_with_a_reason(bot: Bot) -> None:
    answers = [check_answer(bot, found) for found in FOUND]
    assert [status for status, _ in answers] == [400, 202, 400, 400, 202, 400, 400, 400]
    reasons = [reply.get("error", "queued without a sender") for _, reply in answers]
    number = "must be a pull request number from 1 to 2147483647"
    assert reasons == [
        "body is not valid JSON: nested too deeply",
        "queued without a sender",
        f"pull_request.number {number}",
        f"pull_request.number {number}",
        "queued without a sender",
        "X-GitHub-Delivery header contains a NUL character",
        f"pullrequest.id {number}",
        "body is form-encoded; set the webhook's content type to application/json",
    ]


def test_unknown_forge_path_is_404(bot: Bot) -> None:
    answer = bot.client.post("/webhooks/gitlab", data=b"{}")
    assert answer.status_code == 404 and "unknown forge" in answer.get_json()["error"]


def test_wrong_method_is_405_with_a_json_reason(bot: Bot) -> None:
    answer = bot.client.get("/webhooks/github")
    assert answer.status_code == 405 and answer.get_json()["error"]
