"""The pure parts the Bitbucket adapters share: diff parsing, retry decisions, base-file cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import requests

from gitops_health.bot.forges.bitbucket_common import (
    BaseFiles,
    BaseFilesCache,
    RetryPolicy,
    parse_retry_after,
    parse_unified_diff,
    policy_referenced_paths,
)

DIFF = """\
diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"
--- "a/caf\\303\\251.txt"
+++ "b/caf\\303\\251.txt"
@@ -1,3 +1,3 @@
 keep
-old
+new
 keep
@@ -10,2 +10,3 @@ def section():
 ten
+eleven
+twelve
\\ No newline at end of file
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
--- a/gone.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-a
-b
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
"""


def test_unified_diff_numbers_added_lines_in_the_new_file() -> None:
    files = parse_unified_diff(DIFF)

    cafe = files["café.txt"]
    assert [(x.number, x.text) for x in cafe.added_lines] == [
        (2, "new"),
        (11, "eleven"),
        (12, "twelve"),
    ]
    assert (cafe.additions, cafe.deletions) == (3, 1)
    assert (files["gone.txt"].deletions, files["gone.txt"].added_lines) == (2, [])
    assert files["img.png"].binary


def response(status: int, retry_after: str | None = None) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    if retry_after is not None:
        answer.headers["Retry-After"] = retry_after
    return answer


def test_retry_decisions() -> None:
    policy = RetryPolicy(attempts=3, backoff=0.5, max_wait=30)
    url = "https://api.example/2.0/repositories/a/b/pullrequests/1/comments"

    assert policy.wait_before_retry("GET", url, response(429, "3"), 1) == 3.0
    assert policy.wait_before_retry("GET", url, response(429, "31"), 1) is None  # too long
    assert policy.wait_before_retry("GET", url, response(429), 2) == 1.0  # backoff instead
    assert policy.wait_before_retry("PUT", url + "/5", response(502), 1) == 0.5
    assert policy.wait_before_retry("POST", url, response(502), 1) is None  # may have created
    assert policy.wait_before_retry("POST", url, response(429, "1"), 1) == 1.0  # never applied
    assert policy.wait_before_retry("GET", url, response(500), 3) is None  # attempts spent
    assert policy.wait_before_retry("GET", url, response(404), 1) is None


def test_retry_after_as_an_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)

    assert 15 <= (parse_retry_after(later) or 0) <= 20
    assert parse_retry_after("soon") is None


def test_policy_names_its_signers_file_even_when_invalid() -> None:
    custom = "signing:\n  allowed_signers_file: keys/signers\n"

    assert policy_referenced_paths(custom) == ("keys/signers",)
    assert policy_referenced_paths("signing: [") == (".gitops-health/allowed_signers",)
    assert policy_referenced_paths(None) == (".gitops-health/allowed_signers",)


def test_base_files_cache_loads_once_per_sha_and_evicts_the_oldest() -> None:
    cache = BaseFilesCache(max_entries=2)
    loads: list[str] = []

    def load(sha: str) -> BaseFiles:
        loads.append(sha)
        return BaseFiles(sha, None, {})

    for sha in ("a", "a", "b", "c", "a"):
        assert cache.get("repo", sha, lambda sha=sha: load(sha)).policy_text == sha
    assert loads == ["a", "b", "c", "a"]
