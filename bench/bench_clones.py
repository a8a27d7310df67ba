"""Clone cache: time to give a PR its history figures, cold (clone), warm, and incremental.

A synthetic repository (`--commits` commits by 20 authors over 800 files, built with
`git fast-import`) is served by a real smart-HTTP git server (`git http-backend`) on 127.0.0.1
with a required Authorization header, as a forge would. Measured per step: wall time, and the
CPU time of this process plus every git process (client and server side). Prints the
Markdown section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "bot"))

from git_http_server import git_http_server

from gitops_health.bot.clones import (
    CloneCache,
    add_history,
    basic_authorization,
    clone_source,
)
from gitops_health.rules.change import Change, Commit, FileChange, Identity

AUTHORIZATION = basic_authorization("x-access-token", "ghs_benchtoken")
AUTHORS = 20
FILES = 800
START = 1_600_000_000


def fast_import_stream(commits: int, first: int = 0, parent: bool = False) -> bytes:
    out = []
    for n in range(first, first + commits):
        who = n % AUTHORS
        stamp = START + n * 3600
        message = f"{'fix' if n % 7 == 0 else 'feat'}: change {n}\n".encode()
        out.append(b"commit refs/heads/main\n")
        out.append(f"author Dev {who} <dev{who}@example.com> {stamp} +0000\n".encode())
        out.append(f"committer Dev {who} <dev{who}@example.com> {stamp} +0000\n".encode())
        out.append(b"data %d\n%s" % (len(message), message))
        if n == first and parent:
            out.append(b"from refs/heads/main^0\n")
        for k in range(1 + n % 3):
            index = (n * 7 + k * 131) % FILES
            body = f"line {n}\n".encode() * (1 + n % 5)
            path = f"pkg{index % 40}/module_{index}.py".encode()
            out.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path, len(body), body))
    return b"".join(out)


def grow(bare: Path, commits: int, first: int = 0) -> str:
    stream = fast_import_stream(commits, first, parent=first > 0)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=bare, input=stream, check=True)
    return subprocess.run(
        ["git", "rev-parse", "main"], cwd=bare, capture_output=True, text=True, check=True
    ).stdout.strip()


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(step: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    step()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def a_change(base: str) -> Change:
    when = datetime.fromtimestamp(START + 10**7, UTC)
    author = Identity("Dev 3", "dev3@example.com")
    files = tuple(FileChange(f"pkg{i % 40}/module_{i}.py", additions=3) for i in range(0, 50, 5))
    return Change(
        repository="bench/project",
        forge="github",
        base_ref="main",
        base_sha=base,
        files=files,
        commits=(Commit("f" * 40, "feat: bench", author=author, authored_at=when),),
    )


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=20_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        bare = root / "served" / "project.git"
        subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
        base = grow(bare, args.commits)
        cache = CloneCache(root / "clones")
        rows = []
        with git_http_server(root / "served", AUTHORIZATION) as server:
            source = clone_source("github/bench/project", server.repo_url("project"), AUTHORIZATION)

            def history(sha: str) -> None:
                change = add_history(a_change(sha), cache, lambda: source)
                assert change.history is not None, change.notes

            def checkout(sha: str) -> None:
                with cache.checkout(source, "main", sha):  # type: ignore[arg-type]
                    pass

            rows.append(("first PR: clone", *measure(lambda: checkout(base))))
            rows.append(("history figures at that base", *measure(lambda: history(base))))
            rows.append(("same base again: no fetch", *measure(lambda: checkout(base))))
            newer = grow(bare, 10, first=args.commits)
            rows.append(("10 new commits: fetch", *measure(lambda: checkout(newer))))
            rows.append(("history figures at the new base", *measure(lambda: history(newer))))
        clone_size = size_mb(cache.path_of("github/bench/project"))
    print(f"### Clone cache (`bench/bench_clones.py`) — {date.today()} on {platform.node()}")
    print()
    print(
        f"{args.commits:,} commits, {AUTHORS} authors, {FILES} files; clone {clone_size:.1f} MB; "
        "served by `git http-backend` on 127.0.0.1; CPU = this process + all git processes."
    )
    print()
    print("| step | wall s | CPU s |")
    print("|---|---|---|")
    for name, wall, cpu in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
