"""JSON logs carry context and never a secret; /metrics exposition includes scrape-time gauges."""

from __future__ import annotations

import json
import logging

import pytest

from gitops_health.bot.logs import JsonFormatter, log_context
from gitops_health.bot.metrics import DELIVERIES, SCRAPE_TIME, exposition


def format_line(formatter: JsonFormatter, message: str, *args: object, **extra: object) -> dict:
    record = logging.makeLogRecord({"msg": message, "args": args, "levelname": "INFO", **extra})
    return json.loads(formatter.format(record))


def test_log_line_is_json_with_delivery_context() -> None:
    formatter = JsonFormatter()
    with log_context(delivery="d-123", forge="github", pr=7):
        line = format_line(formatter, "evaluated %s", "acme/api", outcome="published")
    assert line["message"] == "evaluated acme/api"
    assert (line["delivery"], line["forge"], line["pr"]) == ("d-123", "github", "7")
    assert line["outcome"] == "published"
    assert "delivery" not in format_line(formatter, "outside")


def test_configured_secrets_never_reach_the_log() -> None:
    formatter = JsonFormatter(secrets=["s3cr3t-webhook-key", "ghs_token_value"])
    line = format_line(formatter, "auth header Bearer ghs_token_value, sig s3cr3t-webhook-key")
    assert "ghs_token_value" not in json.dumps(line)
    assert "s3cr3t-webhook-key" not in json.dumps(line)
    assert line["message"] == "auth header Bearer ***, sig ***"


def test_metrics_exposition_has_counters_and_scrape_time_gauges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    DELIVERIES.labels("github", "pull_request", "queued").inc()
    SCRAPE_TIME.register("gitops_health_test_depth", "test gauge", lambda: 3)
    SCRAPE_TIME.register("gitops_health_test_broken", "source down", lambda: 1 / 0)
    body, content_type = exposition()
    text = body.decode()
    assert content_type.startswith("text/plain")
    labels = 'event="pull_request",forge="github",outcome="queued"'
    assert f"gitops_health_deliveries_total{{{labels}}}" in text
    assert "gitops_health_test_depth 3.0" in text
    assert "gitops_health_test_broken" not in text.replace("# HELP gitops_health_test_broken", "")
