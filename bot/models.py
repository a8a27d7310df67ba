"""The bot's tables: deliveries (de-duplication + durable work list), per-PR state, caches."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gitops_health.bot.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryStatus:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Delivery(Base):
    """One accepted webhook delivery. The unique key makes concurrent duplicates collide."""

    __tablename__ = "bot_deliveries"
    __table_args__ = (UniqueConstraint("forge", "delivery_id", name="uq_bot_deliveries_forge_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    forge: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(128))
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), default="")
    sender: Mapped[str] = mapped_column(String(255), default="")
    targets: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of PR targets
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str] = mapped_column(String(255), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")


class PullRequestState(Base):
    """What the bot remembers about one PR between events."""

    __tablename__ = "bot_pull_requests"
    __table_args__ = (
        UniqueConstraint("forge", "owner", "repo", "number", name="uq_bot_pull_requests_pr"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    forge: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(255))
    repo: Mapped[str] = mapped_column(String(255))
    number: Mapped[int] = mapped_column(Integer)
    comment_id: Mapped[str] = mapped_column(String(64), default="")
    comment_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source_hash: Mapped[str] = mapped_column(String(64), default="")
    destination: Mapped[str] = mapped_column(String(255), default="")
    head_sha: Mapped[str] = mapped_column(String(64), default="")
    conclusion: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class BaseFileCache(Base):
    """A file read from a base commit; commits are immutable, so entries never go stale."""

    __tablename__ = "bot_base_files"
    __table_args__ = (
        UniqueConstraint("forge", "repository", "sha", "path", name="uq_bot_base_files_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    forge: Mapped[str] = mapped_column(String(32))
    repository: Mapped[str] = mapped_column(String(511))
    sha: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1024))
    content: Mapped[str | None] = mapped_column(Text, nullable=True)  # None: file absent


class ForgeIdentity(Base):
    """The bot's own login per forge, learnt from the API, so its own reviews are ignored."""

    __tablename__ = "bot_identities"

    forge: Mapped[str] = mapped_column(String(32), primary_key=True)
    login: Mapped[str] = mapped_column(String(255))
