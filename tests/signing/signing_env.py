"""Real keys, signed commits and hook installs shared by the signing tests.

Not a conftest.py: a second `conftest` module would shadow `tests/conftest.py` for
`from conftest import …`. Test modules import the fixtures they use from here
(`keys_fixture` provides `keys`, `keyrings_fixture` provides `keyrings`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from testkit import PRE_COMMIT_HOME, ROOT, git

ZERO = "0" * 40
GPG_IGNORE = shutil.ignore_patterns("S.*", "*.lock", ".#*", "random_seed")
HOOK_SOURCES = (
    "pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "gitops_health", "hooks", "rules",
    "bot",
)  # fmt: skip
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class GpgKey:
    home: Path  # keyring holding the secret key (copy it before use: agents write into it)
    fingerprint: str
    public: str  # armored public key


@dataclass(frozen=True)
class SshKey:
    private: Path
    public_path: Path

    @property
    def public(self) -> str:
        return self.public_path.read_text().strip()

    def signer_line(self, principals: str, options: str = 'namespaces="git"') -> str:
        key_type, blob = self.public.split()[:2]
        return " ".join(filter(None, (principals, options, key_type, blob)))


@dataclass(frozen=True)
class Keys:
    alice_gpg: GpgKey
    carol_gpg: GpgKey
    alice_ssh: SshKey
    bob_ssh: SshKey


def kill_agents(home: Path) -> None:
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(["gpgconf", "--kill", "all"], env=env, capture_output=True, check=False)


def gpg(home: Path, *args: str, input: str | None = None) -> str:
    env = {**os.environ, "GNUPGHOME": str(home)}
    result = subprocess.run(
        ["gpg", "--batch", *args], env=env, input=input, capture_output=True, text=True, check=True
    )
    return result.stdout


def make_gpg_key(home: Path, identity: str) -> GpgKey:
    home.mkdir(mode=0o700)
    gpg(home, "--passphrase", "", "--quick-gen-key", identity, "ed25519", "sign", "never")
    colons = gpg(home, "--with-colons", "--list-secret-keys")
    fingerprint = next(line.split(":")[9] for line in colons.splitlines() if line[:4] == "fpr:")
    public = gpg(home, "--armor", "--export", fingerprint)
    kill_agents(home)
    return GpgKey(home, fingerprint, public)


def make_ssh_key(folder: Path, name: str) -> SshKey:
    private = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(private)],
        check=True, capture_output=True,
    )  # fmt: skip
    return SshKey(private, Path(f"{private}.pub"))


@pytest.fixture(scope="session", name="keys")
def keys_fixture(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """Generated once per session (per xdist worker); tests copy the keyrings."""
    folder = tmp_path_factory.mktemp("keys")
    return Keys(
        alice_gpg=make_gpg_key(folder / "alice-gnupg", "Alice Example <alice@example.com>"),
        carol_gpg=make_gpg_key(folder / "carol-gnupg", "Carol Example <carol@example.com>"),
        alice_ssh=make_ssh_key(folder, "alice_ed25519"),
        bob_ssh=make_ssh_key(folder, "bob_ed25519"),
    )


class Keyrings:
    """Per-test copies of the session keyrings; agents started in them die at teardown."""

    def __init__(self, home: Path, keys: Keys) -> None:
        self.home = home
        self.keys = keys
        self.used: list[Path] = [Path(os.environ["GNUPGHOME"])]
        shutil.copytree(keys.alice_gpg.home, self.used[0], ignore=GPG_IGNORE, dirs_exist_ok=True)

    def carol(self) -> Path:
        """A keyring holding Carol's secret key, to sign as someone the verifier may not know."""
        copy = self.home / f"carol-gnupg-{len(self.used)}"
        shutil.copytree(self.keys.carol_gpg.home, copy, ignore=GPG_IGNORE)
        self.used.append(copy)
        return copy

    def close(self) -> None:
        for home in self.used:
            kill_agents(home)


@pytest.fixture(name="keyrings")
def keyrings_fixture(isolated_git: Path, keys: Keys) -> Iterator[Keyrings]:
    """$GNUPGHOME holds Alice's key (ultimately trusted), as after `gpg --quick-gen-key`."""
    rings = Keyrings(isolated_git, keys)
    yield rings
    rings.close()


def commit(
    repo: Path,
    message: str,
    *,
    gpg_key: str = "",
    ssh_key: SshKey | None = None,
    gnupg_home: Path | None = None,
    committer: str = "",
) -> str:
    """Make a commit (empty unless files are staged), signed as asked; returns its id."""
    options: list[str] = []
    if gpg_key:
        options = ["-c", "gpg.format=openpgp", "-c", f"user.signingkey={gpg_key}"]
    if ssh_key is not None:
        options = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={ssh_key.public_path}"]
    sign = ["-S"] if options else ["--no-gpg-sign"]
    env = dict(os.environ)
    if gnupg_home is not None:
        env["GNUPGHOME"] = str(gnupg_home)
    if committer:
        env["GIT_COMMITTER_NAME"], env["GIT_COMMITTER_EMAIL"] = committer.split(":")
    args = ["git", *options, "commit", "-q", "--allow-empty", *sign, "-m", message]
    result = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return git(repo, "rev-parse", "HEAD").strip()


def tamper(repo: Path, sha: str) -> str:
    """Rewrite a signed commit's message, keeping its signature: git then reports B."""
    raw = git(repo, "cat-file", "commit", sha)
    forged = raw.replace("\n\n", "\n\n(tampered) ", 1) if "gpgsig" in raw else raw
    result = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo, input=forged,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout.strip()


def new_repo(path: Path, with_remote: bool = True) -> Path:
    """An empty repo (no commits) with a bare `origin` next to it."""
    path.mkdir(parents=True)
    git(path, "init", "-q")
    if with_remote:
        remote = path.parent / f"{path.name}-origin.git"
        git(path.parent, "init", "-q", "--bare", str(remote))
        git(path, "remote", "add", "origin", str(remote))
    return path


def write_allowed_signers(repo: Path, *lines: str) -> Path:
    path = repo / ".gitops-health" / "allowed_signers"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def write_policy(repo: Path, text: str) -> None:
    (repo / ".gitops-health.yml").write_text(text)


def push(repo: Path, *refspecs: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["git", "push", "origin", *refspecs], cwd=repo, capture_output=True, text=True,
        check=False, timeout=300,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def install_plain_hook(repo: Path) -> None:
    """`.git/hooks/pre-push` as the README shows it, running the installed console script."""
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.write_text(f'#!/bin/sh\nexec "{BIN / "gitops-health"}" verify-push "$@"\n')
    hook.chmod(0o755)


def _source_digest() -> str:
    digest = hashlib.sha256()
    for name in HOOK_SOURCES:
        path = ROOT / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def hook_repo() -> tuple[Path, str]:
    """This project's working tree committed to a throw-away repo, as pre-commit clones it.

    The name is the content digest, so every xdist worker and later sessions share one repo
    (and pre-commit one hook environment) until the sources change; commit dates are fixed so
    the commit id is stable too.
    """
    target = Path(tempfile.gettempdir()) / f"gitops-health-hook-src-{_source_digest()}"
    if not target.exists():
        staging = Path(tempfile.mkdtemp(prefix="gitops-health-hook-src-"))
        for name in HOOK_SOURCES:
            source = ROOT / name
            if source.is_dir():
                ignore = shutil.ignore_patterns("__pycache__")
                shutil.copytree(source, staging / name, ignore=ignore)
            else:
                shutil.copy2(source, staging / name)
        fixed = "2026-01-01T00:00:00Z"
        env = {**os.environ, "GIT_AUTHOR_DATE": fixed, "GIT_COMMITTER_DATE": fixed}
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-gpg-sign", "-m", "src"]):
            subprocess.run(["git", *args], cwd=staging, env=env, check=True, capture_output=True)
        try:
            staging.rename(target)
        except OSError:  # another worker got there first
            shutil.rmtree(staging)
    return target, git(target, "rev-parse", "HEAD").strip()


def install_pre_commit(repo: Path, hook_id: str, hook_type: str) -> None:
    """`pre-commit install` of one of our hooks, exactly as a user's config pins it."""
    source, rev = hook_repo()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {source}\n  rev: {rev}\n  hooks:\n  - id: {hook_id}\n"
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(PRE_COMMIT_HOME)}
    for args in (["install", "--hook-type", hook_type], ["install-hooks"]):
        result = subprocess.run(
            [str(BIN / "pre-commit"), *args], cwd=repo, env=env, capture_output=True, text=True,
            check=False, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
