"""A real repository, SSH-signed commits, `gitops-health simulate --json`: the packs' verdicts
and the transmission-security findings reach the report, which validates against its schema."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from testkit import git

from gitops_health.hooks.simulate import main as simulate
from gitops_health.rules.render import report_schema

POLICY = "extends: [hipaa, sox, soc2, pci-dss, part11]\nphi:\n  enabled: false\n"


@pytest.fixture
def signed_branch(repo: Path, tmp_path: Path) -> Path:
    key = tmp_path / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", str(key)], check=True
    )
    public = key.with_suffix(".pub").read_text().strip()
    (repo / ".gitops-health").mkdir()
    (repo / ".gitops-health" / "allowed_signers").write_text(
        f'alice@example.com namespaces="git" {public}\n'
    )
    (repo / ".gitops-health.yml").write_text(POLICY)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "chore: policy")
    for name, value in (("gpg.format", "ssh"), ("user.signingkey", str(key))):
        git(repo, "config", name, value)
    git(repo, "checkout", "-q", "-b", "feature/PROJ-9-client")
    (repo / "src").mkdir()
    (repo / "src" / "client.py").write_text(
        "import requests\n\ndef fetch(url):\n    return requests.get(url, verify=False)\n"
    )
    (repo / "tests").mkdir()
    (repo / "tests" / "test_client.py").write_text("def test_fetch():\n    assert fetch() == 200\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-S", "-m", "feat: add the client")
    return repo


def test_simulated_pull_request_gets_pack_verdicts_with_evidence(
    signed_branch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--repo", str(signed_branch), "--approve", "bob", "--description", "Adds a client."]
    status = simulate([*argv, "--json"])
    report = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert status == 1
    verdicts = {f"{c['framework']}.{c['control']}": c for c in report["controls"]}
    head = git(signed_branch, "rev-parse", "HEAD").strip()

    assert verdicts["hipaa.164.312(c)(1)"]["verdict"] == "pass"
    assert verdicts["hipaa.164.312(d)"]["verdict"] == "pass"
    assert verdicts["hipaa.164.312(b)"]["verdict"] == "not_applicable"
    assert verdicts["hipaa.164.514"]["verdict"] == "pending"
    transmission = verdicts["hipaa.164.312(e)(1)"]
    assert transmission["verdict"] == "fail"
    assert transmission["evidence"][0]["path"] == "src/client.py"
    assert transmission["evidence"][0]["line"] == 4
    assert verdicts["sox.segregation-of-duties"]["evidence"][0]["review"] == "bob"
    assert verdicts["sox.current-approval"]["evidence"][0]["commit"] == head
    assert verdicts["sox.ticket"]["reason"] == "change ticket PROJ-9 referenced in the branch"
    assert verdicts["soc2.CC8.1-tested"]["verdict"] == "pass"
    assert verdicts["part11.11.70"]["verdict"] == "pass"
    kinds = {(f["kind"], f["path"], f["line"]) for f in report["findings"]}
    assert ("transmission-security", "src/client.py", 4) in kinds
