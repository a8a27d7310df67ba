"""The `conventional-commit` entry of .pre-commit-hooks.yaml, run by the real pre-commit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from signing_env import hook_repo
from testkit import PRE_COMMIT_HOME, git

BIN = Path(sys.executable).parent


def _try_repo(repo: Path, message: str) -> subprocess.CompletedProcess[str]:
    source, rev = hook_repo()
    (repo / "MSG").write_text(message)
    command = [
        str(BIN / "pre-commit"), "try-repo", str(source), "conventional-commit", "--ref", rev,
        "--hook-stage", "commit-msg", "--commit-msg-filename", "MSG", "--verbose",
    ]  # fmt: skip
    env = {**os.environ, "PRE_COMMIT_HOME": str(PRE_COMMIT_HOME)}
    return subprocess.run(
        command, cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=600
    )


@pytest.mark.slow
def test_try_repo_blocks_a_bad_message_and_accepts_a_good_one(repo: Path) -> None:
    git(repo, "config", "core.commentChar", ";")
    bad = _try_repo(repo, "Added the login form.\n; comment\n")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "conventional commit message" in bad.stdout and "Failed" in bad.stdout
    assert "header-format" in bad.stdout
    assert "e.g. `feat: added the login form`" in bad.stdout

    good = _try_repo(repo, "feat(ui): add the login form\n\n#12 asked for it\n; comment\n")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout
