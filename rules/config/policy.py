"""The repository policy, `.gitops-health.yml`, as one typed object."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from gitops_health.rules.config import POLICY_FILE
from gitops_health.rules.config.approvals import ApprovalsConfig
from gitops_health.rules.config.commit_msg import CommitMsgConfig
from gitops_health.rules.config.compliance import ComplianceConfig, check_pack_names
from gitops_health.rules.config.phi import PhiConfig
from gitops_health.rules.config.risk import RiskConfig
from gitops_health.rules.config.signing import SigningConfig


@dataclass(frozen=True)
class Policy:
    """gitops-health repository policy (`.gitops-health.yml`)."""

    extends: tuple[str, ...] = field(
        default=(),
        metadata={
            "check": check_pack_names,
            "doc": "built-in compliance packs: hipaa, sox, soc2, pci-dss, part11",
        },
    )
    commit_msg: CommitMsgConfig = field(default_factory=CommitMsgConfig)
    signing: SigningConfig = field(default_factory=SigningConfig)
    phi: PhiConfig = field(default_factory=PhiConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    compliance: ComplianceConfig = field(default_factory=ComplianceConfig)
    approvals: ApprovalsConfig = field(default_factory=ApprovalsConfig)
    source_text: str = field(default="", compare=False, repr=False, metadata={"internal": True})

    @property
    def digest(self) -> str:
        """SHA-256 of the policy text as read (empty text = built-in defaults)."""
        return hashlib.sha256(self.source_text.encode()).hexdigest()


def parse_policy(text: str, source: str = POLICY_FILE) -> Policy:
    """Parse policy YAML; raises ConfigInvalid listing every error with its path and line."""
    from dataclasses import replace

    from gitops_health.rules.config.schema import load_section

    policy = load_section(Policy, text, source)
    return replace(policy, source_text=text)


def load_policy(path: str | Path) -> Policy:
    path = Path(path)
    return parse_policy(path.read_text(encoding="utf-8"), str(path))


def find_policy(repo_root: str | Path) -> Policy:
    """The repo's policy, or the defaults when it has no `.gitops-health.yml`."""
    path = Path(repo_root) / POLICY_FILE
    return load_policy(path) if path.is_file() else Policy()


def policy_schema() -> dict[str, object]:
    from gitops_health.rules.config.schema import json_schema

    defs: dict[str, object] = {}
    root = json_schema(Policy, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://gitops-health.dev/schema/gitops-health.json",
        "title": "gitops-health policy (.gitops-health.yml)",
        **root,
        "$defs": defs,
    }


def schema_json() -> str:
    return json.dumps(policy_schema(), indent=2, sort_keys=True) + "\n"
