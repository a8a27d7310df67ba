"""Helpers shared by the test folders: `from testkit import git, ROOT`.

Not in conftest.py: several folders have their own conftest.py, so the module name
`conftest` is ambiguous to import from; `tests/` is on sys.path (pytest `pythonpath`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from typing import NoReturn

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
    if not service_available(host, port):
        _skip_or_fail(f"{name} is not reachable on {host}:{port}")


def require_binary(name: str) -> str:
    """The path of a program a test runs (e.g. redis-server); skip or fail as above."""
    path = shutil.which(name)
    if path is None:
        _skip_or_fail(f"{name} is not installed")
    return str(path)


def _skip_or_fail(message: str) -> NoReturn:
    if os.environ.get("GITOPS_HEALTH_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}, and CI requires it (GITOPS_HEALTH_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(
    process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20.0
) -> None:
    """Send `sig` (SIGTERM by default), wait for the exit; kill it if it does not come."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
