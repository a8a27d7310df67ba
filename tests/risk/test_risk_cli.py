"""`gitops-health risk` on a real temporary repository."""

from __future__ import annotations

import json
from pathlib import Path

from testkit import git

from gitops_health.hooks.risk_cli import main


def make_branch(repo: Path) -> None:
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text("print('v1')\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "feat: app")
    git(repo, "switch", "-q", "-c", "feature")
    (repo / "infra").mkdir()
    (repo / "infra" / "main.tf").write_text("".join(f"line {i}\n" for i in range(120)))
    (repo / "src" / "app.py").write_text("print('v2')\nprint('more')\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "fix: infra and app")


def test_json_report_of_a_branch(repo: Path, capsys) -> None:
    make_branch(repo)
    assert main(["--repo", str(repo), "--rev", "main..feature", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    risk = out["risk"]
    assert 0 <= risk["score"] <= 100 and risk["level"] in {"low", "medium", "high", "critical"}
    features = {f["feature"] for f in risk["factors"]}
    assert {"sensitive_path", "unsigned"} <= features and risk["metrics"]["fix"] == 1
    assert risk["metrics"]["la"] == 122 and risk["metrics"]["lt"] == 1
    assert risk["missing"] == []  # history came from the clone


def test_text_report_of_the_last_commit(repo: Path, capsys) -> None:
    make_branch(repo)
    assert main(["--repo", str(repo)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Risk ") and "touches `infra/` (sensitive path)" in text


def test_bad_input_is_a_clear_error(repo: Path, tmp_path: Path, capsys) -> None:
    assert main(["--repo", str(repo), "--rev", "nope..HEAD"]) == 2
    assert "unknown revision 'nope'" in capsys.readouterr().err
    assert main(["--repo", str(tmp_path), "--rev", "a..b"]) == 2
    assert "not inside a git repository" in capsys.readouterr().err
    assert main(["--repo", str(repo), "--rev", "main.."]) == 2
    assert "give both ends" in capsys.readouterr().err
