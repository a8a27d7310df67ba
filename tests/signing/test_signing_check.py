"""`gitops-health signing-check` against real git config, GPG keyrings and SSH keys."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from signing_env import (  # noqa: F401  (fixtures)
    Keys,
    git,
    install_pre_commit,
    keyrings_fixture,
    keys_fixture,
    write_allowed_signers,
    write_policy,
)

from gitops_health.hooks import signing_check
from gitops_health.hooks.signing_check import parse_secret_keys


@pytest.fixture
def clone(repo: Path, keyrings, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The conftest repo as the current directory, with Alice's GPG key and no ssh-agent."""
    monkeypatch.chdir(repo)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return repo


def check(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = signing_check.main([])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def configure(repo: Path, **settings: str) -> None:
    for key, value in settings.items():
        git(repo, "config", key.replace("__", "."), value)


def use_gpg(repo: Path, keys: Keys) -> None:
    configure(repo, commit__gpgsign="true", user__signingkey=keys.alice_gpg.fingerprint)


def use_ssh(repo: Path, key: Path) -> None:
    configure(repo, commit__gpgsign="true", gpg__format="ssh", user__signingkey=str(key))


@pytest.fixture
def ssh_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A real ssh-agent on a private socket, stopped by its pid at teardown."""
    socket = tmp_path / "agent.sock"
    started = subprocess.run(
        ["ssh-agent", "-s", "-a", str(socket)], check=True, capture_output=True, text=True
    ).stdout
    pid = int(re.search(r"SSH_AGENT_PID=(\d+)", started).group(1))
    monkeypatch.setenv("SSH_AUTH_SOCK", str(socket))
    yield {**os.environ, "SSH_AUTH_SOCK": str(socket)}
    os.kill(pid, signal.SIGTERM)


def test_commit_gpgsign_off_prints_the_git_config_fix(clone, keys, capsys):
    configure(clone, user__signingkey=keys.alice_gpg.fingerprint)
    code, out = check(capsys)
    assert code == 1
    assert "commit.gpgsign is not true" in out and "fix: git config commit.gpgsign true" in out


def test_gpg_good_setup_passes(clone, keys, capsys):
    use_gpg(clone, keys)
    assert check(capsys) == (0, "gitops-health signing-check: commits will be signed (openpgp).\n")


def test_gpg_default_key_is_found_by_user_email(clone, capsys):
    configure(clone, commit__gpgsign="true")
    assert check(capsys)[0] == 0


def test_unknown_gpg_format(clone, keys, capsys):
    use_gpg(clone, keys)
    configure(clone, gpg__format="pgp")
    code, out = check(capsys)
    assert code == 1 and "gpg.format is 'pgp'" in out and "fix: git config gpg.format ssh" in out


def test_format_the_policy_does_not_accept(clone, keys, capsys):
    use_gpg(clone, keys)
    write_policy(clone, "signing:\n  formats: [ssh]\n")
    code, out = check(capsys)
    assert code == 1 and "not accepted by the policy" in out
    assert "fix: git config gpg.format ssh" in out


def test_gpg_secret_key_missing(clone, capsys):
    configure(clone, commit__gpgsign="true", user__signingkey="0123456789ABCDEF")
    code, out = check(capsys)
    assert code == 1 and "no usable GPG secret key for '0123456789ABCDEF'" in out
    assert "gpg --quick-gen-key 'Alice Example <alice@example.com>' ed25519 sign 2y" in out


def test_gpg_key_without_the_commit_email(clone, keys, capsys):
    use_gpg(clone, keys)
    configure(clone, user__email="alice@work.example")
    code, out = check(capsys)
    assert code == 1 and "no user id with your commit e-mail alice@work.example" in out
    assert f"gpg --quick-add-uid {keys.alice_gpg.fingerprint}" in out


def test_gpg_program_missing(clone, keys, capsys):
    use_gpg(clone, keys)
    configure(clone, gpg__program="/nonexistent/gpg")
    code, out = check(capsys)
    assert code == 1 and "'/nonexistent/gpg' is not installed" in out


def test_ssh_without_signing_key(clone, capsys):
    configure(clone, commit__gpgsign="true", gpg__format="ssh")
    code, out = check(capsys)
    assert code == 1 and "user.signingkey is not set" in out
    assert "fix: git config user.signingkey" in out


def test_ssh_key_file_unreadable(clone, capsys):
    use_ssh(clone, clone / "missing.pub")
    code, out = check(capsys)
    assert code == 1 and "cannot be read" in out


def test_ssh_public_key_without_private_key_or_agent(clone, keys, tmp_path, capsys):
    lonely = tmp_path / "lonely.pub"
    shutil.copy(keys.alice_ssh.public_path, lonely)
    use_ssh(clone, lonely)
    write_allowed_signers(clone, keys.alice_ssh.signer_line("alice@example.com"))
    code, out = check(capsys)
    assert code == 1 and "no private key next to" in out and "ssh-add" in out


def test_ssh_without_allowed_signers_file(clone, keys, capsys):
    use_ssh(clone, keys.alice_ssh.public_path)
    code, out = check(capsys)
    assert code == 1 and "no allowed-signers file" in out
    assert 'git config gpg.ssh.allowedSignersFile "$(git rev-parse --show-toplevel)/' in out


def test_ssh_key_listed_for_someone_else(clone, keys, capsys):
    use_ssh(clone, keys.alice_ssh.public_path)
    write_allowed_signers(clone, keys.alice_ssh.signer_line("bob@example.com"))
    code, out = check(capsys)
    assert code == 1 and "not listed for alice@example.com" in out
    assert 'echo "alice@example.com namespaces=\\"git\\" ssh-ed25519 ' in out


def test_ssh_good_with_repo_file_or_git_config(clone, keys, tmp_path, capsys):
    use_ssh(clone, keys.alice_ssh.public_path)
    signers = write_allowed_signers(clone, keys.alice_ssh.signer_line("alice@example.com"))
    assert check(capsys)[0] == 0
    moved = signers.rename(tmp_path / "allowed")
    configure(clone, gpg__ssh__allowedSignersFile=str(moved))
    assert check(capsys)[0] == 0


def test_ssh_literal_key_must_be_in_the_agent(clone, keys, ssh_agent, capsys):
    use_ssh(clone, keys.alice_ssh.public_path)
    configure(clone, user__signingkey=f"key::{keys.alice_ssh.public}")
    write_allowed_signers(clone, keys.alice_ssh.signer_line("alice@example.com"))
    code, out = check(capsys)
    assert code == 1 and "ssh-agent does not hold its key" in out
    subprocess.run(["ssh-add", "-q", str(keys.alice_ssh.private)], env=ssh_agent, check=True)
    assert check(capsys)[0] == 0


def test_allowed_signers_syntax_errors_are_reported(clone, keys, capsys):
    use_ssh(clone, keys.alice_ssh.public_path)
    write_allowed_signers(
        clone, "# team keys", keys.alice_ssh.signer_line("alice@example.com"),
        "bob@example.com ssh-ed25519 not-base64!",
    )  # fmt: skip
    code, out = check(capsys)
    assert code == 1 and "allowed_signers:3: the key is not valid base64" in out


def test_x509_program(clone, capsys):
    configure(clone, commit__gpgsign="true", gpg__format="x509", gpg__x509__program="gitsign-x")
    code, out = check(capsys)
    assert code == 1 and "'gitsign-x' is not installed" in out
    assert "git config gpg.x509.program gitsign" in out
    configure(clone, gpg__x509__program="gpgsm")
    assert check(capsys)[0] == (0 if shutil.which("gpgsm") else 1)


def test_signing_not_required_by_policy(clone, capsys):
    write_policy(clone, "signing:\n  required: false\n")
    assert check(capsys) == (0, "")


def test_outside_a_repository(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out = check(capsys)
    assert code == 2 and "not a git repository" in out and "Traceback" not in out


def test_parse_secret_keys_skips_expired_and_collects_emails():
    colons = (
        "sec:e:255:22:AAAA:1::::::scSC:::+:::\nfpr:::::::::AAAA:\nuid:e::::::::Old <old@x>:\n"
        "sec:u:255:22:BBBB:1::::::scSC:::+:::\nfpr:::::::::BBBB:\nuid:u::::::::New <New@X>:\n"
        "uid:r::::::::Gone <gone@x>:\n"
    )
    keys = parse_secret_keys(colons)
    assert [(k.fingerprint, k.usable, k.emails) for k in keys] == [
        ("AAAA", False, ()), ("BBBB", True, ("new@x",)),
    ]  # fmt: skip


@pytest.mark.slow
def test_pre_commit_installed_commit_msg_hook_blocks_an_unsigned_setup(clone, keys):
    install_pre_commit(clone, "signing-check", "commit-msg")
    result = subprocess.run(
        ["git", "commit", "--allow-empty", "-m", "chore: try"], cwd=clone, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "fix: git config commit.gpgsign true" in output
    use_gpg(clone, keys)
    git(clone, "commit", "-q", "--allow-empty", "-m", "chore: signed now")
    assert git(clone, "log", "-1", "--format=%G?").strip() == "G"
