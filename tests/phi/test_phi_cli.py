"""`gitops-health phi scan|baseline|redact` on real files and repositories."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from testkit import git

from gitops_health.hooks.phi_cli import main

# A transcription of the SARIF 2.1.0 schema's objects we emit (the full schema isn't reachable).
SARIF_SUBSET_SCHEMA = Path(__file__).with_name("sarif-2.1.0-subset.schema.json")
FIXTURE = (
    "first_name,last_name,dob,ssn,phone,email\n"
    "Maria,Okafor,04/12/1961,412-33-9821,(912) 457-4702,maria.okafor7@gmail.com\n"
)


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, phi_config) -> Path:  # type: ignore[no-untyped-def]
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures/patients.csv").write_text(FIXTURE)
    (tmp_path / "src.py").write_text("import os\nPORT = 8080\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_scan_tree_jsonl_paths_as_given(tree: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["scan", "fixtures", "src.py", "--format", "jsonl"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(r["path"], r["line"], r["entity_type"]) for r in records} == {
        ("fixtures/patients.csv", 2, t) for t in ("PERSON", "DATE", "SSN", "PHONE", "EMAIL")
    }
    assert main(["scan", "src.py"]) == 0


def test_sarif_output_validates_against_the_schema(tree: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["scan", ".", "--format", "sarif"]) == 1
    log = json.loads(capsys.readouterr().out)
    jsonschema.validate(log, json.loads(SARIF_SUBSET_SCHEMA.read_text()))
    results = log["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results} == {2}
    assert "412-33" not in json.dumps(log)


def test_missing_path_is_a_clear_error(tree: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["scan", "nope/"]) == 2
    assert "nope/: no such file or directory" in capsys.readouterr().err


def test_rev_range_scans_only_what_the_range_adds(
    repo: Path, monkeypatch, capsys, phi_config
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(repo)
    (repo / "old.csv").write_text(FIXTURE)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "chore: old data")
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "new.yaml").write_text("patient:\n  mrn: E4535749\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "test: add fixture")
    assert main(["scan", "--rev-range", f"{base}..HEAD", "--format", "jsonl"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["path"], r["line"], r["entity_type"]) for r in records] == [("new.yaml", 2, "MRN")]
    assert main(["scan", "--rev-range", "HEAD"]) == 2


def test_baseline_update_keeps_audit_labels(repo: Path, monkeypatch, phi_config) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(repo)
    (repo / "a.csv").write_text(FIXTURE)
    assert main(["baseline", "create"]) == 0
    assert main(["baseline", "create"]) == 2  # exists: needs --force
    path = repo / ".gitops-health/phi-baseline.json"
    monkeypatch.setenv("GITOPS_HEALTH_AUDIT_STDIN", "1")
    answers = iter(["f", "t", "q"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert main(["baseline", "audit"]) == 0
    labels = [e["audit"] for e in json.loads(path.read_text())["entries"]]
    assert sorted(labels)[:2] == ["false-positive", "true-positive"]
    assert labels.count("unreviewed") == len(labels) - 2
    header, row = FIXTURE.splitlines()
    (repo / "a.csv").write_text(f"{header}\n,,,,,\n{row}\n")  # the row moved down
    assert main(["baseline", "update"]) == 0
    updated = [e["audit"] for e in json.loads(path.read_text())["entries"]]
    assert sorted(updated) == sorted(labels)
    assert main(["scan", "a.csv"]) == 0


def test_redact_replaces_with_values_that_scan_clean(tree: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    target = tree / "fixtures/patients.csv"
    assert main(["redact", str(target), "--in-place"]) == 0
    redacted = target.read_text()
    assert "Okafor" not in redacted and "412-33-9821" not in redacted
    assert redacted.splitlines()[1].count(",") == 5  # still a six-column row
    assert main(["scan", str(target)]) == 0
