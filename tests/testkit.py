"""Helpers shared by the test folders: `from testkit import git, ROOT`.

Not in conftest.py: several folders have their own conftest.py, so the module name
`conftest` is ambiguous to import from; `tests/` is on sys.path (pytest `pythonpath`).
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"
PRE_COMMIT_HOME = ROOT / ".cache" / "pre-commit"


def git(repo: Path, *args: str, input: str | None = None, check: bool = True) -> str:
    """Run git in `repo` and return its stdout."""
    result = subprocess.run(
        ["git", *args], cwd=repo, input=input, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def service_available(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip when a scale-mode service is absent, except in CI where it must be there."""
    if service_available(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("GITOPS_HEALTH_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}, and CI requires it (GITOPS_HEALTH_REQUIRE_SERVICES=1)")
    pytest.skip(message)
