"""The process-wide objects (settings, store, queue, forge adapters) and the huey queue.

The queue is huey: `SqliteHuey` in a file under the data directory by default (durable, no
service to run), `RedisHuey` when `GITOPS_HEALTH_QUEUE_URL=redis://…`. A queue message only
carries a delivery's row id; the delivery table is the record of truth, so a message lost in
a crash is re-enqueued by the recovery sweep and a duplicate message is a no-op claim.
"""

from __future__ import annotations

import logging
import threading

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from gitops_health.bot import db
from gitops_health.bot.audit import AuditLog, audit_signer
from gitops_health.bot.forges.base import Forge
from gitops_health.bot.metrics import SCRAPE_TIME
from gitops_health.bot.settings import Settings
from gitops_health.bot.store import Store

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5  # counted in the delivery row, however many queue messages there were
RETRY_DELAY_SECONDS = 30  # doubled per attempt; huey keeps scheduled messages durably too
RECOVERY_AGE_SECONDS = 600.0  # longer than the longest retry delay (30 × 2³ = 240 s)

_current: Runtime | None = None
_forge_lock = threading.Lock()


def make_huey(settings: Settings) -> Huey:
    url = settings.queue_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(settings.queue_name, url=url, results=False)
    path = url.removeprefix("sqlite:///") if url else str(settings.queue_path)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(settings.queue_name, filename=path, timeout=30, results=False)


class Runtime:
    """Everything a web process or worker shares; build one per process with `start()`."""

    def __init__(self, settings: Settings, huey: Huey | None = None) -> None:
        self.settings = settings
        self.engine = db.make_engine(settings.database_url)
        self.store = Store(self.engine)
        self.audit = AuditLog(self.engine, audit_signer())
        SCRAPE_TIME.register(
            "gitops_health_queue_depth", "Tasks waiting in the queue", self._queue_depth
        )
        SCRAPE_TIME.register(
            "gitops_health_queue_oldest_age_seconds",
            "Age of the oldest accepted delivery not yet processed (0 when none waits)",
            self.store.oldest_unfinished_age,
        )
        SCRAPE_TIME.register(
            "gitops_health_audit_chain_length", "Entries in the audit trail", self.audit.length
        )
        self.huey = huey or make_huey(settings)
        self._forges: dict[str, Forge] = {}
        self.process_task = self.huey.task(name="process_delivery")(_process)
        self.huey.periodic_task(crontab(minute="*"), name="recover_deliveries")(_recover)

    def _queue_depth(self) -> float:
        return float(self.huey.pending_count() + self.huey.scheduled_count())

    def migrate(self) -> None:
        db.upgrade(self.engine)

    def enqueue(self, delivery_pk: int, delay: float = 0) -> None:
        if delay:
            self.process_task.schedule(args=(delivery_pk,), delay=delay)
        else:
            self.process_task(delivery_pk)

    def forge(self, name: str) -> Forge:
        with _forge_lock:
            if name not in self._forges:
                from gitops_health.bot.forges import make_forge

                self._forges[name] = make_forge(name, self.settings, self.store)
            return self._forges[name]

    def recover(self, older_than_seconds: float = RECOVERY_AGE_SECONDS) -> int:
        """Re-enqueue deliveries a crash left unfinished; returns how many."""
        pending = self.store.unfinished(older_than_seconds, self.settings.job_lease_seconds)
        self.store.free_dead_claims(pending)
        for pk in pending:
            self.enqueue(pk)
        if pending:
            log.info("re-enqueued %d unfinished deliveries", len(pending))
        return len(pending)


def start(settings: Settings, huey: Huey | None = None) -> Runtime:
    """Build, migrate and install the runtime of this process."""
    global _current
    runtime = Runtime(settings, huey)
    runtime.migrate()
    _current = runtime
    return runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the bot runtime is not started in this process")
    return _current


def _process(delivery_pk: int) -> None:
    from gitops_health.bot.worker import process_delivery

    process_delivery(current(), delivery_pk)


def _recover() -> None:
    current().recover()


class EmbeddedConsumer(Consumer):
    """A huey consumer that runs inside another program (the web server), without signals."""

    def _set_signal_handlers(self) -> None:
        pass


def consumer(runtime: Runtime, *, embedded: bool, workers: int | None = None) -> Consumer:
    """Thread workers on the runtime's queue; `embedded` leaves signal handling to the host."""
    kind = EmbeddedConsumer if embedded else Consumer
    return kind(
        runtime.huey,
        workers=workers or runtime.settings.workers,
        worker_type="thread",
        periodic=True,
        check_worker_health=False,
    )
