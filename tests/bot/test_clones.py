"""The bare-clone cache against a real smart-HTTP git server (`git http-backend`) on 127.0.0.1.

Every test fetches for real: a first PR clones, later ones fetch only what is new, a failure
leaves the report without history but saying why, the token reaches the server as a header
and never the disk, and concurrent workers (threads and processes) share one clone safely.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bitbucket_fakes import FakeBitbucketCloud, FakeBitbucketServer, serve
from git_http_server import GitHttpServer, git_http_server
from github_fake import (
    INSTALLATION_TOKEN,
    FakeGitHub,
    PullData,
    RunningBot,
    commit_entry,
    file_entry,
    fixture_payload,
)

from gitops_health.bot.clones import (
    HISTORY_ABSENT,
    CloneCache,
    CloneSource,
    add_history,
    basic_authorization,
    bearer_authorization,
    clone_source,
)
from gitops_health.bot.db import make_engine, upgrade
from gitops_health.bot.forges.base import PullRequestRef
from gitops_health.bot.forges.bitbucket_cloud import BitbucketCloudForge
from gitops_health.bot.forges.bitbucket_server import BitbucketServerForge
from gitops_health.bot.forges.github import GitHubForge
from gitops_health.bot.settings import Settings, SettingsError
from gitops_health.bot.store import Store
from gitops_health.rules.change import Change, Commit, FileChange, Identity

TOKEN = "ghs_clonetoken_0123456789abcdef"
AUTHORIZATION = basic_authorization("x-access-token", TOKEN)
KEY = "github/acme/project"
DAY0 = 1_704_067_200  # 2024-01-01
OCTO = ("Codertocat", "octo@example.com")  # the author of github_fake's commits
ALICE = ("Alice", "alice@example.com")


class Origin:
    """A work repository whose `main` is pushed to `served/project.git` after each commit."""

    def __init__(self, root: Path) -> None:
        self.work, self.served = root / "work", root / "served"
        self.bare = self.served / "project.git"
        root.mkdir(parents=True)
        self.run(root, "init", "-q", "-b", "main", str(self.work))
        self.run(root, "init", "-q", "--bare", str(self.bare))

    def run(self, cwd: Path, *args: str, who: tuple[str, str] = OCTO, day: int = 0) -> str:
        stamp = f"{DAY0 + day * 86400} +0000"
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": who[0], "GIT_AUTHOR_EMAIL": who[1], "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": who[0], "GIT_COMMITTER_EMAIL": who[1],
            "GIT_COMMITTER_DATE": stamp,
        }  # fmt: skip
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def commit(
        self, message: str, files: dict[str, str], who: tuple[str, str] = OCTO, day: int = 0
    ) -> str:
        for name, text in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.run(self.work, "add", "-A")
        self.run(self.work, "commit", "-q", "-m", message, who=who, day=day)
        self.run(self.work, "push", "-q", str(self.bare), "HEAD:refs/heads/main")
        return self.run(self.work, "rev-parse", "HEAD")


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    project = Origin(tmp_path / "origin")
    project.commit("feat(src): app", {"src/app.py": "a\n"}, ALICE, day=1)
    project.commit("fix(src): crash", {"src/app.py": "a\nb\n"}, OCTO, day=3)
    project.commit("docs: readme", {"README.md": "hi\n"}, ALICE, day=5)
    return project


@pytest.fixture
def server(origin: Origin) -> Iterator[GitHttpServer]:
    with git_http_server(origin.served, AUTHORIZATION) as running:
        yield running


@pytest.fixture
def cache(tmp_path: Path) -> CloneCache:
    return CloneCache(tmp_path / "clones", fetch_timeout=30)


def source_of(server: GitHttpServer, authorization: str = AUTHORIZATION) -> CloneSource:
    found = clone_source(KEY, server.repo_url("project"), authorization)
    assert found is not None
    return found


def packs(clone: Path) -> set[str]:
    return {p.name for p in (clone / "objects" / "pack").glob("*.pack")}


def ref_advertisements(server: GitHttpServer) -> int:
    """How many fetches started (each one first asks for the refs)."""
    return sum(r.path.endswith("/info/refs") for r in server.requests)


def a_change(base_sha: str, path: str = "src/app.py") -> Change:
    when = datetime(2024, 1, 11, tzinfo=UTC)
    return Change(
        repository="acme/project",
        forge="github",
        base_ref="main",
        base_sha=base_sha,
        files=(FileChange(path, additions=1),),
        commits=(Commit("f" * 40, "feat: more", author=Identity(*OCTO), authored_at=when),),
    )


# -- the cache ------------------------------------------------------------------------------------


def test_first_use_clones_then_only_new_objects_are_fetched(
    cache: CloneCache, server: GitHttpServer, origin: Origin
) -> None:
    first = origin.run(origin.work, "rev-parse", "HEAD")
    with cache.checkout(source_of(server), "main", first) as clone:
        assert origin.run(clone, "rev-list", "--count", first) == "3"
    first_packs = packs(clone)
    assert first_packs and ref_advertisements(server) == 1

    with cache.checkout(source_of(server), "main", first):  # the base is there: no network
        pass
    assert ref_advertisements(server) == 1

    second = origin.commit("feat(src): more", {"src/more.py": "m\n"}, day=7)
    with cache.checkout(source_of(server), "main", second) as again:
        assert again == clone
        assert origin.run(clone, "rev-list", "--count", second) == "4"
    assert ref_advertisements(server) == 2
    assert first_packs < packs(clone)  # the first pack stays: an incremental fetch, no re-clone
    assert not list(cache.root.glob(".tmp-*"))


def test_the_token_goes_as_a_header_and_never_to_disk(
    cache: CloneCache, server: GitHttpServer, origin: Origin
) -> None:
    head = origin.run(origin.work, "rev-parse", "HEAD")
    with cache.checkout(source_of(server), "main", head) as clone:
        config = (clone / "config").read_text()
    assert {r.authorization for r in server.requests} == {AUTHORIZATION}
    assert "url" not in config and "extraheader" not in config.lower()
    credential = AUTHORIZATION.split()[1].encode()
    for path in cache.root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert TOKEN.encode() not in data and credential not in data, path
    assert TOKEN not in repr(source_of(server))


@pytest.mark.parametrize("base_ref", ["main", "a-deleted-branch"])
def test_a_base_commit_off_the_branch_is_fetched_by_sha(
    cache: CloneCache, server: GitHttpServer, origin: Origin, base_ref: str
) -> None:
    origin.run(origin.work, "checkout", "-q", "-b", "release")
    aside = origin.commit("feat: only on release", {"side.txt": "s\n"}, day=8)
    origin.run(origin.work, "push", "-q", str(origin.bare), "release")
    with cache.checkout(source_of(server), base_ref, aside) as clone:
        assert origin.run(clone, "cat-file", "-t", aside) == "commit"


def test_a_failed_fetch_leaves_no_clone_and_names_the_reason(
    cache: CloneCache, server: GitHttpServer, origin: Origin
) -> None:
    head = origin.run(origin.work, "rev-parse", "HEAD")
    wrong = source_of(server, basic_authorization("x-access-token", "ghs_wrongtoken99"))

    change = add_history(a_change(head), cache, lambda: wrong)

    assert change.history is None
    (note,) = change.notes
    assert note == (
        f"{HISTORY_ABSENT}: git fetch from {server.repo_url('project')} failed: "
        "the server refused the bot's credentials (HTTP 401)"
    )
    assert "wrongtoken" not in note and "Authorization" not in note
    assert not list(cache.root.glob("*.git")) and not list(cache.root.glob(".tmp-*"))


def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/project.git"
        source = clone_source(KEY, url, AUTHORIZATION)
        cache = CloneCache(tmp_path / "clones", fetch_timeout=1)
        started = time.monotonic()
        change = add_history(a_change("a" * 40), cache, lambda: source)
    finally:
        silent.close()
    assert change.notes == (f"{HISTORY_ABSENT}: git fetch from {url} timed out after 1 s",)
    assert time.monotonic() - started < 10


def test_history_figures_come_from_the_clone(
    cache: CloneCache, server: GitHttpServer, origin: Origin
) -> None:
    head = origin.run(origin.work, "rev-parse", "HEAD")

    change = add_history(a_change(head), cache, lambda: source_of(server))

    assert change.notes == ()
    assert change.history is not None and change.history.base_sha == head
    (app,) = change.history.files
    assert (app.changes, app.fixes, len(app.authors)) == (2, 1, 2)
    assert change.history.author is not None and change.history.author.experience == 1
    assert change.files[0].lines_before == 2


def test_without_a_cache_or_a_clone_url_the_report_says_why(cache: CloneCache) -> None:
    off = add_history(a_change("a" * 40), None, lambda: None)
    no_url = add_history(a_change("a" * 40), cache, lambda: clone_source(KEY, "git@host:x.git"))

    def broken() -> CloneSource:
        raise ConnectionError("forge down")

    unreadable = add_history(a_change("a" * 40), cache, broken)
    assert off.notes == (f"{HISTORY_ABSENT}: the clone cache is turned off "
                         "(GITOPS_HEALTH_CLONE_CACHE)",)  # fmt: skip
    assert "no http(s) clone URL" in no_url.notes[0]
    assert "clone URL could not be read" in unreadable.notes[0]


def test_clone_urls_lose_their_user_info() -> None:
    found = clone_source(KEY, "https://bot:secret@bitbucket.example:8443/scm/p/r.git", "x")
    assert found is not None and found.url == "https://bitbucket.example:8443/scm/p/r.git"
    assert clone_source(KEY, "file:///etc", "x") is None
    assert clone_source(KEY, "ext::sh -c touch% /tmp/pwned", "x") is None


def test_clone_names_stay_inside_the_cache(cache: CloneCache) -> None:
    assert cache.path_of("github/../../etc/passwd").parent == cache.root
    assert cache.path_of("github/a/b") != cache.path_of("github/a_b")


# -- concurrency ----------------------------------------------------------------------------------

WORKER = """
import os, sys
from pathlib import Path
from gitops_health.bot.clones import CloneCache, clone_source
root, url, sha = sys.argv[1:4]
source = clone_source("github/acme/project", url, os.environ["CLONE_TEST_AUTHORIZATION"])
with CloneCache(Path(root), fetch_timeout=60).checkout(source, "main", sha) as clone:
    print(clone)
"""


def run_workers(cache: CloneCache, server: GitHttpServer, sha: str, count: int = 3) -> set[str]:
    env = {**os.environ, "CLONE_TEST_AUTHORIZATION": AUTHORIZATION}
    args = [sys.executable, "-c", WORKER, str(cache.root), server.repo_url("project"), sha]
    workers = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    outputs = [worker.communicate(timeout=60) for worker in workers]
    assert [w.returncode for w in workers] == [0] * count, [err for _, err in outputs]
    return {out.strip() for out, _ in outputs}


def test_processes_fetching_at_once_share_one_sound_clone(
    cache: CloneCache, server: GitHttpServer, origin: Origin
) -> None:
    first = origin.run(origin.work, "rev-parse", "HEAD")
    (clone,) = run_workers(cache, server, first)
    assert ref_advertisements(server) == 1  # one process cloned; the others found it done

    second = origin.commit("feat: next", {"src/next.py": "n\n"}, day=9)
    assert run_workers(cache, server, second) == {clone}
    assert ref_advertisements(server) == 2  # one fetch, under the lock
    origin.run(Path(clone), "fsck", "--full", "--strict")
    assert [p.name for p in cache.root.glob("*.git")] == [Path(clone).name]
    assert not list(cache.root.glob(".tmp-*"))


def test_threads_share_one_clone(cache: CloneCache, server: GitHttpServer, origin: Origin) -> None:
    head = origin.run(origin.work, "rev-parse", "HEAD")
    seen: list[int] = []

    def use() -> None:
        change = add_history(a_change(head), cache, lambda: source_of(server))
        assert change.history is not None
        seen.append(change.history.author.experience)  # type: ignore[union-attr]

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert seen == [1, 1, 1, 1]
    assert ref_advertisements(server) == 1


# -- eviction -------------------------------------------------------------------------------------


def test_unused_and_oversized_clones_are_evicted_but_never_one_in_use(
    cache: CloneCache, server: GitHttpServer, origin: Origin
) -> None:
    head = origin.run(origin.work, "rev-parse", "HEAD")
    other = CloneSource("github/acme/other", server.repo_url("project"), AUTHORIZATION)
    with cache.checkout(source_of(server), "main", head):
        pass
    with cache.checkout(other, "main", head):
        pass
    stale = cache.path_of(KEY).with_suffix(".lock")
    month_ago = time.time() - 30 * 86400
    os.utime(stale, (month_ago, month_ago))

    assert cache.evict() == [cache.path_of(KEY).name]
    assert cache.path_of(other.key).is_dir()

    cache.max_size_bytes = 1
    with cache.checkout(other, "main", head):
        assert cache.evict() == []  # over the cap, but in use
    assert cache.evict() == [cache.path_of(other.key).name]


# -- settings -------------------------------------------------------------------------------------


def test_settings_place_and_switch_the_cache(tmp_path: Path) -> None:
    settings = Settings.from_env({"GITOPS_HEALTH_DATA_DIR": str(tmp_path)})
    cache = CloneCache.from_settings(settings)
    assert cache is not None and cache.root == tmp_path / "clones"
    off = Settings.from_env({"GITOPS_HEALTH_DATA_DIR": str(tmp_path),
                             "GITOPS_HEALTH_CLONE_CACHE": "off"})  # fmt: skip
    assert CloneCache.from_settings(off) is None
    with pytest.raises(SettingsError, match="GITOPS_HEALTH_CLONE_CACHE"):
        Settings.from_env({"GITOPS_HEALTH_CLONE_CACHE": "maybe"})
    with pytest.raises(SettingsError, match="GITOPS_HEALTH_CLONE_TIMEOUT"):
        Settings.from_env({"GITOPS_HEALTH_CLONE_TIMEOUT": "0"})


# -- the adapters ---------------------------------------------------------------------------------


@pytest.fixture
def github_pull(fake_github: FakeGitHub, origin: Origin) -> Iterator[tuple[PullData, Origin]]:
    with git_http_server(
        origin.served, basic_authorization("x-access-token", INSTALLATION_TOKEN)
    ) as git_server:
        fake_github.clone_url = git_server.repo_url("project")
        pull = fake_github.add_pull(
            PullData(
                2,
                head_sha="e" * 40,
                base_sha=origin.run(origin.work, "rev-parse", "HEAD"),
                files=[file_entry("src/app.py", ["c"], status="modified")],
                commits=[commit_entry("e" * 40, "feat: say more")],
            )
        )
        yield pull, origin


def deliver(bot: RunningBot, fixture: str) -> str:
    answer = bot.post("github", "pull_request", fixture_payload(fixture))
    assert answer.status_code == 202, answer.text
    bot.drain()
    (comment,) = bot.fake.comments.values()
    return str(comment["body"])


def test_github_pr_report_has_history_figures_from_the_clone(
    running_bot: RunningBot, github_pull: tuple[PullData, Origin]
) -> None:
    pull, origin = github_pull
    body = deliver(running_bot, "pull_request.opened.payload.json")
    assert HISTORY_ABSENT not in body
    assert "touched files had 2 prior changes by 3 developers" in body  # file history
    ref = PullRequestRef("github", "Codertocat", "Hello-World", 2)
    history = running_bot.runtime.forge("github").snapshot(ref).change.history
    assert history is not None and history.author is not None
    assert history.author.file_changes == 1  # the author's experience
    clone = running_bot.runtime.settings.clone_dir
    (first,) = [packs(path) for path in clone.glob("*.git")]

    pull.base_sha = origin.commit("fix(src): again", {"src/app.py": "a\nb\nc\n"}, ALICE, day=9)
    body = deliver(running_bot, "pull_request.synchronize.payload.json")
    assert "touched files had 3 prior changes by 3 developers" in body
    (later,) = [packs(path) for path in clone.glob("*.git")]
    assert first < later


def test_github_pr_without_a_reachable_clone_still_gets_a_report(
    running_bot: RunningBot, github_pull: tuple[PullData, Origin], fake_github: FakeGitHub
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    fake_github.clone_url = f"http://127.0.0.1:{port}/nothing.git"  # nothing listens there now
    body = deliver(running_bot, "pull_request.opened.payload.json")
    assert f"{HISTORY_ABSENT}: git fetch from {fake_github.clone_url} failed" in body
    assert INSTALLATION_TOKEN not in body
    assert fake_github.check_runs


def test_github_token_mode_fetches_with_the_token_into_the_configured_directory(
    bot_env: dict[str, str],
    tmp_path: Path,
    fake_github: FakeGitHub,
    github_pull: tuple[PullData, Origin],
) -> None:
    pull, origin = github_pull
    env = {k: v for k, v in bot_env.items() if "APP_ID" not in k and "PRIVATE_KEY" not in k}
    env |= {"GITOPS_HEALTH_GITHUB_TOKEN": "ghp_plaintoken0123",
            "GITOPS_HEALTH_CLONE_DIR": str(tmp_path / "elsewhere")}  # fmt: skip
    engine = make_engine(f"sqlite:///{tmp_path / 'token.db'}")
    upgrade(engine)
    forge = GitHubForge(Settings.from_env(env), Store(engine))
    with git_http_server(
        origin.served, basic_authorization("x-access-token", "ghp_plaintoken0123")
    ) as git:
        fake_github.clone_url = git.repo_url("project")
        change = forge.snapshot(PullRequestRef("github", "Codertocat", "Hello-World", 2)).change
    assert change.history is not None and change.history.base_sha == pull.base_sha
    assert len(list((tmp_path / "elsewhere").glob("*.git"))) == 1


def test_bitbucket_cloud_fetches_with_the_access_token(
    tmp_path: Path, origin: Origin, cache: CloneCache
) -> None:
    fake = FakeBitbucketCloud()
    fake.base = origin.run(origin.work, "rev-parse", "HEAD")
    with (
        serve(fake),
        git_http_server(origin.served, basic_authorization("x-token-auth", "cloud-token")) as git,
    ):
        fake.clone_url = git.repo_url("project").replace("://", "://bot@")
        forge = BitbucketCloudForge(api_url=fake.base_url, token="cloud-token", clones=cache)
        change = forge.snapshot(PullRequestRef("bitbucket-cloud", "acme", "payments", 7)).change
        assert change.history is not None and change.history.base_sha == fake.base
        assert not any(HISTORY_ABSENT in note for note in change.notes)
        forge.snapshot(PullRequestRef("bitbucket-cloud", "acme", "payments", 7))
    assert len(fake.calls("GET", r"/repositories/acme/payments$")) == 1  # link read once


def test_bitbucket_data_center_fetches_with_a_bearer_token(
    tmp_path: Path, origin: Origin, cache: CloneCache
) -> None:
    fake = FakeBitbucketServer()
    base = origin.run(origin.work, "rev-parse", "HEAD")
    fake.pull_request["toRef"]["latestCommit"] = base
    with serve(fake), git_http_server(origin.served, bearer_authorization("server-token")) as git:
        fake.pull_request["toRef"]["repository"]["links"]["clone"] = [
            {"name": "ssh", "href": "ssh://git@127.0.0.1:7999/at/atlantis-example.git"},
            {"name": "http", "href": git.repo_url("project")},
        ]
        forge = BitbucketServerForge(url=fake.base_url, token="server-token", clones=cache)
        ref = PullRequestRef("bitbucket-server", "AT", "atlantis-example", 3)
        change = forge.snapshot(ref).change
    assert change.history is not None and change.history.base_sha == base
    assert {r.authorization for r in git.requests} == {"Bearer server-token"}
