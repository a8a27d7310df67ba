"""bot tables: deliveries, pull-request state, base-file cache, identities

Revision ID: 0001_bot_initial
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_bot_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("forge", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(128), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.UniqueConstraint("forge", "delivery_id", name="uq_bot_deliveries_forge_id"),
    )
    op.create_index("ix_bot_deliveries_status", "bot_deliveries", ["status"])
    op.create_table(
        "bot_pull_requests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("forge", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.String(64), nullable=False),
        sa.Column("comment_version", sa.Integer(), nullable=True),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("destination", sa.String(255), nullable=False),
        sa.Column("head_sha", sa.String(64), nullable=False),
        sa.Column("conclusion", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("forge", "owner", "repo", "number", name="uq_bot_pull_requests_pr"),
    )
    op.create_table(
        "bot_base_files",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("forge", sa.String(32), nullable=False),
        sa.Column("repository", sa.String(511), nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.UniqueConstraint("forge", "repository", "sha", "path", name="uq_bot_base_files_key"),
    )
    op.create_table(
        "bot_identities",
        sa.Column("forge", sa.String(32), primary_key=True),
        sa.Column("login", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bot_identities")
    op.drop_table("bot_base_files")
    op.drop_table("bot_pull_requests")
    op.drop_index("ix_bot_deliveries_status", table_name="bot_deliveries")
    op.drop_table("bot_deliveries")
