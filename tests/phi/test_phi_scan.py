"""The `phi-scan` pre-commit hook, on real git repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from testkit import git

from gitops_health.hooks.phi_scan import main, parse_added_lines

SSN_LINE = 'PATIENT_SSN = "412-33-9821"\n'


@pytest.fixture
def staged_repo(repo: Path, monkeypatch: pytest.MonkeyPatch, phi_config) -> Path:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(repo)
    return repo


def _stage(repo: Path, name: str, text: str) -> None:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", name)


def test_clean_commit_passes(staged_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _stage(staged_repo, "app.py", "import os\nPORT = 8080\n")
    assert main([]) == 0
    assert "0 finding(s)" in capsys.readouterr().err


def test_added_phi_fails_with_masked_output(staged_repo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _stage(staged_repo, "tests/fixture.py", "import os\n" + SSN_LINE)
    assert main(["tests/fixture.py"]) == 1
    out = capsys.readouterr()
    assert "tests/fixture.py:2:16: SSN ***-**-****" in out.out
    assert "412-33-9821" not in out.out + out.err


@pytest.mark.parametrize(
    ("name", "committed", "added_line"),
    [
        ("data.csv", "first_name,ssn\nMaria,412339821\n", 3),  # header: the unchanged line 1
        ("data.tsv", "# synthetic rows\n\nfirst_name\tssn\nMaria\t\n", 5),  # after comments
    ],
)
def test_only_added_lines_are_reported_with_the_staged_header(  # type: ignore[no-untyped-def]
    staged_repo: Path, capsys, name: str, committed: str, added_line: int
) -> None:
    _stage(staged_repo, name, committed)
    git(staged_repo, "commit", "-q", "--no-verify", "-m", "chore: legacy data")
    _stage(staged_repo, name, committed + ("Ingrid\t\n" if name.endswith(".tsv") else "Ingrid,\n"))
    assert main(["--format", "jsonl"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["path"], r["line"], r["entity_type"]) for r in records] == [
        (name, added_line, "PERSON")
    ]
    assert set(records[0]) >= {"path", "line", "column", "entity_type", "score", "recognizer"}


def test_clean_commit_reads_no_file_and_imports_no_engine(staged_repo: Path) -> None:
    _stage(staged_repo, "app.py", "import os\nPORT = 8080\n\ndef main() -> int:\n    return 0\n")
    script = (
        "import sys\nfrom gitops_health.hooks.phi_scan import main\ncode = main([])\n"
        "loaded = [m for m in ('gitops_health.rules.phi.scan', 'gitops_health.rules.config.phi',"
        " 'presidio_analyzer', 'spacy') if m in sys.modules]\nprint(code, loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=staged_repo, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "0 []"
    assert "1 staged file(s), 5 added line(s)" in done.stderr


def test_baseline_survives_line_moves(staged_repo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from gitops_health.hooks.phi_cli import main as phi

    _stage(staged_repo, "fixture.py", SSN_LINE)
    assert phi(["baseline", "create"]) == 0
    baseline = (staged_repo / ".gitops-health/phi-baseline.json").read_text()
    assert "412" not in baseline and '"entity_type": "SSN"' in baseline
    _stage(staged_repo, "fixture.py", "# moved down\n\n" + SSN_LINE)
    assert main([]) == 0
    assert "1 in baseline" in capsys.readouterr().err
    assert main(["--no-baseline"]) == 1


def test_policy_disables_and_bad_policy_is_reported(staged_repo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _stage(staged_repo, "fixture.py", SSN_LINE)
    (staged_repo / ".gitops-health.yml").write_text("phi:\n  enabled: false\n")
    assert main([]) == 0
    (staged_repo / ".gitops-health.yml").write_text("phi:\n  exclud: [x]\n")
    assert main([]) == 2
    assert "phi.exclud: unknown key" in capsys.readouterr().err


def test_outside_a_repository_is_a_clear_error(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert main([]) == 2
    assert "phi-scan: `git rev-parse" in capsys.readouterr().err


def test_paths_with_spaces_and_non_ascii(staged_repo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _stage(staged_repo, "my file é.yaml", "ssn: 412-33-9821\n")
    _stage(staged_repo, 'odd"name.txt', "ssn: 412-33-9821\n")
    assert main(["--format", "jsonl"]) == 1
    paths = {json.loads(line)["path"] for line in capsys.readouterr().out.splitlines()}
    assert paths == {"my file é.yaml", 'odd"name.txt'}


def test_diff_parser_handles_binaries_and_hunks() -> None:
    diff = (
        "diff --git a/x.txt b/x.txt\n+++ b/x.txt\n@@ -1,0 +2,2 @@\n+a\n+b\n@@ -9 +12 @@\n+c\n"
        "diff --git a/i.png b/i.png\nBinary files /dev/null and b/i.png differ\n"
        "diff --git a/gone b/gone\n+++ /dev/null\n"
    )
    files = parse_added_lines(diff)
    assert [(f.path, f.lines, f.binary) for f in files] == [
        ("x.txt", [2, 3, 12], False),
        ("i.png", [], True),
    ]


def test_named_files_without_staged_changes_are_scanned_whole(staged_repo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _stage(staged_repo, "legacy.py", SSN_LINE)
    git(staged_repo, "commit", "-q", "--no-verify", "-m", "chore: legacy")
    assert main([]) == 0  # nothing staged
    assert main(["legacy.py", "README.md"]) == 1  # as `pre-commit run --all-files` calls it
    assert "legacy.py:1:16: SSN" in capsys.readouterr().out
