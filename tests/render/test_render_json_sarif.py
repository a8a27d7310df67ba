"""JSON output validates against the shipped schema; SARIF against a SARIF 2.1.0 schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from render_builders import HEAD, SSN, full_report, many_findings_report

from gitops_health.rules.render import render_json, render_sarif, report_schema
from gitops_health.rules.report import Report

SARIF_SCHEMA = json.loads(
    (Path(__file__).parent / "sarif-2.1.0-subset.schema.json").read_text(encoding="utf-8")
)


def validate_json(document: object) -> None:
    validator = jsonschema.Draft202012Validator(
        report_schema(), format_checker=jsonschema.FormatChecker()
    )
    validator.validate(document)


def validate_sarif(document: object) -> None:
    validator = jsonschema.Draft7Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())
    validator.validate(document)


def test_shipped_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(report_schema())
    jsonschema.Draft7Validator.check_schema(SARIF_SCHEMA)


def test_full_report_json_validates_and_keeps_the_data() -> None:
    document = json.loads(render_json(full_report()))
    validate_json(document)
    assert document["schema_version"] == 1
    assert document["conclusion"] == "failure"
    assert document["risk"]["metrics"] == {"la": 420.0, "age": None}
    assert document["controls"][0]["evidence"][0]["commit"] == HEAD
    assert document["approval"]["children"][1]["candidates"] == ["carol", "dave"]
    assert document["findings"][0]["message"] == "US_SSN (value withheld)"


def test_empty_report_json_validates() -> None:
    document = json.loads(render_json(Report(repository="r", forge="local", head_sha="")))
    validate_json(document)
    assert document["risk"] is None and document["approval"] is None


def test_json_never_holds_a_phi_value() -> None:
    assert SSN not in render_json(full_report())


def test_sarif_validates_and_maps_findings() -> None:
    log = json.loads(render_sarif(full_report()))
    validate_sarif(log)
    (run,) = log["runs"]
    assert log["version"] == "2.1.0"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "phi/UsSsnRecognizer", "transmission-security/plaintext-http",
        "signature/signature-missing",
    ]  # fmt: skip
    phi, http, signature = run["results"]
    assert phi["message"]["text"] == "US_SSN (value withheld)"
    assert phi["partialFingerprints"] == {"gitopsHealth/v1": "fp1"}
    region = http["locations"][0]["physicalLocation"]
    assert region["artifactLocation"] == {"uri": "src/a%20b.py", "uriBaseId": "SRCROOT"}
    assert region["region"] == {"startLine": 9, "startColumn": 7, "endColumn": 30}
    assert http["ruleIndex"] == 1
    assert signature["level"] == "warning" and "locations" not in signature
    assert signature["properties"]["commit"] == HEAD
    assert SSN not in json.dumps(log)


def test_sarif_without_findings_and_with_many_validates() -> None:
    validate_sarif(json.loads(render_sarif(Report(repository="r", forge="local", head_sha=""))))
    log = json.loads(render_sarif(many_findings_report(300)))
    validate_sarif(log)
    assert len(log["runs"][0]["results"]) == 300
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == 1


def test_schema_rejects_what_it_should() -> None:
    document = json.loads(render_json(full_report()))
    document["controls"][0]["verdict"] = "maybe"
    try:
        validate_json(document)
    except jsonschema.ValidationError as error:
        assert "maybe" in error.message
    else:
        raise AssertionError("an unknown verdict validated")
