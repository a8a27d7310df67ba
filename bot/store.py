"""Every read and write the bot makes to its database, in small transactional functions.

Correctness across processes rests on the database alone: the unique key on deliveries
de-duplicates, and a delivery is claimed with one conditional UPDATE so two workers never
process it at the same time.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gitops_health.bot.db import make_sessions, transaction
from gitops_health.bot.forges.base import PullRequestRef
from gitops_health.bot.models import (
    BaseFileCache,
    Delivery,
    DeliveryStatus,
    ForgeIdentity,
    PullRequestState,
    utcnow,
)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Target:
    """What one delivery asks the worker to evaluate: a PR, every open PR at a head SHA, or
    (number 0, no head SHA) every open PR of a repository, or of a GitHub installation when
    `repo` is empty too."""

    forge: str
    owner: str
    repo: str
    number: int = 0
    installation_id: int | None = None
    head_sha: str = ""  # set (and number 0) when the forge did not say which PR

    @classmethod
    def of(cls, ref: PullRequestRef) -> Target:
        return cls(ref.forge, ref.owner, ref.repo, ref.number, ref.installation_id)

    def ref(self, number: int | None = None) -> PullRequestRef:
        return PullRequestRef(
            self.forge, self.owner, self.repo, number or self.number, self.installation_id
        )


def _targets_json(targets: tuple[Target, ...]) -> str:
    return json.dumps([asdict(target) for target in targets])


def _targets_from(text: str) -> tuple[Target, ...]:
    return tuple(Target(**item) for item in json.loads(text or "[]"))


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    forge: str
    delivery_id: str
    event: str
    action: str
    sender: str
    targets: tuple[Target, ...]
    attempts: int


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_sessions(engine)

    # -- deliveries ---------------------------------------------------------------------------

    def record_delivery(
        self,
        forge: str,
        delivery_id: str,
        event: str,
        action: str,
        sender: str,
        targets: tuple[Target, ...],
    ) -> int | None:
        """Insert a delivery; its row id, or None when this delivery was already accepted."""
        row = Delivery(
            forge=forge,
            delivery_id=delivery_id[:128],
            event=event[:64],
            action=action[:64],
            sender=sender[:255],
            targets=_targets_json(targets),
            status=DeliveryStatus.QUEUED,
            attempts=0,
            claimed_by="",
            error="",
            received_at=utcnow(),
        )
        try:
            with transaction(self.sessions) as session:
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            return None

    def claim(self, delivery_pk: int, lease_seconds: float) -> ClaimedDelivery | None:
        """Take a delivery for processing, unless it is done or another live worker holds it."""
        now = utcnow()
        stale = now - timedelta(seconds=lease_seconds)
        claimable = (Delivery.status == DeliveryStatus.QUEUED) | (
            (Delivery.status == DeliveryStatus.RUNNING) & (Delivery.claimed_at < stale)
        )
        with transaction(self.sessions) as session:
            result = session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_pk, claimable)
                .values(
                    status=DeliveryStatus.RUNNING,
                    claimed_by=worker_id(),
                    claimed_at=now,
                    attempts=Delivery.attempts + 1,
                )
            )
            if result.rowcount != 1:
                return None
            row = session.get(Delivery, delivery_pk)
            assert row is not None
            return ClaimedDelivery(
                row.id,
                row.forge,
                row.delivery_id,
                row.event,
                row.action,
                row.sender,
                _targets_from(row.targets),
                row.attempts,
            )

    def finish(self, delivery_pk: int, status: str, error: str = "") -> None:
        with transaction(self.sessions) as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_pk, Delivery.claimed_by == worker_id())
                .values(status=status, finished_at=utcnow(), error=error[:2000])
            )

    def release(self, delivery_pk: int, error: str) -> None:
        """Give a claimed delivery back to the queue for a later retry."""
        with transaction(self.sessions) as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_pk, Delivery.claimed_by == worker_id())
                .values(status=DeliveryStatus.QUEUED, claimed_at=utcnow(), error=error[:2000])
            )

    def unfinished(self, older_than_seconds: float, lease_seconds: float) -> list[int]:
        """Deliveries a crashed process left behind: queued too long, or held by a dead worker."""
        now = utcnow()
        queued_before = now - timedelta(seconds=older_than_seconds)
        lease_expired = now - timedelta(seconds=lease_seconds)
        with self.sessions() as session:
            rows = session.execute(
                select(
                    Delivery.id,
                    Delivery.status,
                    Delivery.claimed_by,
                    Delivery.claimed_at,
                    Delivery.received_at,
                )
                .where(Delivery.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.RUNNING]))
                .order_by(Delivery.id)
            ).all()
        queued_too_long = [
            pk
            for pk, status, _, last, received in rows
            if status == DeliveryStatus.QUEUED and _aware(last or received) <= queued_before
        ]
        abandoned = [
            pk
            for pk, status, holder, claimed, _ in rows
            if status == DeliveryStatus.RUNNING
            and (_holder_is_dead(holder) or _aware(claimed) <= lease_expired)
        ]
        return sorted(queued_too_long + abandoned)

    def free_dead_claims(self, delivery_pks: list[int]) -> None:
        """Make deliveries held by dead local workers claimable again at once."""
        with transaction(self.sessions) as session:
            for pk in delivery_pks:
                row = session.get(Delivery, pk)
                if row and row.status == DeliveryStatus.RUNNING and _holder_is_dead(row.claimed_by):
                    row.status, row.claimed_at = DeliveryStatus.QUEUED, None

    def oldest_unfinished_age(self) -> float:
        """Seconds since the oldest accepted delivery not yet done or failed was received."""
        with self.sessions() as session:
            oldest = session.scalar(
                select(func.min(Delivery.received_at)).where(
                    Delivery.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.RUNNING])
                )
            )
        return 0.0 if oldest is None else max(0.0, (utcnow() - _aware(oldest)).total_seconds())

    def delivery_status(self, forge: str, delivery_id: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(
                select(Delivery.status).where(
                    Delivery.forge == forge, Delivery.delivery_id == delivery_id
                )
            )

    # -- pull-request state -------------------------------------------------------------------

    @staticmethod
    def _pr_query(ref: PullRequestRef) -> Select[tuple[PullRequestState]]:
        return select(PullRequestState).where(
            PullRequestState.forge == ref.forge,
            PullRequestState.owner == ref.owner,
            PullRequestState.repo == ref.repo,
            PullRequestState.number == ref.number,
        )

    def _pr_row(self, session: Session, ref: PullRequestRef) -> PullRequestState:
        row = session.scalar(self._pr_query(ref))
        if row is None:
            row = PullRequestState(
                forge=ref.forge,
                owner=ref.owner,
                repo=ref.repo,
                number=ref.number,
                comment_id="",
                source_hash="",
                destination="",
                head_sha="",
                conclusion="",
            )
            session.add(row)
        return row

    def _update_pr(self, ref: PullRequestRef, **values: Any) -> None:
        for _ in range(2):  # a concurrent first insert of the same PR loses once, then updates
            try:
                with transaction(self.sessions) as session:
                    row = self._pr_row(session, ref)
                    for key, value in values.items():
                        setattr(row, key, value)
                return
            except IntegrityError:
                continue

    def comment(self, ref: PullRequestRef) -> tuple[str, int | None]:
        """The stored sticky-comment id ("" if none) and its version (Data Center)."""
        with self.sessions() as session:
            row = session.scalar(self._pr_query(ref))
            return (row.comment_id, row.comment_version) if row else ("", None)

    def remember_comment(
        self, ref: PullRequestRef, comment_id: str, version: int | None = None
    ) -> None:
        self._update_pr(ref, comment_id=str(comment_id), comment_version=version)

    def remember_head(self, ref: PullRequestRef, head_sha: str) -> None:
        self._update_pr(ref, head_sha=head_sha)

    def head(self, ref: PullRequestRef) -> str:
        """The PR's head commit as last read from the forge ("" if never read)."""
        with self.sessions() as session:
            row = session.scalar(self._pr_query(ref))
            return row.head_sha if row else ""

    def remember_outcome(self, ref: PullRequestRef, head_sha: str, conclusion: str) -> None:
        self._update_pr(ref, head_sha=head_sha, conclusion=conclusion)

    def source_changed(self, ref: PullRequestRef, source_hash: str, destination: str) -> bool:
        """True if the PR's source commit or destination differs from the last one remembered."""
        with self.sessions() as session:
            row = session.scalar(self._pr_query(ref))
            return row is None or (row.source_hash, row.destination) != (source_hash, destination)

    def remember_source(self, ref: PullRequestRef, source_hash: str, destination: str) -> None:
        """Remember the source commit and destination once a delivery about them is recorded."""
        with transaction(self.sessions) as session:
            row = self._pr_row(session, ref)
            row.source_hash, row.destination = source_hash, destination

    # -- caches and identity ------------------------------------------------------------------

    def base_file(
        self, forge: str, repository: str, sha: str, path: str
    ) -> tuple[bool, str | None]:
        """(cached?, content); content None means the file is known to be absent."""
        with self.sessions() as session:
            row = session.scalar(
                select(BaseFileCache).where(
                    BaseFileCache.forge == forge,
                    BaseFileCache.repository == repository,
                    BaseFileCache.sha == sha,
                    BaseFileCache.path == path,
                )
            )
            return (True, row.content) if row else (False, None)

    def save_base_file(
        self, forge: str, repository: str, sha: str, path: str, content: str | None
    ) -> None:
        row = BaseFileCache(forge=forge, repository=repository, sha=sha, path=path, content=content)
        try:
            with transaction(self.sessions) as session:
                session.add(row)
        except IntegrityError:
            pass  # another worker cached the same immutable file first

    def identity(self, forge: str) -> str:
        with self.sessions() as session:
            row = session.get(ForgeIdentity, forge)
            return row.login if row else ""

    def remember_identity(self, forge: str, login: str) -> None:
        try:
            with transaction(self.sessions) as session:
                session.merge(ForgeIdentity(forge=forge, login=login))
        except IntegrityError:
            pass  # another worker recorded it at the same moment


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _holder_is_dead(claimed_by: str) -> bool:
    """True when the claiming worker ran on this host and its process is gone."""
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
