"""`approvals:` section: policy-bot style approval rules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApprovalsConfig:
    """Approval rules and how they combine."""
