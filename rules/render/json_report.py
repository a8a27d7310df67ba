"""The report as JSON, following `rules/schema/report.schema.json` (stable, versioned).

Within one `schema_version`, fields are only ever added, never renamed or removed; every
field is always present (null or empty when unknown). PHI findings carry their type in
`message`, never a value.
"""

from __future__ import annotations

import json
import math
from importlib.resources import files
from typing import Any

from gitops_health import __version__
from gitops_health.rules.render.text import finding_text
from gitops_health.rules.report import (
    ControlVerdict,
    Evidence,
    Finding,
    Report,
    RiskResult,
    RuleResult,
)

SCHEMA_VERSION = 1
SCHEMA_ID = "https://gitops-health.dev/schema/report-1.json"


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) the output of `render_json` follows."""
    resource = files("gitops_health.rules") / "schema" / "report.schema.json"
    schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return schema


def render_json(report: Report) -> str:
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def report_to_dict(report: Report) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "gitops-health", "version": __version__},
        "repository": report.repository,
        "forge": report.forge,
        "number": report.number,
        "title": report.title,
        "head_sha": report.head_sha,
        "base_sha": report.base_sha,
        "policy_digest": report.policy_digest,
        "conclusion": report.conclusion,
        "risk": _risk(report.risk),
        "controls": [_control(c) for c in report.controls],
        "approval": _rule(report.approval),
        "disapproval": _rule(report.disapproval),
        "findings": [_finding(f) for f in report.findings],
        "notes": list(report.notes),
        "policy_errors": list(report.policy_errors),
    }


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _risk(risk: RiskResult | None) -> dict[str, Any] | None:
    if risk is None:
        return None
    return {
        "score": risk.score,
        "level": risk.level.value,
        "probability": _number(risk.probability),
        "rollout": risk.rollout,
        "factors": [
            {"feature": f.feature, "points": _number(f.points), "description": f.description}
            for f in risk.factors
        ],
        "metrics": {name: _number(value) for name, value in risk.metrics.items()},
        "missing": list(risk.missing),
    }


def _evidence(evidence: Evidence) -> dict[str, Any]:
    return {
        "text": evidence.text,
        "commit": evidence.commit,
        "path": evidence.path,
        "line": evidence.line,
        "review": evidence.review,
    }


def _control(control: ControlVerdict) -> dict[str, Any]:
    return {
        "framework": control.framework,
        "control": control.control,
        "title": control.title,
        "citation": control.citation,
        "verdict": control.verdict.value,
        "reason": control.reason,
        "evidence": [_evidence(e) for e in control.evidence],
    }


def _rule(rule: RuleResult | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "name": rule.name,
        "state": rule.state.value,
        "description": rule.description,
        "approvers": list(rule.approvers),
        "candidates": list(rule.candidates),
        "request": list(rule.request),
        "children": [_rule(child) for child in rule.children],
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "rule": finding.rule,
        "message": finding_text(finding),
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_column": finding.end_column,
        "entity_type": finding.entity_type,
        "score": _number(finding.score),
        "severity": finding.severity,
        "commit": finding.commit,
        "fingerprint": finding.fingerprint,
    }
