"""HIPAA pack: every control, every verdict it can reach, on hand-built Changes."""

from __future__ import annotations

from dataclasses import replace

from compliance_builders import (
    CAROL,
    good_change,
    signed_commit,
    source_file,
    verdict,
)

from gitops_health.rules.change import Identity, Signature
from gitops_health.rules.report import Finding, Verdict

OTHER = "c" * 40


# --- 164.312(b) audit controls ----------------------------------------------------------------


def test_audit_controls_pass_when_the_bot_records_the_verdict() -> None:
    result = verdict("hipaa.164.312(b)", good_change())
    assert result.verdict is Verdict.PASS
    assert "audit trail for acme/app#7" in result.reason
    assert result.evidence[0].commit == good_change().head_sha


def test_audit_controls_not_applicable_locally() -> None:
    result = verdict("hipaa.164.312(b)", good_change(forge="local", number=None))
    assert result.verdict is Verdict.NOT_APPLICABLE
    assert "local evaluation" in result.reason


# --- 164.312(c)(1) integrity ------------------------------------------------------------------


def test_integrity_passes_with_signed_commits() -> None:
    result = verdict("hipaa.164.312(c)(1)", good_change())
    assert result.verdict is Verdict.PASS
    assert result.evidence[0].text == "signed by alice@example.com"


def test_integrity_fails_on_an_unsigned_commit_with_the_commit_as_evidence() -> None:
    commits = (signed_commit(), signed_commit(OTHER, status="N"))
    result = verdict("hipaa.164.312(c)(1)", good_change(commits=commits))
    assert result.verdict is Verdict.FAIL
    assert result.reason == f"commit {OTHER[:12]} is not signed"
    assert [(e.commit, e.text) for e in result.evidence] == [(OTHER, "is not signed")]


def test_integrity_fails_on_a_bad_signature() -> None:
    result = verdict("hipaa.164.312(c)(1)", good_change(commits=(signed_commit(status="B"),)))
    assert result.verdict is Verdict.FAIL
    assert "bad signature" in result.reason


def test_integrity_pending_when_the_signature_cannot_be_checked_here() -> None:
    result = verdict("hipaa.164.312(c)(1)", good_change(commits=(signed_commit(status="E"),)))
    assert result.verdict is Verdict.PENDING
    assert result.reason == "1 signature not checkable here (public key missing)"


def test_integrity_trusts_the_forge_verification() -> None:
    commit = replace(signed_commit(status="E"), signature=Signature("E", verified_by_forge=True))
    assert verdict("hipaa.164.312(c)(1)", good_change(commits=(commit,))).verdict is Verdict.PASS


def test_integrity_not_applicable_without_commits_or_for_exempt_bots() -> None:
    assert verdict("hipaa.164.312(c)(1)", good_change(commits=())).verdict is Verdict.NOT_APPLICABLE
    bot = Identity(name="renovate[bot]", email="bot@renovateapp.com")
    change = good_change(commits=(signed_commit(status="N", who=bot),))
    exempt = "signing:\n  exempt_identities: ['*@renovateapp.com']"
    result = verdict("hipaa.164.312(c)(1)", change, policy_text=exempt)
    assert result.verdict is Verdict.NOT_APPLICABLE


def test_unsigned_merge_is_exempt_only_when_the_policy_allows_it() -> None:
    merge = replace(signed_commit(OTHER, status="N"), parents=("1" * 40, "2" * 40))
    change = good_change(commits=(signed_commit(), merge))
    assert verdict("hipaa.164.312(c)(1)", change).verdict is Verdict.FAIL
    allow = "signing:\n  allow_unsigned_merges: true"
    assert verdict("hipaa.164.312(c)(1)", change, policy_text=allow).verdict is Verdict.PASS


# --- 164.312(d) authentication ----------------------------------------------------------------


def test_authentication_passes_for_trusted_signatures_without_signature_findings() -> None:
    result = verdict("hipaa.164.312(d)", good_change())
    assert result.verdict is Verdict.PASS
    assert result.reason == "every commit is signed by its committer with an allowed key (1 commit)"


def test_authentication_fails_on_signature_findings_with_their_commit() -> None:
    finding = Finding(
        kind="signature", rule="signer-not-committer", commit=good_change().head_sha,
        message="signed by mallory@example.com, but committed by alice@example.com",
    )  # fmt: skip
    result = verdict("hipaa.164.312(d)", good_change(), (finding,))
    assert result.verdict is Verdict.FAIL
    assert result.reason == f"1 signature problem: signer-not-committer ({'a' * 12})"
    assert result.evidence[0].commit == good_change().head_sha
    assert "signed by mallory@example.com" in result.evidence[0].text


def test_authentication_fails_for_an_untrusted_key_unless_the_policy_accepts_it() -> None:
    change = good_change(commits=(signed_commit(status="U"),))
    result = verdict("hipaa.164.312(d)", change)
    assert result.verdict is Verdict.FAIL
    assert "unknown validity" in result.reason
    accept = "signing:\n  accept_unknown_validity: true"
    assert verdict("hipaa.164.312(d)", change, policy_text=accept).verdict is Verdict.PASS


def test_authentication_fails_for_unsigned_commits_even_when_signing_is_optional() -> None:
    change = good_change(commits=(signed_commit(status="N", who=CAROL),))
    optional = "signing:\n  required: false"
    assert verdict("hipaa.164.312(d)", change, policy_text=optional).verdict is Verdict.FAIL


def test_authentication_pending_without_the_key_and_not_applicable_without_commits() -> None:
    pending = verdict("hipaa.164.312(d)", good_change(commits=(signed_commit(status="E"),)))
    assert pending.verdict is Verdict.PENDING
    none = verdict("hipaa.164.312(d)", good_change(commits=()))
    assert none.verdict is Verdict.NOT_APPLICABLE


# --- 164.312(e)(1) transmission security ------------------------------------------------------


def test_transmission_security_fails_on_transmission_findings_with_file_and_line() -> None:
    finding = Finding(
        kind="transmission-security", rule="tls-verification-disabled", path="src/app.py",
        line=1, message="TLS certificate verification disabled: verify=False",
    )  # fmt: skip
    result = verdict("hipaa.164.312(e)(1)", good_change(), (finding,))
    assert result.verdict is Verdict.FAIL
    assert "(src/app.py:1)" in result.reason
    assert (result.evidence[0].path, result.evidence[0].line) == ("src/app.py", 1)


def test_transmission_security_passes_without_findings_and_is_na_without_files() -> None:
    assert verdict("hipaa.164.312(e)(1)", good_change()).verdict is Verdict.PASS
    empty = verdict("hipaa.164.312(e)(1)", good_change(files=()))
    assert empty.verdict is Verdict.NOT_APPLICABLE


# --- 164.514 de-identification ----------------------------------------------------------------


def phi(entity: str, path: str = "data/p.csv", line: int = 3) -> Finding:
    return Finding(kind="phi", rule="r", message="", path=path, line=line, entity_type=entity)


def test_de_identification_fails_on_phi_naming_types_and_places_only() -> None:
    findings = (phi("US_SSN"), phi("US_SSN", line=4), phi("PERSON", line=9))
    result = verdict("hipaa.164.514", good_change(), findings)
    assert result.verdict is Verdict.FAIL
    assert result.reason == "3 PHI findings in added lines: US_SSN ×2, PERSON ×1"
    first = result.evidence[0]
    assert (first.path, first.line, first.text) == ("data/p.csv", 3, "US_SSN found")


def test_de_identification_passes_when_scanned_clean() -> None:
    result = verdict("hipaa.164.514", good_change(files=(source_file("a.py", "x = 1"),)))
    assert result.verdict is Verdict.PASS


def test_de_identification_pending_when_phi_scanning_is_off() -> None:
    result = verdict("hipaa.164.514", good_change(), policy_text="phi:\n  enabled: false")
    assert result.verdict is Verdict.PENDING
    assert "phi.enabled: false" in result.reason


def test_de_identification_not_applicable_without_files() -> None:
    assert verdict("hipaa.164.514", good_change(files=())).verdict is Verdict.NOT_APPLICABLE
