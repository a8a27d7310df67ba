"""`gitops-health signing-check`: is this clone set up to sign commits the policy accepts?

A commit-msg or pre-commit hook cannot see the signature of the commit being made, so this
checks the set-up instead: `commit.gpgsign`, `gpg.format`, a usable `user.signingkey` and, for
SSH, an allowed-signers file listing the key. Every failure prints the command that fixes it.
The signatures themselves are verified at push time by `gitops-health verify-push`.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitops_health.hooks.verify_push import GitError, allowed_signers_path, repo_root
from gitops_health.rules.config.policy import find_policy
from gitops_health.rules.config.schema import ConfigInvalid
from gitops_health.rules.config.signing import SigningConfig
from gitops_health.rules.signatures import parse_allowed_signers

FORMATS = ("openpgp", "ssh", "x509")
TRUE_VALUES = {"", "true", "yes", "on", "1"}
SSH_KEY_PREFIXES = ("ssh-", "ecdsa-", "sk-")
UNUSABLE_VALIDITY = set("erdi")  # expired, revoked, disabled, invalid (gpg --with-colons)
TIMEOUT = 30


@dataclass(frozen=True)
class Failure:
    problem: str
    fixes: tuple[str, ...]


@dataclass(frozen=True)
class Setup:
    """What the checks need to know about the clone."""

    root: Path
    config: dict[str, str]  # git config, keys lower-cased as `git config --get-regexp` prints
    policy: SigningConfig

    def get(self, key: str, default: str = "") -> str:
        return self.config.get(key.lower(), default)

    @property
    def email(self) -> str:
        return self.get("user.email")


def read_git_config(root: Path) -> dict[str, str]:
    """Signing-related git config (all scopes), `~` in paths expanded."""
    pattern = r"^(commit\.gpgsign|gpg\..*|user\..*)$"
    args = ["config", "--null", "--type=path", "--get-regexp", pattern]
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    config = {}
    for entry in result.stdout.split("\0"):
        if entry:
            key, _, value = entry.partition("\n")
            config[key] = value
    return config


def _run(*command: str) -> subprocess.CompletedProcess[str] | None:
    """Run a helper program; None when it is missing or hangs."""
    try:
        return subprocess.run(
            command, capture_output=True, text=True, errors="replace", check=False,
            timeout=TIMEOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None


def check_gpgsign(setup: Setup) -> list[Failure]:
    value = setup.config.get("commit.gpgsign")
    if value is not None and value.lower() in TRUE_VALUES:
        return []
    problem = "commit.gpgsign is not true: git will not sign your commits"
    return [Failure(problem, ("git config commit.gpgsign true",))]


def check_format(setup: Setup) -> tuple[str | None, list[Failure]]:
    """The signing format, or None when git or the policy rejects it."""
    fmt = setup.get("gpg.format", "openpgp").lower()
    allowed = setup.policy.formats
    if fmt in FORMATS and fmt in allowed:
        return fmt, []
    known = "a format git knows" if fmt in FORMATS else "one of openpgp, ssh, x509"
    if fmt in FORMATS:
        known = f"accepted by the policy (signing.formats: {', '.join(allowed)})"
    problem = f"gpg.format is {fmt!r}, not {known}"
    return None, [Failure(problem, tuple(f"git config gpg.format {f}" for f in allowed))]


# --- OpenPGP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretKey:
    fingerprint: str
    usable: bool  # can sign: not expired/revoked, signing capability
    emails: tuple[str, ...]


def parse_secret_keys(colons: str) -> list[SecretKey]:
    """`gpg --with-colons --list-secret-keys` output → one SecretKey per primary key."""
    keys: list[SecretKey] = []
    fingerprint, usable, emails = "", False, []
    for line in [*colons.splitlines(), "sec:"]:
        fields = line.split(":")
        if fields[0] == "sec":
            if fingerprint:
                keys.append(SecretKey(fingerprint, usable, tuple(emails)))
            fingerprint, emails = "", []
            capabilities = fields[11] if len(fields) > 11 else ""
            usable = fields[1] not in UNUSABLE_VALIDITY and "S" in capabilities
        elif fields[0] == "fpr" and not fingerprint and len(fields) > 9:
            fingerprint = fields[9]
        elif fields[0] == "uid" and len(fields) > 9 and fields[1] not in UNUSABLE_VALIDITY:
            uid = fields[9]
            emails.append(uid[uid.find("<") + 1 : uid.rfind(">")].lower() if "<" in uid else uid)
    return keys


def _gpg_program(setup: Setup, fmt: str) -> str:
    if fmt == "x509":
        return setup.get("gpg.x509.program", "gpgsm")
    return setup.get("gpg.openpgp.program") or setup.get("gpg.program", "gpg")


def _generate_gpg_key(setup: Setup) -> tuple[str, ...]:
    identity = f"{setup.get('user.name', 'Your Name')} <{setup.email or 'you@example.com'}>"
    return (
        f"gpg --quick-gen-key {shlex.quote(identity)} ed25519 sign 2y",
        "git config user.signingkey FINGERPRINT  # the fpr line of `gpg --list-secret-keys`",
    )


def check_openpgp(setup: Setup) -> list[Failure]:
    program = _gpg_program(setup, "openpgp")
    if shutil.which(program) is None:
        problem = f"the GPG program {program!r} is not installed"
        return [Failure(problem, ("apt-get install gnupg", "git config gpg.program /path/to/gpg"))]
    key = setup.get("user.signingkey") or setup.email
    if not key:
        problem = "neither user.signingkey nor user.email is set: git cannot pick a GPG key"
        return [Failure(problem, ("git config user.signingkey FINGERPRINT",))]
    listed = _run(program, "--batch", "--with-colons", "--list-secret-keys", "--", key)
    keys = [k for k in parse_secret_keys(listed.stdout if listed else "") if k.usable]
    if not keys:
        problem = f"no usable GPG secret key for {key!r} (missing, expired, revoked or sign-less)"
        return [Failure(problem, _generate_gpg_key(setup))]
    if setup.policy.signer_must_be_committer and not _key_has_email(keys, setup.email):
        problem = f"the GPG key {key!r} has no user id with your commit e-mail {setup.email}"
        identity = shlex.quote(f"{setup.get('user.name', 'Your Name')} <{setup.email}>")
        fixes = (
            f"gpg --quick-add-uid {keys[0].fingerprint} {identity}",
            f"git config user.email {shlex.quote(keys[0].emails[0] if keys[0].emails else '')}",
        )
        return [Failure(problem, fixes)]
    return []


def _key_has_email(keys: Sequence[SecretKey], email: str) -> bool:
    return not email or any(email.lower() in key.emails for key in keys)


# --- SSH -------------------------------------------------------------------------------------


def _agent_keys() -> list[str]:
    listed = _run("ssh-add", "-L")
    return listed.stdout.splitlines() if listed is not None and listed.returncode == 0 else []


def _key_blob(public_key: str) -> str:
    parts = public_key.split()
    return parts[1] if len(parts) > 1 else ""


def _suggest_key_file() -> str:
    candidates = sorted((Path.home() / ".ssh").glob("*.pub"))
    return str(candidates[0]) if candidates else "~/.ssh/id_ed25519.pub"


def ssh_public_key(setup: Setup) -> tuple[str, list[Failure]]:
    """The public key git will sign with, or the failures that make it unusable."""
    value = setup.get("user.signingkey")
    if not value:
        if setup.get("gpg.ssh.defaultkeycommand"):
            return "", []
        problem = "user.signingkey is not set: git needs it to sign with SSH"
        fixes = (f"git config user.signingkey {_suggest_key_file()}",)
        return "", [Failure(problem, (*fixes, "ssh-keygen -t ed25519  # if you have no key"))]
    literal = value.removeprefix("key::")
    if literal.startswith(SSH_KEY_PREFIXES):
        if any(_key_blob(k) == _key_blob(literal) for k in _agent_keys()):
            return literal, []
        problem = "user.signingkey is a literal public key, but ssh-agent does not hold its key"
        return literal, [Failure(problem, ("ssh-add PRIVATE-KEY-FILE",))]
    return _key_file(Path(value))


def _key_file(path: Path) -> tuple[str, list[Failure]]:
    fix = (f"git config user.signingkey {_suggest_key_file()}",)
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError as exc:
        problem = f"user.signingkey {str(path)!r} cannot be read ({exc.strerror})"
        return "", [Failure(problem, fix)]
    if text.startswith(SSH_KEY_PREFIXES):  # a public key: git signs with its private half
        private = path.with_suffix("") if path.suffix == ".pub" else None
        in_agent = any(_key_blob(k) == _key_blob(text) for k in _agent_keys())
        if in_agent or (private is not None and private.is_file()):
            return text, []
        problem = f"no private key next to {path} and ssh-agent does not hold it"
        return text, [Failure(problem, (f"ssh-add {private or 'PRIVATE-KEY-FILE'}",))]
    if "PRIVATE KEY" in text:
        public = Path(f"{path}.pub")
        return (public.read_text().strip() if public.is_file() else ""), []
    return "", [Failure(f"user.signingkey {str(path)!r} is not an SSH key file", fix)]


def check_allowed_signers(setup: Setup, public_key: str) -> list[Failure]:
    path = allowed_signers_path(setup.root, setup.policy)
    repo_file = setup.policy.allowed_signers_file
    if path is None:
        problem = (
            "no allowed-signers file: SSH signatures cannot be verified "
            f"(neither {repo_file} in the repo nor gpg.ssh.allowedSignersFile exists)"
        )
        entry = f'{setup.email or "you@example.com"} namespaces=\\"git\\" $(cat KEY.pub)'
        fixes = (
            f'mkdir -p {Path(repo_file).parent} && echo "{entry}" >> {repo_file}',
            f'git config gpg.ssh.allowedSignersFile "$(git rev-parse --show-toplevel)/{repo_file}"',
        )
        return [Failure(problem, fixes)]
    signers = parse_allowed_signers(path.read_text(encoding="utf-8", errors="replace"))
    failures = [Failure(f"{path}:{line}: {text}", ()) for line, text in signers.errors]
    blob = _key_blob(public_key)
    if blob and not signers.has_cert_authority:
        listed = [s for s in signers.signers if s.key == blob and s.allows(setup.email)]
        if not listed:
            problem = f"your signing key is not listed for {setup.email or 'your e-mail'} in {path}"
            entry = f'{setup.email} namespaces=\\"git\\" {" ".join(public_key.split()[:2])}'
            failures.append(Failure(problem, (f'echo "{entry}" >> {path}',)))
    return failures


def check_ssh(setup: Setup) -> list[Failure]:
    if shutil.which(setup.get("gpg.ssh.program", "ssh-keygen")) is None:
        problem = "ssh-keygen (OpenSSH ≥ 8.2) is not installed"
        return [Failure(problem, ("apt-get install openssh-client",))]
    public_key, failures = ssh_public_key(setup)
    return failures + check_allowed_signers(setup, public_key)


def check_x509(setup: Setup) -> list[Failure]:
    program = _gpg_program(setup, "x509")
    if shutil.which(program) is not None:
        return []
    problem = f"the X.509 signing program {program!r} is not installed"
    return [Failure(problem, ("git config gpg.x509.program gitsign", "apt-get install gpgsm"))]


KEY_CHECKS = {"openpgp": check_openpgp, "ssh": check_ssh, "x509": check_x509}


def check_setup(setup: Setup) -> list[Failure]:
    failures = check_gpgsign(setup)
    fmt, format_failures = check_format(setup)
    failures += format_failures
    if fmt is not None:
        failures += KEY_CHECKS[fmt](setup)
    return failures


def format_failures(failures: Sequence[Failure]) -> str:
    lines = [f"gitops-health signing-check: {len(failures)} problem(s) with commit signing:"]
    for failure in failures:
        lines.append(f"  ✗ {failure.problem}")
        lines += [f"      fix: {fix}" for fix in failure.fixes]
    lines.append("Push-time verification: `gitops-health verify-push` (the signed-commits hook).")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="gitops-health signing-check",
        description="Check that this clone signs commits the way .gitops-health.yml requires.",
    )


def main(argv: Sequence[str] | None = None) -> int:
    build_parser().parse_args(argv)
    try:
        root = repo_root()
        setup = Setup(root, read_git_config(root), find_policy(root).signing)
    except (GitError, ConfigInvalid, OSError) as exc:
        print(f"gitops-health signing-check: {exc}", file=sys.stderr)
        return 2
    if not setup.policy.required:
        return 0
    failures = check_setup(setup)
    if failures:
        print(format_failures(failures))
        return 1
    fmt = setup.get("gpg.format", "openpgp")
    print(f"gitops-health signing-check: commits will be signed ({fmt}).")
    return 0
