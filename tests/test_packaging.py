"""The three folders install as gitops_health.{hooks,bot,rules}, editable and as a wheel."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

from testkit import ROOT

MODULES = (
    "gitops_health.cli", "gitops_health.rules.engine", "gitops_health.hooks", "gitops_health.bot",
)  # fmt: skip


def test_editable_install_imports_every_package() -> None:
    for name in MODULES:
        module = __import__(name, fromlist=["_"])
        assert module.__name__ == name


def test_wheel_install_imports_every_package(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("gitops_health-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, system_site_packages=True)
    python = env_dir / "bin" / "python"
    target = tmp_path / "site"
    pip_install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target"]
    subprocess.run([*pip_install, str(target), str(wheel)], check=True, capture_output=True)
    imports = "; ".join(f"import {m}" for m in MODULES)
    code = f"import sys; sys.path.insert(0, {str(target)!r}); {imports}"
    out = subprocess.run(
        [str(python), "-I", "-c", f"{code}; print(gitops_health.rules.engine.__file__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout  # fmt: skip
    assert out.strip().startswith(str(target))
