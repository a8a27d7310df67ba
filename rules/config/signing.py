"""`signing:` section: which commit signatures are acceptable."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

_FINGERPRINT = re.compile(r"(?:[0-9A-F]{16}|[0-9A-F]{40}|[0-9A-F]{64})")


def normalize_fingerprint(value: str) -> str:
    """`0xabcd 1234 …` → `ABCD1234…`: the form git prints in %GF / %GK."""
    text = value.strip().upper().replace(" ", "")
    return text[2:] if text.startswith("0X") else text


def check_fingerprints(value: Any) -> str | None:
    """Field check: GPG fingerprints (40 or 64 hex digits) or long key ids (16 hex digits)."""
    bad = [v for v in value or () if not _FINGERPRINT.fullmatch(normalize_fingerprint(v))]
    if bad:
        return (
            f"not a GPG fingerprint or long key id: {', '.join(bad)} "
            "(copy it from `gpg --list-keys --with-colons KEY`, the `fpr` line)"
        )
    return None


def check_formats(value: Any) -> str | None:
    return None if value else "list at least one of openpgp, ssh, x509"


@dataclass(frozen=True)
class SigningConfig:
    """Signed-commit policy shared by the hooks and the bot."""

    required: bool = field(
        default=True,
        metadata={"doc": "every commit must be signed; false: only check signatures present"},
    )
    formats: tuple[Literal["openpgp", "ssh", "x509"], ...] = field(
        default=("openpgp", "ssh", "x509"),
        metadata={"doc": "accepted signature formats", "check": check_formats},
    )
    allowed_signers_file: str = field(
        default=".gitops-health/allowed_signers",
        metadata={"doc": "OpenSSH allowed_signers file, relative to the repo root"},
    )
    gpg_fingerprints: tuple[str, ...] = field(
        default=(),
        metadata={
            "doc": "allowed GPG key fingerprints (or long key ids); empty = any trusted key",
            "check": check_fingerprints,
        },
    )
    accept_unknown_validity: bool = field(
        default=False, metadata={"doc": "accept GPG status U (good signature, untrusted key)"}
    )
    signer_must_be_committer: bool = field(
        default=True,
        metadata={"doc": "the key's identity (GPG uid e-mail, SSH principal) = committer e-mail"},
    )
    allow_unsigned_merges: bool = field(
        default=False, metadata={"doc": "merge commits need no signature"}
    )
    exempt_identities: tuple[str, ...] = field(
        default=(),
        metadata={"doc": "committer e-mails or names never checked (bots); `*` and `?` match"},
    )
