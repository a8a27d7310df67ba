"""HIPAA 164.312(e)(1) transmission security: added code that weakens transport encryption.

Two families of problems are flagged on added lines, each as a Finding of kind
"transmission-security" with its file and line:

- `tls-verification-disabled`: code or commands that turn off certificate or host-name checks
  (`verify=False`, `rejectUnauthorized: false`, `InsecureSkipVerify: true`,
  `CURLOPT_SSL_VERIFYPEER` off, `NODE_TLS_REJECT_UNAUTHORIZED=0`,
  `ssl._create_unverified_context`, `curl -k/--insecure`, `wget --no-check-certificate`...);
- `plaintext-http`: a plain `http://` endpoint, except loopback, reserved example/test domains
  (RFC 2606/6761) and well-known schema namespace URIs (`http://www.w3.org/...`).

Comment lines and documentation files (see `compliance.transmission_exclude`) are skipped.
Messages name the construct or the host only, never the line itself (it may hold a secret).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator

from gitops_health.rules.change import Change, FileChange
from gitops_health.rules.config.compliance import ComplianceConfig
from gitops_health.rules.globs import matches
from gitops_health.rules.report import Finding

KIND = "transmission-security"

# (what the pattern means, pattern); matched case-sensitively unless the pattern says otherwise.
_TLS_OFF: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern))
    for label, pattern in (
        ("verify=False (certificate verification off)", r"\bverify\s*=\s*False\b"),
        ("'verify' => false (certificate verification off)", r"""['"]verify['"]\s*=>\s*false"""),
        ("ssl._create_unverified_context", r"\b_create_unverified_context\b"),
        ("ssl.CERT_NONE", r"\bCERT_NONE\b"),
        ("check_hostname = False", r"\bcheck_hostname\s*=\s*False\b"),
        ("rejectUnauthorized: false", r"\brejectUnauthorized['\"]?\s*[:=]\s*false\b"),
        ("NODE_TLS_REJECT_UNAUTHORIZED=0", r"\bNODE_TLS_REJECT_UNAUTHORIZED\W{0,3}[:=]\W{0,3}0"),
        ("InsecureSkipVerify: true", r"\bInsecureSkipVerify\s*[:=]\s*true\b"),
        (
            "CURLOPT_SSL_VERIFYPEER/VERIFYHOST off",
            r"\b(?:CURLOPT_)?SSL_VERIFY(?:PEER|HOST)\b\s*,\s*(?:0|0L|false|FALSE|False)\b",
        ),
        ("curl --insecure/-k", r"\bcurl\b.*\s(?:--insecure\b|-[A-Za-z]*k[A-Za-z]*(?=\s|$))"),
        ("wget --no-check-certificate", r"--no-check-certificate\b"),
        ("--insecure-skip-tls-verify", r"\binsecure-skip-tls-verify\b(?!\W{0,3}[:=]\W{0,3}false)"),
        ("git http.sslVerify false", r"(?i:\bsslVerify\b\s*[= ]\s*false\b)|\bGIT_SSL_NO_VERIFY\b"),
        ("npm strict-ssl false", r"\bstrict-ssl\b\s*[= ]\s*false\b"),
        ("OpenSSL VERIFY_NONE", r"\b(?:SSL_)?VERIFY_NONE\b"),
        ("danger_accept_invalid_certs(true)", r"\bdanger_accept_invalid_\w+\(\s*true"),
        ("NoopHostnameVerifier", r"\bNoopHostnameVerifier\b"),
        ("ALLOW_ALL_HOSTNAME_VERIFIER", r"\bALLOW_ALL_HOSTNAME_VERIFIER\b"),
        (
            "ServerCertificateValidationCallback accepting every certificate",
            r"ServerCertificate(?:Custom)?ValidationCallback\s*\+?=\s*\([^)]*\)\s*=>\s*true\b",
        ),
        ("sslmode=disable (database TLS off)", r"\bsslmode\s*=\s*disable\b"),
    )
)

_HTTP_URL = re.compile(r"\bhttp://(?:[^\s/@'\"`<>]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)")

# Namespace/schema URIs are identifiers, never fetched over the network.
_NAMESPACE_HOSTS = frozenset(
    {
        "www.w3.org", "w3.org", "schemas.xmlsoap.org", "schemas.microsoft.com",
        "schemas.openxmlformats.org", "schemas.android.com", "purl.org", "xmlns.com",
        "ns.adobe.com", "json-schema.org", "maven.apache.org", "www.apache.org",
        "java.sun.com", "xmlns.jcp.org", "www.springframework.org", "docs.oasis-open.org",
        "relaxng.org", "ogp.me", "www.opengis.net", "hl7.org", "www.omg.org",
        "www.gnu.org", "opensource.org", "creativecommons.org", "schemas.datacontract.org",
    }
)  # fmt: skip
# RFC 2606 / RFC 6761 names that never resolve to a real endpoint, plus loopback names.
_RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost")
_RESERVED_HOSTS = frozenset({"localhost", "example.com", "example.org", "example.net"})

_COMMENT_STARTS = ("#", "//", "/*", "*", "--", "<!--", ";", "%", "rem ", "REM ")


def transmission_findings(change: Change, config: ComplianceConfig) -> list[Finding]:
    """Findings for added lines that disable TLS checks or add plain-http endpoints."""
    findings: list[Finding] = []
    for file in scanned_files(change.files, config.transmission_exclude):
        for line in file.added_lines:
            if is_comment(line.text):
                continue
            findings += _line_findings(file.path, line.number, line.text, config.allowed_http_hosts)
    return findings


def scanned_files(files: Iterable[FileChange], exclude: tuple[str, ...]) -> Iterator[FileChange]:
    for file in files:
        if not file.binary and not matches(file.path, exclude):
            yield file


def is_comment(text: str) -> bool:
    return text.lstrip().startswith(_COMMENT_STARTS)


def _line_findings(path: str, number: int, text: str, allowed: tuple[str, ...]) -> list[Finding]:
    found = [
        Finding(
            kind=KIND,
            rule="tls-verification-disabled",
            message=f"TLS certificate verification disabled: {label}",
            path=path,
            line=number,
            column=match.start() + 1,
            end_column=match.end() + 1,
        )
        for label, pattern in _TLS_OFF
        if (match := pattern.search(text))
    ]
    if "xmlns" in text or "schemaLocation" in text or "<!DOCTYPE" in text:
        return found
    for match in _HTTP_URL.finditer(text):
        host = match.group(1).lower()
        if _host_is_safe(host, allowed):
            continue
        found.append(
            Finding(
                kind=KIND,
                rule="plaintext-http",
                message=f"plain http:// endpoint ({host}): use https://",
                path=path,
                line=number,
                column=match.start() + 1,
                end_column=match.end() + 1,
            )
        )
    return found


def _host_is_safe(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.strip("[]")
    if host in _RESERVED_HOSTS or host in _NAMESPACE_HOSTS or host.endswith(_RESERVED_SUFFIXES):
        return True
    if any(host == a.lower() or host.endswith("." + a.lower()) for a in allowed):
        return True
    if host.endswith((".example.com", ".example.org", ".example.net")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
