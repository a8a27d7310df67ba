"""`signing:` section: which commit signatures are acceptable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class SigningConfig:
    """Signed-commit policy shared by the hooks and the bot."""

    required: bool = True
    formats: tuple[Literal["openpgp", "ssh", "x509"], ...] = ("openpgp", "ssh", "x509")
    allowed_signers_file: str = field(
        default=".gitops-health/allowed_signers",
        metadata={"doc": "OpenSSH allowed_signers file, relative to the repo root"},
    )
    gpg_fingerprints: tuple[str, ...] = field(
        default=(), metadata={"doc": "allowed GPG key fingerprints; empty = any trusted key"}
    )
    accept_unknown_validity: bool = field(
        default=False, metadata={"doc": "accept GPG status U (good signature, untrusted key)"}
    )
    signer_must_be_committer: bool = True
    allow_unsigned_merges: bool = False
    exempt_identities: tuple[str, ...] = field(
        default=(), metadata={"doc": "committer e-mails or names never checked (bots)"}
    )
