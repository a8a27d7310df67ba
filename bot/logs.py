"""Structured JSON logs carrying the delivery id and PR, with secrets scrubbed.

Log records never hold a PHI value (the engine only ever produces types and locations), and
every configured secret (plus forge tokens minted at run time and details-page link tokens) is
replaced by `***` before a line is written, whatever a library put into the message.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, TextIO
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from gitops_health.bot.settings import Settings

_context: ContextVar[Mapping[str, str]] = ContextVar(
    "gitops_health_log_context", default=MappingProxyType({})
)
_RECORD_FIELDS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
MIN_SECRET_LENGTH = 6
MINTED_TOKENS = re.compile(
    r"\bgh[pousr]_[A-Za-z0-9]{20,}"  # GitHub installation, OAuth and personal tokens
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
    r"|\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}"  # JWTs (the App's, Bitbucket's)
    r"|(?<=[?&]t=)[0-9a-f]{32}\b"  # the details-page token in a URL
    r"|(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"  # user:password@ in a URL (clone URLs, DB URLs)
)
TERMINAL_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
# these libraries log whole requests and responses (diffs, so PHI) at DEBUG
CHATTY_LIBRARIES = ("github", "urllib3", "requests", "atlassian", "git")
QUIET_LIBRARIES = ("alembic",)
GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")


@contextmanager
def log_context(**fields: str | int | None) -> Iterator[None]:
    """Attach fields (delivery, forge, event, repo, pr) to every log line inside the block."""
    token = _context.set(_merged(fields))
    try:
        yield
    finally:
        _context.reset(token)


def add_log_fields(**fields: str | int | None) -> None:
    """Add fields to the enclosing `log_context` block, once they are known; its end drops them."""
    _context.set(_merged(fields))


def _merged(fields: Mapping[str, str | int | None]) -> Mapping[str, str]:
    current = _context.get()
    return MappingProxyType({**current, **{k: str(v) for k, v in fields.items() if v is not None}})


class _PullRequest(Protocol):
    owner: str
    repo: str
    number: int


class _Delivery(Protocol):
    forge: str
    delivery_id: str
    event: str
    action: str

    @property
    def targets(self) -> tuple[Any, ...]: ...


def pr_fields(pull: _PullRequest) -> dict[str, str | int | None]:
    """`repo` and `pr` of a PR (or of a whole repository, when its number is 0)."""
    return {
        "repo": f"{pull.owner}/{pull.repo}" if pull.repo else pull.owner,
        "pr": pull.number or None,
    }


def event_name(event: str, action: str) -> str:
    """`pull_request.opened`, or the event alone when it has no action (Bitbucket)."""
    return f"{event}.{action}" if action else event


def delivery_fields(delivery: _Delivery) -> dict[str, str | int | None]:
    """`forge`, `delivery`, `event` and, for a single-PR delivery, `repo` and `pr`."""
    fields: dict[str, str | int | None] = {
        "forge": delivery.forge,
        "delivery": delivery.delivery_id,
        "event": event_name(delivery.event, delivery.action),
    }
    if len(delivery.targets) == 1:
        fields.update(pr_fields(delivery.targets[0]))
    return fields


class Scrubber:
    """Replaces each secret, as written and as escaped inside a JSON string, by `***`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = set()
        for secret in secrets:
            for part in _secret_parts(secret):
                forms |= {part, json.dumps(part, ensure_ascii=False)[1:-1]}
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, "***")
        return MINTED_TOKENS.sub("***", text)


def _secret_parts(secret: str) -> list[str]:
    """The secret and, for a multi-line one (a PEM key), each line of its body."""
    lines = [line.strip() for line in secret.splitlines()]
    parts = [secret, secret.strip(), *(line for line in lines if not line.startswith("-----"))]
    return [part for part in parts if len(part) >= MIN_SECRET_LENGTH]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context fields, extras."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.scrub = Scrubber(secrets)

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": TERMINAL_COLOURS.sub("", record.getMessage()),  # werkzeug's access lines
            **_context.get(),
        }
        line.update({k: v for k, v in record.__dict__.items() if k not in _RECORD_FIELDS})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return self.scrub(json.dumps(line, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """`time level logger message key=value…`, for a terminal; scrubbed like the JSON lines."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self.scrub = Scrubber(secrets)

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in _context.get().items())
        return self.scrub(f"{super().format(record)} {fields}".rstrip())


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret value the settings hold: webhook secrets, tokens, keys, URL passwords."""
    from gitops_health.bot.audit import configured_signing_key

    github, cloud, server = settings.github, settings.bitbucket_cloud, settings.bitbucket_server
    return [
        secret
        for secret in (
            github.webhook_secret,
            github.private_key,
            github.token,
            cloud.webhook_secret,
            cloud.token,
            cloud.app_password,
            server.webhook_secret,
            server.token,
            _url_password(settings.database_url),
            _url_password(settings.queue_url),
            configured_signing_key() or "",
        )
        if secret
    ]


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Send every log line to stderr (or `stream`), as JSON unless the settings ask for text."""
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(configured_secrets(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = logging.getLevelName(settings.log_level)
    root.setLevel(level)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.INFO))
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    for name in GUNICORN_LOGGERS:  # in a gunicorn worker: its error and access lines as JSON too
        server_log = logging.getLogger(name)
        server_log.handlers.clear()
        server_log.propagate = True
