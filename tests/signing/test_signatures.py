"""The pure signature policy (`rules/signatures.py`) and the allowed_signers parser."""

from __future__ import annotations

import subprocess
from dataclasses import replace

import pytest
from signing_env import Keys, keys_fixture  # noqa: F401  (fixtures)

from gitops_health.rules.change import Change, Commit, Identity, Signature
from gitops_health.rules.config.policy import parse_policy
from gitops_health.rules.config.schema import ConfigInvalid
from gitops_health.rules.config.signing import SigningConfig
from gitops_health.rules.signatures import (
    STATUS_WORDS,
    check_commit,
    parse_allowed_signers,
    principal_matches,
    signature_findings,
)

ALICE = Identity("Alice Example", "alice@example.com")
SSH_KEY = "SHA256:Qcv9maO/S747rDvMspYnYkSKyzyG8YCFMKgLNvoP64E"
GPG_FPR = "E1926C52C7A16BC447BCEFDC25D48991DA1164C7"
DEFAULT = SigningConfig()


def make(status: str = "G", signer: str = "", key: str = "", **changes: object) -> Commit:
    commit = Commit("a" * 40, "feat: x", ALICE, ALICE, Signature(status, signer, key))
    return replace(commit, **changes)


def gpg_commit(status: str = "G", **changes: object) -> Commit:
    return make(status, "Alice Example <alice@example.com>", GPG_FPR, **changes)


def ssh_commit(status: str = "G", signer: str = "alice@example.com", **changes: object) -> Commit:
    return make(status, signer, SSH_KEY, **changes)


def rule(commit: Commit, config: SigningConfig = DEFAULT, signers=None) -> str | None:
    problem = check_commit(commit, config, signers)
    return problem.rule if problem else None


# --- allowed_signers parser -----------------------------------------------------------------


def test_fingerprint_matches_ssh_keygen(keys: Keys):
    listing = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(keys.alice_ssh.public_path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    signers = parse_allowed_signers(keys.alice_ssh.signer_line("alice@example.com"))
    assert signers.errors == ()
    assert signers.signers[0].fingerprint == listing.split()[1]


def test_parser_reads_options_quotes_comments_and_reports_bad_lines(keys: Keys):
    key_type, blob = keys.alice_ssh.public.split()[:2]
    text = "\n".join(
        (
            "# comment",
            "",
            f'"alice@example.com,*@ops.example" valid-after="20240101",namespaces="git,file" '
            f"{key_type} {blob} alice laptop",
            f"carol@example.com cert-authority {key_type} {blob}",
            f"dave@example.com {key_type}",
            f"erin@example.com bogus=1 {key_type} {blob}",
            f"frank@example.com ssh-rsa {blob}",
            f'gina@example.com valid-before="tomorrow" {key_type} {blob}',
        )
    )
    signers = parse_allowed_signers(text)
    first = signers.signers[0]
    assert first.principals == ("alice@example.com", "*@ops.example") and first.line == 3
    assert dict(first.options) == {"valid-after": "20240101", "namespaces": "git,file"}
    assert signers.signers[1].cert_authority and signers.has_cert_authority
    assert [line for line, _ in signers.errors] == [5, 6, 7, 8]
    messages = " ".join(problem for _, problem in signers.errors)
    assert "unknown option 'bogus'" in messages
    assert "does not match the key data ('ssh-ed25519')" in messages
    assert "valid-before must be YYYYMMDD" in messages


def test_principal_patterns_follow_openssh():
    assert principal_matches("alice@example.com", ["*@example.com"])
    assert principal_matches("Alice@Example.com", ["alice@example.com"])
    assert not principal_matches("alice@example.com", ["*@example.com", "!alice@*"])
    assert not principal_matches("alice@example.com", ["alice@example.co?m"])
    assert principal_matches("a.b@x", ["a?b@x"]) and not principal_matches("axb@x", ["a.b@x"])


# --- policy ---------------------------------------------------------------------------------


def test_every_status_letter_is_explained():
    assert set(STATUS_WORDS) == set("GBUXYREN")


@pytest.mark.parametrize(
    ("status", "expected"),
    [("G", None), ("N", "signature-missing"), ("B", "signature-invalid"),
     ("E", "signature-invalid"), ("X", "signature-invalid"), ("Y", "signature-invalid"),
     ("R", "signature-invalid"), ("U", "signature-untrusted")],
)  # fmt: skip
def test_gpg_status_letters(status: str, expected: str | None):
    assert rule(gpg_commit(status)) == expected


def test_unknown_validity_accepted_only_for_gpg_when_configured():
    lenient = SigningConfig(accept_unknown_validity=True)
    assert rule(gpg_commit("U"), lenient) is None
    assert rule(ssh_commit("U", signer=""), lenient) == "signer-not-allowed"


def test_unsigned_merges_and_optional_signing():
    merge = make("N", parents=("b" * 40, "c" * 40))
    assert rule(merge) == "signature-missing"
    assert rule(merge, SigningConfig(allow_unsigned_merges=True)) is None
    assert rule(make("N"), SigningConfig(allow_unsigned_merges=True)) == "signature-missing"
    assert rule(make("N"), SigningConfig(required=False)) is None
    assert rule(gpg_commit("B"), SigningConfig(required=False)) == "signature-invalid"


def test_ssh_signer_must_be_committer_even_when_git_says_good():
    bob = ssh_commit(signer="bob@example.com")
    problem = check_commit(bob, DEFAULT)
    assert problem is not None and problem.rule == "signer-not-committer"
    assert "signed by bob@example.com, but committed by alice@example.com" in problem.problem
    assert rule(bob, SigningConfig(signer_must_be_committer=False)) is None
    assert rule(ssh_commit(signer="*@example.com")) is None


def test_gpg_signer_uid_email_must_be_committer():
    assert rule(make("G", "Bob <bob@example.com>", GPG_FPR)) == "signer-not-committer"
    assert rule(make("G", "Alice <ALICE@example.com>", GPG_FPR)) is None


def test_x509_signer_email_is_compared():
    signature = Signature("G", "CN=Alice,EMail=alice@example.com", "1A2B", format="x509")
    assert rule(make(signature=signature)) is None
    other = replace(signature, signer="CN=Bob,EMail=bob@example.com")
    assert rule(make(signature=other)) == "signer-not-committer"
    assert rule(make(signature=signature), SigningConfig(formats=("ssh",))) == "format-not-allowed"


def test_ssh_key_must_be_listed_and_listing_may_cover_the_committer(keys: Keys):
    line = keys.alice_ssh.signer_line("bob@example.com,alice@example.com")
    signers = parse_allowed_signers(line)
    fingerprint = signers.signers[0].fingerprint
    listed = make("G", "bob@example.com", fingerprint)
    assert rule(listed, DEFAULT, signers) is None  # %GS shows one principal; the line has both
    assert rule(ssh_commit(), DEFAULT, signers) == "signer-not-allowed"
    ca = parse_allowed_signers(keys.bob_ssh.signer_line("*@example.com", "cert-authority"))
    assert rule(ssh_commit(), DEFAULT, ca) is None


def test_gpg_fingerprint_allow_list_matches_subkey_primary_or_long_id():
    signature = Signature("G", "Alice <alice@example.com>", "1" * 40, primary_key=GPG_FPR)
    commit = make(signature=signature)
    assert rule(commit, SigningConfig(gpg_fingerprints=(GPG_FPR.lower(),))) is None
    assert rule(commit, SigningConfig(gpg_fingerprints=(f"0x{GPG_FPR[-16:]}",))) is None
    assert rule(commit, SigningConfig(gpg_fingerprints=("2" * 40,))) == "key-not-allowed"


def test_formats_restriction():
    assert rule(gpg_commit(), SigningConfig(formats=("ssh",))) == "format-not-allowed"
    assert rule(ssh_commit(), SigningConfig(formats=("ssh",))) is None


def test_exempt_bot_identities_with_patterns():
    bot = Identity("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    commit = make("N", committer=bot)
    assert rule(commit) == "signature-missing"
    assert (
        rule(commit, SigningConfig(exempt_identities=("*[bot]@users.noreply.github.com",))) is None
    )
    assert rule(commit, SigningConfig(exempt_identities=("*@users.noreply.github.com",))) is None
    assert rule(commit, SigningConfig(exempt_identities=("dependabot?bot?",))) is None


def test_signature_findings_read_allowed_signers_from_base_files(keys: Keys):
    path = DEFAULT.allowed_signers_file
    text = keys.alice_ssh.signer_line("alice@example.com") + "\nbroken line\n"
    fingerprint = parse_allowed_signers(text).signers[0].fingerprint
    good = make("G", "alice@example.com", fingerprint, sha="1" * 40)
    unlisted = make("G", "alice@example.com", SSH_KEY, sha="2" * 40, message="fix: y\n\nbody")
    change = Change("o/r", commits=(good, unlisted), base_files={path: text})
    findings = signature_findings(change, DEFAULT)
    assert [(f.rule, f.line, f.commit) for f in findings] == [
        ("allowed-signers-syntax", 2, ""), ("signer-not-allowed", 0, "2" * 40),
    ]  # fmt: skip
    assert all(f.kind == "signature" for f in findings)
    assert "'fix: y'" in findings[1].message and "[G: good signature" in findings[1].message
    assert signature_findings(Change("o/r", commits=(make("N"),)), DEFAULT)[0].message.endswith(
        "then re-sign: `git rebase --exec 'git commit --amend --no-edit -S' BASE`"
    )


def test_policy_section_validates_fingerprints_and_formats():
    with pytest.raises(ConfigInvalid) as error:
        parse_policy("signing:\n  gpg_fingerprints: [nothex]\n  formats: []\n")
    text = str(error.value)
    assert "signing.gpg_fingerprints: not a GPG fingerprint or long key id: nothex" in text
    assert "signing.formats: list at least one of openpgp, ssh, x509" in text
