"""Structured JSON logs carrying the delivery id and PR, with secrets scrubbed.

Log records never hold a PHI value (the engine only ever produces types and locations), and
every configured secret is replaced by `***` before a line is written, whatever a library
put into the message.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType

_context: ContextVar[Mapping[str, str]] = ContextVar(
    "gitops_health_log_context", default=MappingProxyType({})
)
_RECORD_FIELDS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
MIN_SECRET_LENGTH = 6


@contextmanager
def log_context(**fields: str | int | None) -> Iterator[None]:
    """Attach fields (delivery, forge, repo, pr) to every log line inside the block."""
    merged = {**_context.get(), **{k: str(v) for k, v in fields.items() if v is not None}}
    token = _context.set(MappingProxyType(merged))
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted(
            {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True
        )

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_context.get(),
        }
        line.update({k: v for k, v in record.__dict__.items() if k not in _RECORD_FIELDS})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return self.scrub(json.dumps(line, default=str, ensure_ascii=False))


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Send every log line to stderr as one JSON object."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
