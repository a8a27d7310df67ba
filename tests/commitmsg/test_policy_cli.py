"""`gitops-health policy schema|validate` and the shipped JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from testkit import ROOT

from gitops_health.cli import main as cli_main
from gitops_health.hooks.policy_cli import main
from gitops_health.rules.config.policy import schema_json

SHIPPED_SCHEMA = ROOT / "rules" / "schema" / "gitops-health.schema.json"
GOOD = """\
commit_msg:
  types: [feat, fix, chore]
  scopes: [api, ui]
  multiple_scopes: true
  header_max_length: 72
  required_trailers: [Signed-off-by]
  ticket:
    pattern: '[A-Z]+-\\d+'
    types: [feat]
    where: footer
"""
BAD = """\
commit_msg:
  types: feat-only-as-a-mapping: 1
"""
SEVERAL_ERRORS = """\
commit_msg:
  tyeps: [feat]
  header_max_length: long
  subject_case: upper
  ticket:
    pattern: '[unclosed'
signing:
  nope: true
"""


def test_schema_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].endswith("2020-12/schema")
    assert "commit_msg" in schema["$defs"]["Policy"]["properties"]
    jsonschema.Draft202012Validator.check_schema(schema)


def test_shipped_schema_is_up_to_date() -> None:
    assert SHIPPED_SCHEMA.read_text() == schema_json(), (
        "rules/schema/gitops-health.schema.json is stale; regenerate it with "
        "`.venv/bin/gitops-health policy schema > rules/schema/gitops-health.schema.json`"
    )


def test_schema_and_loader_agree_on_a_good_file() -> None:
    schema = json.loads(schema_json())
    jsonschema.validate(yaml.safe_load(GOOD), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"commit_msg": {"tyeps": ["feat"]}}, schema)


def test_validate_a_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(GOOD)
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: valid"


def test_validate_reports_every_error_with_path_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(SEVERAL_ERRORS)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}:2: commit_msg.tyeps: unknown key")
    assert out[1] == f"{path}:3: commit_msg.header_max_length: expected an integer, got 'long'"
    assert out[2] == f"{path}:4: commit_msg.subject_case: must be one of lower, any"
    assert out[3].startswith(f"{path}:6: commit_msg.ticket.pattern: not a valid regular expression")
    assert out[4].startswith(f"{path}:8: signing.nope: unknown key")
    assert out[5] == f"{path}: 5 errors"


def test_validate_bad_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(BAD)
    assert main(["validate", str(path)]) == 1
    assert "not valid YAML" in capsys.readouterr().out


def test_validate_non_utf8_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.yml"
    path.write_bytes(b"commit_msg:\n  types: [f\xe9at]\n")
    assert main(["validate", str(path)]) == 1
    assert "not UTF-8" in capsys.readouterr().out


def test_validate_defaults_to_the_repo_root_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    assert main(["validate"]) == 0
    assert "built-in defaults apply" in capsys.readouterr().out
    (repo / ".gitops-health.yml").write_text("commit_msg:\n  bogus: 1\n")
    assert cli_main(["policy", "validate"]) == 1
    assert ".gitops-health.yml:2: commit_msg.bogus: unknown key" in capsys.readouterr().out


def test_validate_a_missing_explicit_file(tmp_path: Path) -> None:
    assert main(["validate", str(tmp_path / "absent.yml")]) == 1


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
