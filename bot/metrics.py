"""Prometheus metrics for `GET /metrics`.

Counters and histograms are updated where things happen; values that live elsewhere (queue
depth and age, audit chain length) are read at scrape time through registered callbacks, so
every web process reports the shared truth. Under gunicorn with several workers set
`PROMETHEUS_MULTIPROC_DIR` and the multiprocess collector aggregates them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

DELIVERIES = Counter(
    "gitops_health_deliveries_total",
    "Webhook deliveries received, by forge, event and outcome",
    ["forge", "event", "outcome"],
)
ACK_SECONDS = Histogram(
    "gitops_health_ack_seconds",
    "Time from receiving a webhook to answering it",
    ["forge"],
    buckets=LATENCY_BUCKETS,
)
PROCESSING_SECONDS = Histogram(
    "gitops_health_processing_seconds",
    "Time a worker spent evaluating and publishing one delivery",
    ["forge", "outcome"],
    buckets=LATENCY_BUCKETS,
)
FORGE_API_CALLS = Counter(
    "gitops_health_forge_api_calls_total",
    "Requests made to forge APIs, by forge, method and HTTP status",
    ["forge", "method", "status"],
)
FORGE_RATE_LIMIT_REMAINING = Gauge(
    "gitops_health_forge_rate_limit_remaining",
    "Requests left in the forge's current rate-limit window, as last reported",
    ["forge"],
    multiprocess_mode="min",
)


def count_forge_call(forge: str, method: str, status: int, headers: Mapping[str, str]) -> None:
    """One HTTP request an adapter made, and the rate-limit budget its answer reports.

    GitHub and Bitbucket Data Center (when its rate limiting is on) both send
    `X-RateLimit-Remaining`; Bitbucket Cloud does not document one, so its gauge stays absent.
    """
    FORGE_API_CALLS.labels(forge=forge, method=method.upper(), status=str(status)).inc()
    remaining = headers.get("X-RateLimit-Remaining")
    with suppress(TypeError, ValueError):
        FORGE_RATE_LIMIT_REMAINING.labels(forge=forge).set(float(remaining))  # type: ignore[arg-type]


ScrapeValue = Callable[[], float | None]


class ScrapeTimeGauges(Collector):
    """Gauges whose value is computed when Prometheus scrapes (queue depth, chain length)."""

    def __init__(self) -> None:
        self._gauges: dict[str, tuple[str, ScrapeValue]] = {}

    def register(self, name: str, documentation: str, value: ScrapeValue) -> None:
        self._gauges[name] = (documentation, value)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, (documentation, value) in self._gauges.items():
            try:
                current = value()
            except Exception:  # a scrape must never fail because one source is down
                current = None
            if current is not None:
                yield GaugeMetricFamily(name, documentation, value=current)


SCRAPE_TIME = ScrapeTimeGauges()


def registry() -> CollectorRegistry:
    """The registry to expose: multiprocess-aggregated under gunicorn, else the default."""
    from prometheus_client import REGISTRY

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    aggregated = CollectorRegistry()
    multiprocess.MultiProcessCollector(aggregated)
    return aggregated


def exposition() -> tuple[bytes, str]:
    """The body and content type of a `/metrics` answer."""
    target = registry()
    body = generate_latest(target)
    scrape_registry = CollectorRegistry()
    scrape_registry.register(SCRAPE_TIME)
    return body + generate_latest(scrape_registry), CONTENT_TYPE_LATEST
