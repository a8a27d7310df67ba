"""audit trail: hash-chained entries and signed checkpoints

Revision ID: 0002_audit
Revises: 0001_bot_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

from gitops_health.bot.audit import metadata

revision = "0002_audit"
down_revision = "0001_bot_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
