"""Bitbucket adapters: API calls and time per event for a 50-file and a 2000-file PR.

Runs both adapters against the local fake Bitbucket Cloud / Data Center servers of the test
suite (real atlassian clients, real HTTP on 127.0.0.1). One "event" is snapshot + publish:
the first one creates the comment and reads the base files, the second (same base SHA) finds
the cache warm and edits the comment. Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "bot"))

from bitbucket_fakes import (
    FakeApi,
    FakeBitbucketCloud,
    FakeBitbucketServer,
    FakeFile,
    make_report,
    serve,
)

from gitops_health.bot.forges.base import PullRequestRef
from gitops_health.bot.forges.bitbucket_cloud import BitbucketCloudForge
from gitops_health.bot.forges.bitbucket_server import BitbucketServerForge

SIZES = (50, 2000)
LINES_PER_FILE = 5
COMMITS = 20


def pr_files(count: int) -> list[FakeFile]:
    return [
        FakeFile(f"src/module_{i}.py", added=[f"value_{i}_{n} = {n}" for n in range(5)], removed=1)
        for i in range(count)
    ]


def cloud_case(count: int) -> tuple[FakeApi, Callable[[], object], PullRequestRef]:
    fake = FakeBitbucketCloud(page_cap=100)
    fake.files = pr_files(count)
    fake.commits = [
        {
            "type": "commit",
            "hash": f"{i:040x}" if i else fake.head,
            "message": "feat: x",
            "author": {"raw": "A <a@example.com>"},
            "parents": [],
        }
        for i in range(COMMITS)
    ]
    ref = PullRequestRef("bitbucket-cloud", fake.workspace, fake.slug, fake.number)
    return fake, lambda: BitbucketCloudForge(api_url=fake.base_url, token="cloud-token"), ref


def server_case(count: int) -> tuple[FakeApi, Callable[[], object], PullRequestRef]:
    fake = FakeBitbucketServer(page_cap=1000)
    fake.files = pr_files(count)
    fake.changes = [
        {"path": {"toString": f.path}, "type": "MODIFY", "nodeType": "FILE"} for f in fake.files
    ]
    fake.commits = [
        {
            "id": f"{i:040x}" if i else fake.head,
            "message": "feat: x",
            "author": {"name": "A", "emailAddress": "a@example.com"},
            "parents": [],
        }
        for i in range(COMMITS)
    ]
    ref = PullRequestRef("bitbucket-server", fake.project, fake.slug, fake.number)
    return fake, lambda: BitbucketServerForge(url=fake.base_url, token="server-token"), ref


def one_event(fake: FakeApi, forge: object, ref: PullRequestRef, count: int) -> tuple[int, float]:
    before = len(fake.requests)
    start = time.perf_counter()
    snapshot = forge.snapshot(ref)  # type: ignore[attr-defined]
    report = make_report(snapshot.change.head_sha, findings=min(count, 1200))
    forge.publish(ref, report, "https://bot.example.com/pr/x")  # type: ignore[attr-defined]
    return len(fake.requests) - before, time.perf_counter() - start


def main() -> None:
    print("| forge | files | event | API calls | seconds |")
    print("|---|---|---|---|---|")
    for name, case in (("Bitbucket Cloud", cloud_case), ("Bitbucket Data Center", server_case)):
        for count in SIZES:
            fake, make_forge, ref = case(count)
            with serve(fake):
                forge = make_forge()
                for label in ("first", "next"):
                    calls, seconds = one_event(fake, forge, ref, count)
                    print(f"| {name} | {count} | {label} | {calls} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
