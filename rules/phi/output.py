"""PHI findings as text (masked), JSON lines, or SARIF 2.1.0; no output ever holds a value."""

from __future__ import annotations

import json
from collections.abc import Sequence

from gitops_health.rules.report import Finding, Report

FORMATS = ("text", "jsonl", "sarif")


def render_text(findings: Sequence[Finding]) -> str:
    lines = [
        f"{f.path}:{f.line}:{f.column}: {f.message} [score {f.score:.2f}, {f.rule}]"
        for f in findings
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def finding_record(finding: Finding) -> dict[str, object]:
    return {
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_column": finding.end_column,
        "entity_type": finding.entity_type,
        "score": finding.score,
        "recognizer": finding.rule,
        "severity": finding.severity,
        "fingerprint": finding.fingerprint,
    }


_JSONL = json.JSONEncoder(sort_keys=True)  # one encoder: `json.dumps(..., sort_keys=True)`
# builds a new one per call


def render_jsonl(findings: Sequence[Finding]) -> str:
    return "".join(_JSONL.encode(finding_record(f)) + "\n" for f in findings)


def render_sarif(findings: Sequence[Finding], repository: str = "") -> str:
    from gitops_health.rules.render.sarif import sarif_log

    report = Report(repository=repository, forge="local", head_sha="", findings=tuple(findings))
    return json.dumps(sarif_log(report), indent=2) + "\n"


def render(findings: Sequence[Finding], fmt: str) -> str:
    if fmt == "jsonl":
        return render_jsonl(findings)
    if fmt == "sarif":
        return render_sarif(findings)
    return render_text(findings)
