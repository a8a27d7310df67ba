"""The transmission-security detector (HIPAA 164.312(e)(1)) on added lines."""

from __future__ import annotations

from dataclasses import replace

import pytest
from compliance_builders import good_change, source_file

from gitops_health.rules.config.compliance import ComplianceConfig
from gitops_health.rules.config.policy import parse_policy
from gitops_health.rules.transmission import transmission_findings

CONFIG = ComplianceConfig()


def rules_for(
    line: str, path: str = "src/client.py", config: ComplianceConfig = CONFIG
) -> list[str]:
    change = good_change(files=(source_file(path, line),))
    return [f.rule for f in transmission_findings(change, config)]


@pytest.mark.parametrize(
    "line",
    [
        "requests.get(url, verify=False)",
        "ctx = ssl._create_unverified_context()",
        "ctx.verify_mode = ssl.CERT_NONE",
        "ctx.check_hostname = False",
        "https.request({ host, rejectUnauthorized: false })",
        "process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'",
        "ENV NODE_TLS_REJECT_UNAUTHORIZED=0",
        "tls.Config{InsecureSkipVerify: true}",
        "curl_setopt($ch, CURLOPT_SSL_VERIFYPEER, false);",
        "curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);",
        "c.setopt(pycurl.SSL_VERIFYPEER, 0)",
        "curl -sSk https://internal/api",
        "curl --insecure https://internal/api",
        "wget --no-check-certificate https://x.io/f",
        "kubectl --insecure-skip-tls-verify get pods",
        "    insecure-skip-tls-verify: true",
        "git config http.sslVerify false",
        "npm config set strict-ssl false",
        "http.verify_mode = OpenSSL::SSL::VERIFY_NONE",
        "SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);",
        "Client::builder().danger_accept_invalid_certs(true)",
        "new NoopHostnameVerifier()",
        "ServicePointManager.ServerCertificateValidationCallback += (a, b, c, d) => true;",
        "DATABASE_URL=postgres://db:5432/app?sslmode=disable",
        "$client = new Client(['verify' => false]);",
    ],
)
def test_tls_verification_disabled(line: str) -> None:
    assert rules_for(line) == ["tls-verification-disabled"]


@pytest.mark.parametrize(
    "line",
    [
        "requests.get(url, verify=True)",
        "https.request({ rejectUnauthorized: true })",
        "curl -sSfL https://get.example.io | sh",
        "    insecure-skip-tls-verify: false",
        "kubectl get pods -k ./overlay",
        "# never pass verify=False here",
        "// rejectUnauthorized: false would be wrong",
    ],
)
def test_safe_lines_are_not_flagged(line: str) -> None:
    assert rules_for(line) == []


@pytest.mark.parametrize(
    ("line", "host"),
    [
        ('API = "http://api.acme.io/v1"', "api.acme.io"),
        ("endpoint: http://10.0.3.7:8080/fhir", "10.0.3.7"),
        ('url = "http://user:secret@db.acme.io/x"', "db.acme.io"),
    ],
)
def test_plaintext_http_endpoints_name_the_host_only(line: str, host: str) -> None:
    change = good_change(files=(source_file("src/cfg.py", line),))
    (finding,) = transmission_findings(change, CONFIG)
    assert finding.rule == "plaintext-http"
    assert finding.kind == "transmission-security"
    assert (finding.path, finding.line) == ("src/cfg.py", 1)
    assert host in finding.message
    assert "secret" not in finding.message
    assert line[finding.column - 1 :].startswith("http://")


@pytest.mark.parametrize(
    "line",
    [
        "BASE = 'http://localhost:8000'",
        "BASE = 'http://127.0.0.1:8000/x'",
        "BASE = 'http://[::1]:8000/x'",
        "BASE = 'http://0.0.0.0:5000'",
        "docs = 'http://example.com/a' + 'http://api.example.org' + 'http://svc.test/'",
        '<svg xmlns="http://www.w3.org/2000/svg">',
        'NS = "http://schemas.xmlsoap.org/soap/envelope/"',
        '"$schema": "http://json-schema.org/draft-07/schema#"',
        "if url.startswith('http://'):",
        "https://api.acme.io/v1",
    ],
)
def test_loopback_reserved_and_namespace_urls_are_fine(line: str) -> None:
    assert rules_for(line) == []


def test_documentation_files_and_configured_hosts_are_skipped() -> None:
    assert rules_for("run `curl -k https://x`", path="docs/setup/install.sh") == []
    assert rules_for("see http://acme.io", path="README.md") == []
    allowed = parse_policy("compliance:\n  allowed_http_hosts: [mock.internal]").compliance
    assert rules_for("u = 'http://api.mock.internal/'", config=allowed) == []
    assert rules_for("u = 'http://mock.internal.evil.io/'", config=allowed) == ["plaintext-http"]


def test_binary_files_are_not_scanned() -> None:
    binary = replace(source_file("blob.bin", "verify=False"), binary=True)
    assert transmission_findings(good_change(files=(binary,)), CONFIG) == []


def test_engine_collects_transmission_findings() -> None:
    pytest.importorskip("gitops_health.rules.commitmsg")
    from gitops_health.rules.engine import collect_findings

    change = good_change(files=(source_file("src/c.py", "get(u, verify=False)"),))
    policy = parse_policy("phi:\n  enabled: false")
    kinds = [(f.kind, f.path, f.line) for f in collect_findings(change, policy)]
    assert ("transmission-security", "src/c.py", 1) in kinds
