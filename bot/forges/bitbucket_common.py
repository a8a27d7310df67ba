"""What the Bitbucket Cloud and Data Center adapters share.

- `RetryingSession`: the requests session both atlassian clients run on; it honours
  `Retry-After`, retries 5xx with bounded backoff and never re-sends a comment POST.
- `parse_unified_diff`: added lines per file from a unified diff (forge-neutral).
- `BaseFilesCache`: `.gitops-health.yml`, CODEOWNERS and policy-referenced files read from the
  base commit, cached by base SHA.
- The Code Insights / build-status content built from a `Report` (PHI by type and place only,
  through `rules.render.text.finding_text`).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

import requests

from gitops_health.bot.metrics import count_forge_call
from gitops_health.rules.change import AddedLine
from gitops_health.rules.codeowners import CODEOWNERS_PATHS
from gitops_health.rules.config.policy import POLICY_FILE, Policy, parse_policy
from gitops_health.rules.config.schema import ConfigInvalid
from gitops_health.rules.diff import HUNK_HEADER
from gitops_health.rules.render.markdown import render_markdown
from gitops_health.rules.render.text import (
    approval_headline,
    risk_headline,
    verdict_counts,
)
from gitops_health.rules.report import Finding, Report

log = logging.getLogger(__name__)

REPORT_KEY = "gitops-health"
REPORT_TITLE = "gitops-health"
REPORTER = "gitops-health"
COMMENT_MAX_CHARS = 30_000  # both flavours cap comment text near 32 KiB
STATUS_DESCRIPTION_MAX = 255
REPORT_DETAILS_MAX = 2000
ANNOTATIONS_PER_REPORT = 1000
BUILD_STATES = {"success": "SUCCESSFUL", "failure": "FAILED", "pending": "INPROGRESS"}


class BitbucketError(RuntimeError):
    """A Bitbucket API call failed; the message names the call and Bitbucket's reason."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@contextmanager
def api_errors(flavour: str, action: str) -> Iterator[None]:
    """Turn the clients' HTTP errors into one clear `BitbucketError` line."""
    try:
        yield
    except requests.HTTPError as error:
        status = http_status(error)
        reason = str(error).splitlines()[0] if str(error) else "no reason given"
        raise BitbucketError(
            f"{flavour} {action} failed (HTTP {status}): {reason}", status
        ) from error
    except requests.RequestException as error:
        raise BitbucketError(f"{flavour} {action} failed: {type(error).__name__}") from error


def http_status(error: requests.HTTPError) -> int | None:
    return error.response.status_code if error.response is not None else None


# --- retries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How a Bitbucket call is retried; `sleep` is injectable so tests need not wait."""

    attempts: int = 4  # tries per request, the first included
    backoff: float = 1.0  # seconds before the first 5xx retry, doubled each time
    max_wait: float = 120.0  # a longer Retry-After is not waited for: the call fails
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def wait_before_retry(
        self, method: str, url: str, response: requests.Response, attempt: int
    ) -> float | None:
        """Seconds to wait before trying again, or None to return `response` as it is."""
        if attempt >= self.attempts:
            return None
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429 or (status == 503 and retry_after is not None):
            wait = retry_after if retry_after is not None else self._backoff(attempt)
            return wait if wait <= self.max_wait else None
        if status >= 500 and not _creates_comment(method, url):
            return self._backoff(attempt)
        return None

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * 2 ** (attempt - 1), self.max_wait)


def _creates_comment(method: str, url: str) -> bool:
    # The one non-idempotent write: a 5xx may hide a created comment, so it is not re-sent;
    # the next run finds that comment by its marker. Statuses, reports and annotations are keyed.
    return method.upper() == "POST" and url.split("?", 1)[0].rstrip("/").endswith("/comments")


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


class RetryingSession(requests.Session):
    """A requests session that retries by a `RetryPolicy`; both atlassian clients use it.

    A response hook counts every HTTP answer (retries and redirects included) in the
    `forge` API metrics: requests calls it once per request it sends.
    """

    def __init__(self, policy: RetryPolicy, forge: str) -> None:
        super().__init__()
        self.policy = policy
        self.hooks["response"].append(partial(_count_call, forge))

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        verb = method.decode() if isinstance(method, bytes) else method
        address = url.decode() if isinstance(url, bytes) else url
        attempt = 1
        while True:
            response = super().request(method, url, *args, **kwargs)
            wait = self.policy.wait_before_retry(verb, address, response, attempt)
            if wait is None:
                return response
            log.warning(
                "Bitbucket answered %s to %s %s; retrying in %.1fs (attempt %d of %d)",
                response.status_code, verb, address.split("?", 1)[0], wait, attempt + 1,
                self.policy.attempts,
            )  # fmt: skip
            response.close()
            self.policy.sleep(wait)
            attempt += 1


def _count_call(forge: str, response: requests.Response, *args: Any, **kwargs: Any) -> None:
    count_forge_call(forge, response.request.method or "", response.status_code, response.headers)


# --- diffs ---------------------------------------------------------------------------------


@dataclass
class DiffFile:
    """What a unified diff says about one file."""

    path: str
    added_lines: list[AddedLine] = field(default_factory=list)
    additions: int = 0
    deletions: int = 0
    binary: bool = False


_BINARY = re.compile(r"^Binary files (.+) and (.+) differ$")


def _diff_path(token: str) -> str | None:
    """`a/x`, `b/x`, `"b/quoted x"` or `/dev/null` (None) as a repository path."""
    token = token.strip()
    if token.startswith('"') and token.endswith('"'):
        token = token[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        token = token.encode("latin-1").decode("utf-8", "replace")
    token = token.split("\t", 1)[0]
    if token == "/dev/null":
        return None
    return token[2:] if token[:2] in ("a/", "b/") else token


def parse_unified_diff(text: str) -> dict[str, DiffFile]:
    """Added lines (numbered in the new file) and line counts per path of a `git diff`."""
    files: dict[str, DiffFile] = {}
    current: DiffFile | None = None
    old_path: str | None = None
    new_line = 0
    in_hunk = False
    for line in text.split("\n"):
        if line.startswith("diff --git "):
            current, in_hunk, old_path = None, False, None
        elif not in_hunk and line.startswith("--- "):
            old_path = _diff_path(line[4:])
        elif not in_hunk and line.startswith("+++ "):
            path = _diff_path(line[4:]) or old_path or ""
            current = files.setdefault(path, DiffFile(path))
        elif match := _BINARY.match(line):
            path = _diff_path(match.group(2)) or _diff_path(match.group(1)) or ""
            files.setdefault(path, DiffFile(path)).binary = True
        elif current is not None and (hunk := HUNK_HEADER.match(line)):
            new_line, in_hunk = int(hunk.group(1)), True
        elif current is not None and in_hunk:
            new_line = _count_hunk_line(current, line, new_line)
    return files


def _count_hunk_line(file: DiffFile, line: str, new_line: int) -> int:
    if line.startswith("+"):
        file.added_lines.append(AddedLine(new_line, line[1:]))
        file.additions += 1
        return new_line + 1
    if line.startswith("-"):
        file.deletions += 1
        return new_line
    if line.startswith("\\"):  # "\ No newline at end of file"
        return new_line
    return new_line + 1


# --- files read from the base commit ---------------------------------------------------------


@dataclass(frozen=True)
class BaseFiles:
    policy_text: str | None
    codeowners: str | None
    referenced: dict[str, str]  # files the policy names (e.g. allowed_signers), by path


def policy_referenced_paths(policy_text: str | None) -> tuple[str, ...]:
    """Files the policy asks the rules to read from the base, e.g. the allowed_signers file."""
    policy = Policy()
    if policy_text:
        with suppress(ConfigInvalid):  # the worker reports it; read what the defaults name
            policy = parse_policy(policy_text)
    return (policy.signing.allowed_signers_file,)


def read_base_files(read: Callable[[str], str | None]) -> BaseFiles:
    """Read the policy, the first CODEOWNERS found and the policy's files with `read(path)`."""
    policy_text = read(POLICY_FILE)
    codeowners = next((text for p in CODEOWNERS_PATHS if (text := read(p)) is not None), None)
    referenced = {
        path: text for path in policy_referenced_paths(policy_text)
        if (text := read(path)) is not None
    }  # fmt: skip
    return BaseFiles(policy_text, codeowners, referenced)


class BaseFilesCache:
    """Base-branch files by (repository, base SHA): the base never changes under one SHA."""

    def __init__(self, max_entries: int = 256) -> None:
        self._entries: OrderedDict[tuple[str, str], BaseFiles] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, repository: str, sha: str, load: Callable[[], BaseFiles]) -> BaseFiles:
        key = (repository, sha)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        files = load()
        with self._lock:
            self._entries[key] = files
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return files


# --- what gets published ---------------------------------------------------------------------

_SEVERITY_RANK = {"error": 0, "warning": 1, "note": 2}
_SEVERITY = {"error": "HIGH", "warning": "MEDIUM", "note": "LOW"}
_VULNERABILITY_KINDS = {"phi", "signature", "transmission-security"}


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ordered_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Most severe first, so a capped report keeps what matters."""
    return sorted(findings, key=lambda f: (_SEVERITY_RANK.get(f.severity, 3), f.path, f.line))


def annotation_type(finding: Finding) -> str:
    return "VULNERABILITY" if finding.kind in _VULNERABILITY_KINDS else "CODE_SMELL"


def annotation_severity(finding: Finding) -> str:
    return _SEVERITY.get(finding.severity, "LOW")


def build_state(report: Report) -> str:
    return BUILD_STATES[report.conclusion]


def status_description(report: Report) -> str:
    """One line for the build status: risk, control verdicts, approvals, findings."""
    parts = [
        f"risk {risk_headline(report)}",
        f"controls: {verdict_counts(report.controls)}",
        f"approvals: {approval_headline(report)}",
        f"{len(report.findings)} findings",
    ]
    if report.policy_errors:
        parts.append("policy file invalid")
    return truncate("; ".join(parts), STATUS_DESCRIPTION_MAX)


def report_details(report: Report, shown: int) -> str:
    """Code Insights report details; says when annotations were capped."""
    text = f"gitops-health verdict: {report.conclusion}. {status_description(report)}."
    if shown < len(report.findings):
        text += f" Showing {shown} of {len(report.findings)} findings; see the details page."
    return truncate(text, REPORT_DETAILS_MAX)


def report_data(
    report: Report, details_url: str, link_text_key: str = "text"
) -> list[dict[str, Any]]:
    """The key/value tiles of a Code Insights report (at most 6 on Data Center).

    A LINK value is `{text, href}` on Cloud and `{linktext, href}` on Data Center.
    """
    data: list[dict[str, Any]] = []
    if report.risk is not None:
        data.append({"title": "Risk score", "type": "NUMBER", "value": report.risk.score})
        data.append({"title": "Risk level", "type": "TEXT", "value": report.risk.level.value})
    data.append(
        {"title": "Failing controls", "type": "NUMBER", "value": len(report.failing_controls)}
    )
    data.append({"title": "Findings", "type": "NUMBER", "value": len(report.findings)})
    if report.approval is not None:
        data.append({"title": "Approvals", "type": "TEXT", "value": report.approval.state.value})
    if details_url:
        data.append(
            {
                "title": "Details",
                "type": "LINK",
                "value": {link_text_key: "explain", "href": details_url},
            }
        )
    return data[:6]


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def render_comment(report: Report, details_url: str) -> str:
    return render_markdown(report, details_url=details_url or None, max_chars=COMMENT_MAX_CHARS)


def error_description(message: str) -> str:
    return truncate(f"gitops-health could not evaluate this PR: {message}", STATUS_DESCRIPTION_MAX)
