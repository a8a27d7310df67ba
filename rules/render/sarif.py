"""Findings as a SARIF 2.1.0 log, for GitHub code scanning and other SARIF viewers.

One run, one result per finding. Rule ids are `<kind>/<rule>` (e.g. `phi/UsSsnRecognizer`,
`transmission-security/plaintext-http`). Paths are relative to the repository root
(`uriBaseId` SRCROOT); columns count Unicode code points. PHI results name the type only.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from gitops_health import __version__
from gitops_health.rules.render.text import finding_text
from gitops_health.rules.report import Finding, Report

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_KIND_DESCRIPTIONS = {
    "phi": "Protected health information in added lines",
    "commit-message": "Commit message does not follow the policy",
    "signature": "Commit signature not acceptable",
    "transmission-security": "Transport security weakened (TLS off or plain http)",
    "policy": "Policy file problem",
}
_LEVELS = {"error": "error", "warning": "warning", "note": "note"}


def rule_id(finding: Finding) -> str:
    return f"{finding.kind}/{finding.rule}" if finding.rule else finding.kind


def render_sarif(report: Report) -> str:
    return json.dumps(sarif_log(report), indent=2, ensure_ascii=False) + "\n"


def sarif_log(report: Report) -> dict[str, Any]:
    ids = list(dict.fromkeys(rule_id(f) for f in report.findings))
    kinds = {rule_id(f): f.kind for f in report.findings}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "gitops-health",
                "version": __version__,
                "rules": [_rule(rid, kinds[rid]) for rid in ids],
            }
        },
        "originalUriBaseIds": {"SRCROOT": {"description": {"text": "repository root"}}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, ids.index(rule_id(f))) for f in report.findings],
        "properties": {
            "repository": report.repository,
            "headSha": report.head_sha,
            "conclusion": report.conclusion,
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rule(rid: str, kind: str) -> dict[str, Any]:
    description = _KIND_DESCRIPTIONS.get(kind, kind)
    return {
        "id": rid,
        "name": rid.replace("/", "-"),
        "shortDescription": {"text": description},
        "properties": {"tags": ["gitops-health", kind]},
    }


def _result(finding: Finding, index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": rule_id(finding),
        "ruleIndex": index,
        "level": _LEVELS.get(finding.severity, "warning"),
        "message": {"text": finding_text(finding) or rule_id(finding)},
        "properties": {"kind": finding.kind},
    }
    if finding.path:
        result["locations"] = [_location(finding)]
    if finding.fingerprint:
        result["partialFingerprints"] = {"gitopsHealth/v1": finding.fingerprint}
    if finding.entity_type:
        result["properties"]["entityType"] = finding.entity_type
    if finding.commit:
        result["properties"]["commit"] = finding.commit
    return result


def _location(finding: Finding) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": quote(finding.path), "uriBaseId": "SRCROOT"}
    }
    if finding.line > 0:
        region: dict[str, int] = {"startLine": finding.line}
        if finding.column > 0:
            region["startColumn"] = finding.column
            if finding.end_column > finding.column:
                region["endColumn"] = finding.end_column
        physical["region"] = region
    return {"physicalLocation": physical}
