"""The `phi-scan` entry of .pre-commit-hooks.yaml, run by the real pre-commit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from signing_env import hook_repo
from testkit import PRE_COMMIT_HOME, git

BIN = Path(sys.executable).parent


def _pre_commit_run(repo: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """`pre-commit run` of our hook as a user's config pins it.

    Not `try-repo`: that builds the hook environment (Presidio and spaCy) in a temporary store
    on every call; a pinned repo builds it once in the shared PRE_COMMIT_HOME.
    """
    source, rev = hook_repo()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {source}\n  rev: {rev}\n  hooks:\n  - id: phi-scan\n"
    )
    git(repo, "add", ".pre-commit-config.yaml")  # pre-commit refuses an unstaged config
    command = [str(BIN / "pre-commit"), "run", "phi-scan", "--verbose", "--files", *files]
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(PRE_COMMIT_HOME),
        "PIP_CACHE_DIR": str(PRE_COMMIT_HOME.parent / "pip"),  # spaCy wheels are reused
    }
    return subprocess.run(
        command, cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=900
    )


@pytest.mark.slow
def test_pre_commit_blocks_staged_phi_and_passes_clean_files(repo: Path) -> None:
    (repo / "clean.py").write_text("import os\nPORT = 8080\n")
    (repo / "fixture.json").write_text('{"patient": {"ssn": "412-33-9821"}}\n')
    git(repo, "add", "clean.py", "fixture.json")
    found = _pre_commit_run(repo, "clean.py", "fixture.json")
    assert found.returncode == 1, found.stdout + found.stderr
    assert "fixture.json:1:" in found.stdout and "SSN ***-**-****" in found.stdout
    assert "412-33-9821" not in found.stdout + found.stderr
    clean = _pre_commit_run(repo, "clean.py")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout
