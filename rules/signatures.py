"""Signed-commit policy: is each commit signed acceptably, and if not, why and how to fix it.

Pure: the front-ends read git's verdict (`%G?`, `%GS`, `%GK`, `%GF`, `%GP`) into
`rules.change.Signature` and pass the allowed_signers text; nothing here runs git or gpg.
Git's own verdict is necessary but not sufficient: for SSH it never ties the signer to the
committer (a key listed for bob verifies alice's commit as G), so the policy compares the
signer identity (SSH principal, GPG uid e-mail) with the committer e-mail itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gitops_health.rules.change import Change, Commit, Signature
from gitops_health.rules.config.signing import SigningConfig, normalize_fingerprint
from gitops_health.rules.report import Finding

STATUS_WORDS = {
    "G": "good signature from a trusted key",
    "B": "bad signature: the commit was changed after it was signed, or the key is not allowed "
    'to sign git commits (allowed_signers `namespaces` without "git")',
    "U": "good signature, but the key's validity is unknown (GPG key not trusted, "
    "or SSH key not listed for any principal in the allowed-signers file)",
    "X": "good signature that has expired",
    "Y": "good signature made by a key that has since expired",
    "R": "good signature made by a key that has been revoked",
    "E": "the signature cannot be checked (the signer's public key is missing, "
    "or the verifying program failed)",
    "N": "no signature (SSH signatures also show as N when no allowed-signers file is configured)",
}

RESIGN = "git rebase --exec 'git commit --amend --no-edit -S' {base}"

_SSH_KEY_TYPE = re.compile(r"(?:ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+")
_KNOWN_OPTIONS = ("cert-authority", "namespaces", "valid-after", "valid-before")
_VALID_TIME = re.compile(r"\d{8}(?:\d{4}(?:\d{2})?)?Z?")
_EMAIL = re.compile(r"[^\s<>\"',;:()/=]+@[^\s<>\"',;:()/=]+")


def explain_status(status: str) -> str:
    return STATUS_WORDS.get(status, f"unknown signature status {status!r}")


# --- allowed_signers (OpenSSH `ssh-keygen` ALLOWED SIGNERS format) -------------------------


@dataclass(frozen=True)
class AllowedSigner:
    """One line: `principals [options] keytype base64-key [comment]`."""

    principals: tuple[str, ...]  # patterns: `*`, `?` and a leading `!` negation, as in OpenSSH
    key_type: str
    key: str  # base64 public-key blob
    options: tuple[tuple[str, str], ...] = ()
    line: int = 0

    @property
    def fingerprint(self) -> str:
        """`SHA256:…`, as `ssh-keygen -l` and git's %GK print it."""
        digest = hashlib.sha256(base64.b64decode(self.key)).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    @property
    def cert_authority(self) -> bool:
        return any(name == "cert-authority" for name, _ in self.options)

    def allows(self, identity: str) -> bool:
        return principal_matches(identity, self.principals)


@dataclass(frozen=True)
class AllowedSigners:
    signers: tuple[AllowedSigner, ...] = ()
    errors: tuple[tuple[int, str], ...] = ()  # (line, problem)

    def for_key(self, fingerprint: str) -> tuple[AllowedSigner, ...]:
        return tuple(s for s in self.signers if s.fingerprint == fingerprint)

    @property
    def has_cert_authority(self) -> bool:
        return any(s.cert_authority for s in self.signers)


def _split_fields(line: str) -> list[str]:
    """Whitespace-separated fields; double quotes protect spaces (as OpenSSH's strdelimw)."""
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
            current.append(char)
        elif char.isspace() and not quoted:
            if current:
                fields.append("".join(current))
                current = []
        else:
            current.append(char)
    if quoted:
        raise ValueError("unbalanced double quote")
    if current:
        fields.append("".join(current))
    return fields


def _split_options(text: str) -> tuple[tuple[str, str], ...]:
    options: list[tuple[str, str]] = []
    for item in re.findall(r'(?:[^,"]|"[^"]*")+', text):
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in _KNOWN_OPTIONS:
            known = ", ".join(_KNOWN_OPTIONS)
            raise ValueError(f"unknown option {name!r} (known: {known})")
        value = value.strip().strip('"')
        if name.startswith("valid-") and not _VALID_TIME.fullmatch(value):
            raise ValueError(f"{name} must be YYYYMMDD[HHMM[SS]][Z], got {value!r}")
        options.append((name, value))
    return tuple(options)


def _check_key(key_type: str, key: str) -> None:
    try:
        blob = base64.b64decode(key, validate=True)
        (length,) = struct.unpack(">I", blob[:4])
        embedded = blob[4 : 4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError) as exc:
        raise ValueError("the key is not valid base64 OpenSSH public-key data") from exc
    if embedded != key_type:
        raise ValueError(f"key type {key_type!r} does not match the key data ({embedded!r})")


def parse_signer_line(line: str, number: int = 0) -> AllowedSigner:
    """Parse one non-comment line; raises ValueError naming what is wrong."""
    fields = _split_fields(line)
    if len(fields) < 3:
        raise ValueError("expected `principals [options] keytype key`")
    principals = tuple(p for p in fields[0].strip('"').split(",") if p)
    if not principals:
        raise ValueError("no principal (the e-mail the key may sign for) before the key")
    options: tuple[tuple[str, str], ...] = ()
    rest = fields[1:]
    if not _SSH_KEY_TYPE.fullmatch(rest[0]):
        options = _split_options(rest[0])
        rest = rest[1:]
    if len(rest) < 2 or not _SSH_KEY_TYPE.fullmatch(rest[0]):
        raise ValueError("expected a key type such as ssh-ed25519 followed by the base64 key")
    _check_key(rest[0], rest[1])
    return AllowedSigner(principals, rest[0], rest[1], options, number)


def parse_allowed_signers(text: str) -> AllowedSigners:
    """Parse an allowed_signers file; bad lines are reported in `errors`, never raised."""
    signers: list[AllowedSigner] = []
    errors: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            signers.append(parse_signer_line(line, number))
        except ValueError as exc:
            errors.append((number, str(exc)))
    return AllowedSigners(tuple(signers), tuple(errors))


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE)


def principal_matches(identity: str, patterns: Iterable[str]) -> bool:
    """OpenSSH pattern-list semantics: any negated match vetoes, else any positive match."""
    matched = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _pattern_regex(pattern.lstrip("!")).fullmatch(identity):
            if negated:
                return False
            matched = True
    return matched


# --- the policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureProblem:
    """Why one commit's signature is not acceptable, and how to fix it."""

    commit: Commit
    rule: str
    problem: str
    fix: str  # what to change first
    resign: bool = True  # the commit must then be signed again (RESIGN)

    @property
    def status_words(self) -> str:
        return explain_status(self.commit.signature.status)


def signature_format(signature: Signature) -> str:
    """openpgp | ssh | x509, or "" when git could not tell (unsigned, some bad signatures)."""
    if signature.format:
        return signature.format
    if signature.key.startswith("SHA256:"):
        return "ssh"
    return "openpgp" if signature.key else ""


def _identity_emails(signer: str) -> set[str]:
    return {m.lower() for m in _EMAIL.findall(signer)}


def _signer_is_committer(commit: Commit, signers: AllowedSigners | None) -> bool:
    signature, committer = commit.signature, commit.committer
    if signature_format(signature) == "ssh":
        if principal_matches(committer.email, signature.signer.split(",")):
            return True
        listed = signers.for_key(signature.key) if signers is not None else ()
        return any(entry.allows(committer.email) for entry in listed)
    if committer.email.lower() in _identity_emails(signature.signer):
        return True
    return bool(committer.name) and signature.signer.strip() == committer.name


def _is_exempt(commit: Commit, config: SigningConfig) -> bool:
    committer = commit.committer
    names = [n for n in (committer.email, committer.name, committer.login) if n]
    return any(principal_matches(n, [p]) for p in config.exempt_identities for n in names)


def _ssh_entry(commit: Commit, path: str) -> str:
    """The shell command that lists the signer's public key for the committer's e-mail."""
    email = commit.committer.email or "you@example.com"
    return f'echo "{email} namespaces=\\"git\\" $(cat ~/.ssh/id_ed25519.pub)" >> {path}'


_INVALID_FIXES = {
    "B": "sign again with your own key; for an SSH key, give its allowed_signers entry "
    '`namespaces="git"` or no namespaces option',
    "E": "import the signer's public key (`gpg --import KEYFILE` or `gpg --recv-keys KEY`), "
    "or sign again with your own key",
    "X": "sign again",
    "Y": "extend the key's expiry (`gpg --quick-set-expire FINGERPRINT 1y`), or sign again with "
    "a key that has not expired",
    "R": "sign again with a key that is not revoked",
}


def _status_problem(commit: Commit, config: SigningConfig) -> SignatureProblem | None:
    """A problem with git's verdict letter itself, or None when the letter is acceptable."""
    signature = commit.signature
    status = signature.status
    if status == "G":
        return None
    if status == "N":
        if not config.required or (commit.is_merge and config.allow_unsigned_merges):
            return None
        fix = "turn signing on (`git config commit.gpgsign true`; `gitops-health signing-check`)"
        return SignatureProblem(commit, "signature-missing", "the commit is not signed", fix)
    if status == "U" and signature_format(signature) == "ssh":
        entry = _ssh_entry(commit, config.allowed_signers_file)
        fix = f"list the key (`{entry}`, then commit that file), or sign with a listed key"
        problem = f"the SSH key is not in {config.allowed_signers_file} (or not yet valid)"
        return SignatureProblem(commit, "signer-not-allowed", problem, fix, resign=False)
    if status == "U":
        if config.accept_unknown_validity:
            return None
        fix = (
            f"if you trust the key, certify it locally (`gpg --lsign-key {signature.key or 'KEY'}`)"
            ", or set `signing.accept_unknown_validity: true` in .gitops-health.yml"
        )
        problem = "the GPG key is not trusted"
        return SignatureProblem(commit, "signature-untrusted", problem, fix, resign=False)
    fix = _INVALID_FIXES.get(status, "sign again")
    return SignatureProblem(
        commit, "signature-invalid", "the signature is not valid", fix, resign=status != "E"
    )


def _listed(key: str, signers: AllowedSigners) -> bool:
    """Is the SSH key listed? Certificates are trusted through their CA: git decided those."""
    return not key or signers.has_cert_authority or bool(signers.for_key(key))


def _gpg_key_allowed(signature: Signature, fingerprints: Sequence[str]) -> bool:
    """Full fingerprints or long key ids match the signing (sub)key or its primary key."""
    allowed = {normalize_fingerprint(f) for f in fingerprints}
    keys = {normalize_fingerprint(k) for k in (signature.key, signature.primary_key) if k}
    return any(k.endswith(a) or a.endswith(k) for k in keys if len(k) >= 16 for a in allowed)


def _key_problem(
    commit: Commit, config: SigningConfig, signers: AllowedSigners | None
) -> SignatureProblem | None:
    """Key and format restrictions of the policy, for a signature git accepted."""
    signature = commit.signature
    fmt = signature_format(signature)
    if fmt and fmt not in config.formats:
        allowed = ", ".join(config.formats)
        fix = f"sign with one of {allowed} (`git config gpg.format {config.formats[0]}`)"
        problem = f"{fmt} signatures are not accepted by the policy"
        return SignatureProblem(commit, "format-not-allowed", problem, fix)
    if fmt == "ssh" and signers is not None and not _listed(signature.key, signers):
        entry = _ssh_entry(commit, config.allowed_signers_file)
        fix = f"list the key (`{entry}`, then commit that file), or sign with a listed key"
        problem = f"the SSH key {signature.key} is not in {config.allowed_signers_file}"
        return SignatureProblem(commit, "signer-not-allowed", problem, fix, resign=False)
    fingerprints = config.gpg_fingerprints
    if fmt == "openpgp" and fingerprints and not _gpg_key_allowed(signature, fingerprints):
        problem = f"the GPG key {signature.key} is not in signing.gpg_fingerprints"
        fix = (
            "sign with an allowed key (`git config user.signingkey FINGERPRINT`), or add the "
            "key's fingerprint to signing.gpg_fingerprints"
        )
        return SignatureProblem(commit, "key-not-allowed", problem, fix)
    return None


def _identity_problem(commit: Commit, signers: AllowedSigners | None) -> SignatureProblem | None:
    if _signer_is_committer(commit, signers):
        return None
    signer = commit.signature.signer or "an unnamed key"
    committer = commit.committer.email or commit.committer.name
    problem = f"signed by {signer}, but committed by {committer}"
    fix = (
        f"sign with a key that belongs to {committer} (GPG uid e-mail or SSH principal), "
        "or commit as the key's owner (`git config user.email OWNER-EMAIL`)"
    )
    return SignatureProblem(commit, "signer-not-committer", problem, fix)


def check_commit(
    commit: Commit, config: SigningConfig, signers: AllowedSigners | None = None
) -> SignatureProblem | None:
    """The first reason `commit` is not acceptably signed, or None when it is."""
    if _is_exempt(commit, config):
        return None
    problem = _status_problem(commit, config)
    if problem is not None or not commit.signature.is_signed:
        return problem
    problem = _key_problem(commit, config, signers)
    if problem is None and config.signer_must_be_committer:
        problem = _identity_problem(commit, signers)
    return problem


def check_commits(
    commits: Sequence[Commit], config: SigningConfig, signers: AllowedSigners | None = None
) -> list[SignatureProblem]:
    checked = (check_commit(commit, config, signers) for commit in commits)
    return [problem for problem in checked if problem is not None]


def allowed_signers_findings(signers: AllowedSigners, path: str) -> list[Finding]:
    """Lines of the allowed-signers file that do not parse (ssh-keygen skips them too)."""
    return [
        Finding(
            kind="signature",
            rule="allowed-signers-syntax",
            message=f"{path}:{line}: {problem} (line ignored)",
            path=path,
            line=line,
            severity="warning",
        )
        for line, problem in signers.errors
    ]


def problem_finding(problem: SignatureProblem) -> Finding:
    commit = problem.commit
    status = commit.signature.status
    resign = f", then re-sign: `{RESIGN.format(base='BASE')}`" if problem.resign else ""
    message = (
        f"{commit.sha[:12]} {commit.subject!r}: {problem.problem} "
        f"[{status}: {explain_status(status)}]. Fix: {problem.fix}{resign}"
    )
    return Finding(kind="signature", rule=problem.rule, message=message, commit=commit.sha)


def signature_findings(change: Change, config: SigningConfig) -> list[Finding]:
    """Findings for every commit of `change` whose signature the policy does not accept."""
    text = change.base_files.get(config.allowed_signers_file)
    signers = parse_allowed_signers(text) if text is not None else None
    findings = []
    if signers is not None:
        findings = allowed_signers_findings(signers, config.allowed_signers_file)
    findings += [problem_finding(p) for p in check_commits(change.commits, config, signers)]
    return findings
