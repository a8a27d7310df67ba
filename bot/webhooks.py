"""The webhook protocol, free of I/O: verify a delivery, then turn it into work or a no-op.

`receive()` takes the raw body and headers of one request and returns an `Accepted` (PRs to
evaluate), an `Ignored` (valid but nothing to do) or raises `Rejected` with the HTTP status
and a reason. The Flask view only adds the database and the queue around it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gitops_health.bot.store import Target

GITHUB_PR_ACTIONS = frozenset({"opened", "reopened", "synchronize", "edited", "ready_for_review"})
GITHUB_REVIEW_ACTIONS = frozenset({"submitted", "dismissed", "edited"})
# App installed, given more permissions, or given more repositories: their open PRs are due
GITHUB_INSTALLATION_ACTIONS = {
    "installation": frozenset({"created", "new_permissions_accepted"}),
    "installation_repositories": frozenset({"added"}),
}
CLOUD_EVENTS = frozenset(
    {
        "pullrequest:created",
        "pullrequest:updated",
        "pullrequest:approved",
        "pullrequest:unapproved",
        "pullrequest:changes_request_created",
        "pullrequest:changes_request_removed",
    }
)
SERVER_EVENTS = frozenset(
    {
        "pr:opened",
        "pr:from_ref_updated",
        "pr:modified",
        "pr:reviewer:updated",
        "pr:reviewer:approved",
        "pr:reviewer:unapproved",
        "pr:reviewer:needs_work",
        "pr:reviewer:changes_requested",
    }
)
MAX_PR_NUMBER = 2**31 - 1  # the database's INTEGER; no forge numbers PRs beyond it
EVENT_HEADERS = {
    "github": "X-GitHub-Event",
    "bitbucket-cloud": "X-Event-Key",
    "bitbucket-server": "X-Event-Key",
}
DELIVERY_HEADERS = {
    "github": "X-GitHub-Delivery",
    "bitbucket-cloud": "X-Request-UUID",
    "bitbucket-server": "X-Request-Id",
}


class Rejected(Exception):
    """The request is refused; `status` is the HTTP answer and `reason` says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Accepted:
    forge: str
    event: str
    action: str
    delivery_id: str
    sender: str
    targets: tuple[Target, ...]
    source_hash: str = ""  # Bitbucket Cloud `updated`: re-analyse only if these two changed
    destination: str = ""

    @property
    def needs_change_check(self) -> bool:
        return self.forge == "bitbucket-cloud" and self.event in {
            "pullrequest:created",
            "pullrequest:updated",
        }


@dataclass(frozen=True)
class Ignored:
    reason: str
    status: int = 202


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of `sha256=<hex HMAC-SHA256(secret, body)>`."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def receive(
    forge: str,
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    own_login: str = "",
) -> Accepted | Ignored:
    """Verify and classify one delivery for `forge` (see module docstring)."""
    event = _header(headers, EVENT_HEADERS[forge])
    if forge == "bitbucket-server" and event == "diagnostics:ping":
        return Ignored("pong", status=200)  # Data Center sends its test delivery unsigned
    header = "X-Hub-Signature-256" if forge == "github" else "X-Hub-Signature"
    if not signature_valid(secret, body, headers.get(header)):
        reason = "missing" if not headers.get(header) else "invalid"
        raise Rejected(401, f"{header} signature {reason}")
    delivery_id = _header(headers, DELIVERY_HEADERS[forge])
    for name, value in ((EVENT_HEADERS[forge], event), (DELIVERY_HEADERS[forge], delivery_id)):
        if not value:
            raise Rejected(400, f"{name} header missing")
        if "\x00" in value:
            raise Rejected(400, f"{name} header contains a NUL character")
    payload = _json_object(body, _header(headers, "Content-Type"))
    route = _ROUTES[forge]
    return route(event, delivery_id, payload, own_login)


def _header(headers: Mapping[str, str], name: str) -> str:
    return (headers.get(name) or "").strip()


def _json_object(body: bytes, content_type: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        if content_type.startswith("application/x-www-form-urlencoded"):
            reason = "form-encoded; set the webhook's content type to application/json"
            raise Rejected(400, f"body is {reason}") from None
        raise Rejected(400, f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise Rejected(400, "body is not valid JSON: nested too deeply") from None
    if not isinstance(payload, dict):
        raise Rejected(400, "body must be a JSON object")
    return payload


def _get(payload: Any, path: str, kind: type | tuple[type, ...] = str) -> Any:
    """payload[a][b]... by dotted path, checked against `kind`; 400 naming the path if not."""
    value = payload
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise Rejected(400, f"{path} missing from the payload")
        value = value[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Rejected(400, f"{path} has the wrong type")
    if isinstance(value, str) and "\x00" in value:
        raise Rejected(400, f"{path} contains a NUL character")  # no database stores one
    return value


def _optional(payload: Any, path: str, default: Any = "", kind: type = str) -> Any:
    try:
        return _get(payload, path, kind)
    except Rejected:
        return default


def _pr_number(payload: Any, path: str) -> int:
    number = _get(payload, path, int)
    if not _valid_pr_number(number):
        raise Rejected(400, f"{path} must be a pull request number from 1 to {MAX_PR_NUMBER}")
    return number


def _valid_pr_number(value: Any) -> bool:
    return type(value) is int and 0 < value <= MAX_PR_NUMBER


# -- GitHub ---------------------------------------------------------------------------------


def _github(
    event: str, delivery_id: str, payload: dict[str, Any], own_login: str
) -> Accepted | Ignored:
    action = payload.get("action") if isinstance(payload.get("action"), str) else ""
    if event == "ping":
        return Ignored("pong", status=200)
    if action in GITHUB_INSTALLATION_ACTIONS.get(event, ()):
        return _github_installation(event, action, delivery_id, payload)
    if event.startswith("installation"):
        return Ignored(f"{event}.{action} noted")
    if event == "pull_request" and action in GITHUB_PR_ACTIONS:
        return _github_pr(event, action, delivery_id, payload)
    if event == "pull_request_review" and action in GITHUB_REVIEW_ACTIONS:
        reviewer = _optional(payload, "review.user.login")
        if own_login and reviewer.lower() == own_login.lower():
            return Ignored("our own review")
        return _github_pr(event, action, delivery_id, payload)
    if event in {"check_run", "check_suite"} and action == "rerequested":
        return _github_rerun(event, action, delivery_id, payload)
    return Ignored(f"{event}.{action or '-'} is not handled")


def _github_repo(payload: dict[str, Any]) -> tuple[str, str, int | None]:
    owner = _get(payload, "repository.owner.login")
    name = _get(payload, "repository.name")
    installation = _optional(payload, "installation.id", None, int)
    return owner, name, installation if installation and installation > 0 else None


def _github_pr(event: str, action: str, delivery_id: str, payload: dict[str, Any]) -> Accepted:
    owner, name, installation = _github_repo(payload)
    number = _pr_number(payload, "pull_request.number")
    target = Target("github", owner, name, number, installation)
    return Accepted(
        "github", event, action, delivery_id, _optional(payload, "sender.login"), (target,)
    )


def _github_rerun(event: str, action: str, delivery_id: str, payload: dict[str, Any]) -> Accepted:
    """Re-run for the PRs the check names; fork PRs are not listed, so go by head SHA."""
    owner, name, installation = _github_repo(payload)
    pulls = _get(payload, f"{event}.pull_requests", list)
    numbers = sorted(
        {p["number"] for p in pulls if isinstance(p, dict) and _valid_pr_number(p.get("number"))}
    )
    if numbers:
        targets = tuple(Target("github", owner, name, n, installation) for n in numbers)
    else:
        head_sha = _get(payload, f"{event}.head_sha")
        targets = (Target("github", owner, name, 0, installation, head_sha=head_sha),)
    return Accepted(
        "github", event, action, delivery_id, _optional(payload, "sender.login"), targets
    )


def _github_installation(
    event: str, action: str, delivery_id: str, payload: dict[str, Any]
) -> Accepted | Ignored:
    """Every open PR of the repositories the payload names (`repositories`, or
    `repositories_added`); without a list, of every repository of the installation (an empty
    repository name, expanded by the worker through `GET /installation/repositories`)."""
    installation = _get(payload, "installation.id", int)
    key = "repositories_added" if event == "installation_repositories" else "repositories"
    listed = payload.get(key)
    if isinstance(listed, list):
        names = sorted(
            {
                item["full_name"]
                for item in listed
                if isinstance(item, dict) and isinstance(item.get("full_name"), str)
            }
        )
        targets = tuple(_repository_target(name, installation) for name in names)
    else:
        account = _get(payload, "installation.account.login")
        targets = (Target("github", account, "", 0, installation),)
    if not targets:
        return Ignored(f"{event}.{action} names no repository")
    sender = _optional(payload, "sender.login")
    return Accepted("github", event, action, delivery_id, sender, targets)


def _repository_target(full_name: str, installation: int) -> Target:
    owner, _, repo = full_name.partition("/")
    if not owner or not repo or "/" in repo:
        raise Rejected(400, f"repository full_name {full_name[:100]!r} is not owner/name")
    return Target("github", owner, repo, 0, installation)


# -- Bitbucket Cloud ------------------------------------------------------------------------


def _bitbucket_cloud(
    event: str, delivery_id: str, payload: dict[str, Any], _own: str
) -> Accepted | Ignored:
    if event not in CLOUD_EVENTS:
        return Ignored(f"{event} is not handled")
    full_name = _get(payload, "repository.full_name")
    workspace, _, slug = full_name.partition("/")
    if not workspace or not slug:
        raise Rejected(400, "repository.full_name must be workspace/slug")
    number = _pr_number(payload, "pullrequest.id")
    return Accepted(
        "bitbucket-cloud",
        event,
        "",
        delivery_id,
        _optional(payload, "actor.nickname") or _optional(payload, "actor.display_name"),
        (Target("bitbucket-cloud", workspace, slug, number),),
        source_hash=_optional(payload, "pullrequest.source.commit.hash"),
        destination=_optional(payload, "pullrequest.destination.branch.name"),
    )


# -- Bitbucket Data Center ------------------------------------------------------------------


def _bitbucket_server(
    event: str, delivery_id: str, payload: dict[str, Any], _own: str
) -> Accepted | Ignored:
    if event not in SERVER_EVENTS:
        return Ignored(f"{event} is not handled")
    project = _get(payload, "pullRequest.toRef.repository.project.key")
    slug = _get(payload, "pullRequest.toRef.repository.slug")
    number = _pr_number(payload, "pullRequest.id")
    return Accepted(
        "bitbucket-server",
        event,
        "",
        delivery_id,
        _optional(payload, "actor.name"),
        (Target("bitbucket-server", project, slug, number),),
    )


_ROUTES: dict[str, Callable[[str, str, dict[str, Any], str], Accepted | Ignored]] = {
    "github": _github,
    "bitbucket-cloud": _bitbucket_cloud,
    "bitbucket-server": _bitbucket_server,
}
