"""The bare-clone cache history features are computed from: one clone per repository.

Layout under the clone directory (`GITOPS_HEALTH_CLONE_DIR`, default `<data dir>/clones`):

    <name>.git/   a bare repository, created in `.tmp-<name>-<random>/` and renamed into place
    <name>.lock   its lock file; its modification time is when the clone was last used

A PR needs the history up to its base commit only. When that commit is already in the clone
nothing is fetched; otherwise the base branch is fetched into `refs/heads/<base>` (git sends
what the clone has, so only new objects come), then the commit itself by SHA when the branch
does not hold it (rewritten or deleted). Never shallow: history needs every commit. Each fetch
stays one pack; git's automatic repack, when due, runs inside the exclusive lock.

Concurrency: an `flock` on `<name>.lock` is held shared while a clone is read and exclusive
while it is created, fetched into or evicted, so two workers (threads or processes: each
acquisition opens its own file description) never fetch into one clone at once and a clone
is never deleted under a reader. Index: the clone directory itself and the lock file's
mtime, both changed only under that lock, are the whole record (last use for eviction, size
measured when evicting). A database table would be a second copy that can disagree with the
disk after a crash, and the cache is per machine (each machine keeps its own clones, while
the database is shared by all of them), so the files are the simplest correct index.

Credentials never touch the disk or a command line: the Authorization header reaches git
through `GIT_CONFIG_*` environment variables of that one command (readable only by our own
user), the clone's config holds no remote at all, git never prompts nor asks a credential
helper, does not follow redirects (the header would go along), speaks only http(s), and every
git command runs under a timeout.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import git

from gitops_health.rules.change import Change
from gitops_health.rules.history import HistoryUnavailable, with_history

if TYPE_CHECKING:
    from gitops_health.bot.settings import Settings

log = logging.getLogger(__name__)

HISTORY_ABSENT = "history features absent"
LOCAL_TIMEOUT = 60.0  # seconds for git commands that do not touch the network
EVICTION_INTERVAL = 3600.0  # seconds between two eviction passes of one process
DAY = 86400.0
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_LOCK_POLL = (0.02, 0.5)  # first and longest wait between two tries of a busy lock


class CloneError(RuntimeError):
    """The clone could not be created or fetched; the message names why, without secrets."""


class CloneTimeout(CloneError):
    """A git command ran past its timeout and was killed."""


@dataclass(frozen=True)
class CloneSource:
    """Where a repository's history comes from and the header that authenticates the fetch."""

    key: str  # forge/owner/repo: one clone per key
    url: str  # http(s) clone URL without credentials
    authorization: str = field(default="", repr=False)  # the HTTP Authorization header value


def clone_source(key: str, url: str | None, authorization: str = "") -> CloneSource | None:
    """A source for an http(s) clone URL (user info dropped); None for any other URL."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return CloneSource(key, urlunsplit(parts._replace(netloc=host)), authorization)


def clone_link(links: list[dict[str, str]], *names: str) -> str:
    """The href of the first clone link named one of `names` (Bitbucket's `links.clone`)."""
    return next((link.get("href", "") for link in links if link.get("name") in names), "")


def basic_authorization(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def bearer_authorization(token: str) -> str:
    return f"Bearer {token}"


def clone_name(key: str) -> str:
    """A flat, readable, collision-free directory name for `key`."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "_", key).strip("_")[:80]
    return f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def git_environment(authorization: str) -> dict[str, str]:
    """Environment of one git command: no prompts or credential helpers, the header if any.

    The host's git config still applies (proxies, CA bundles an operator set up).
    """
    config = [
        ("credential.helper", ""),
        ("http.followRedirects", "false"),
        ("protocol.allow", "never"),
        ("protocol.http.allow", "always"),
        ("protocol.https.allow", "always"),
        ("fetch.unpackLimit", "1"),  # keep each fetch one pack, not loose objects
        ("gc.autoDetach", "false"),  # an automatic repack runs inside the exclusive lock
        ("http.lowSpeedLimit", "1000"),
        ("http.lowSpeedTime", "60"),
    ]
    if authorization:
        config.append(("http.extraHeader", f"Authorization: {authorization}"))
    env = {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GIT_CONFIG_COUNT": str(len(config)),
    }
    for index, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def _secrets_of(authorization: str) -> list[str]:
    """The header's credential and, for Basic, its decoded user:password and password."""
    credential = authorization.partition(" ")[2]
    found = [credential]
    with suppress(ValueError):
        pair = base64.b64decode(credential, validate=True).decode()
        found += [pair, pair.partition(":")[2]]
    return [secret for secret in found if len(secret) >= 4]


def _redacted(text: str, authorization: str) -> str:
    for secret in _secrets_of(authorization):
        text = text.replace(secret, "***")
    return text


class _HeldLock:
    """One open file description of a lock file; `hold` switches shared/exclusive/none."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def hold(self, mode: int, deadline: float) -> None:
        if mode == fcntl.LOCK_EX:
            fcntl.flock(self.fd, fcntl.LOCK_UN)  # a conversion is not atomic anyway: be plain
        wait = _LOCK_POLL[0]
        while True:
            try:
                fcntl.flock(self.fd, mode | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CloneError("another worker held the clone too long") from None
                time.sleep(wait)
                wait = min(wait * 2, _LOCK_POLL[1])

    def try_exclusive(self) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def close(self) -> None:
        os.close(self.fd)  # releases the lock


class CloneCache:
    """Bare clones under `root`, fetched on demand and evicted when unused or over a size cap."""

    def __init__(
        self,
        root: Path,
        *,
        fetch_timeout: float = 300.0,
        max_age_days: float = 14.0,
        max_size_bytes: int = 0,
    ) -> None:
        self.root = Path(root)
        self.fetch_timeout = fetch_timeout
        self.max_age_seconds = max_age_days * DAY
        self.max_size_bytes = max_size_bytes
        self._next_eviction = 0.0
        self._eviction_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> CloneCache | None:
        """The cache the settings describe; None when `GITOPS_HEALTH_CLONE_CACHE=off`."""
        clones = settings.clones
        if not clones.enabled:
            return None
        return cls(
            settings.clone_dir,
            fetch_timeout=clones.timeout_seconds,
            max_age_days=clones.max_age_days,
            max_size_bytes=int(clones.max_size_mb * 1024 * 1024),
        )

    def path_of(self, key: str) -> Path:
        return self.root / f"{clone_name(key)}.git"

    # -- using a clone ------------------------------------------------------------------------

    @contextmanager
    def checkout(self, source: CloneSource, base_ref: str, base_sha: str) -> Iterator[Path]:
        """The clone of `source` holding `base_sha` (or branch `base_ref`), read-locked."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.path_of(source.key)
        lock = _HeldLock(path.with_suffix(".lock"))
        deadline = time.monotonic() + self.fetch_timeout + LOCAL_TIMEOUT
        try:
            lock.hold(fcntl.LOCK_SH, deadline)
            if not self._has(path, base_sha):
                lock.hold(fcntl.LOCK_EX, deadline)
                if not self._has(path, base_sha):  # another worker may have fetched it
                    self._update(path, source, base_ref, base_sha)
                lock.hold(fcntl.LOCK_SH, deadline)
            os.utime(path.with_suffix(".lock"))  # last used, for eviction
            yield path
        finally:
            lock.close()
        self._evict_now_and_then()

    def _has(self, path: Path, sha: str) -> bool:
        if not sha or not (path / "HEAD").is_file():
            return False
        status, _ = self._git(path, ["cat-file", "-e", f"{sha}^{{commit}}"], LOCAL_TIMEOUT)
        return status == 0

    def _update(self, path: Path, source: CloneSource, base_ref: str, base_sha: str) -> None:
        started = time.monotonic()
        if (path / "HEAD").is_file():
            self._fetch(path, source, base_ref, base_sha)
            action = "fetched into"
        else:
            self._create(path, source, base_ref, base_sha)
            action = "cloned"
        log.info("%s %s in %.1fs", action, source.key, time.monotonic() - started)

    def _create(self, path: Path, source: CloneSource, base_ref: str, base_sha: str) -> None:
        temporary = self.root / f".tmp-{path.stem}-{uuid.uuid4().hex[:8]}"
        try:
            self._checked(self.root, ["init", "--quiet", "--bare", str(temporary)], source)
            self._fetch(temporary, source, base_ref, base_sha)
            if path.exists():  # a damaged clone (no HEAD): replace it
                shutil.rmtree(path)
            os.rename(temporary, path)
        finally:
            shutil.rmtree(temporary, ignore_errors=True)

    def _fetch(self, repo: Path, source: CloneSource, base_ref: str, base_sha: str) -> None:
        fetch = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", source.url]
        full_sha = bool(_FULL_SHA.match(base_sha))
        if base_ref:
            branch = f"refs/heads/{base_ref}"
            try:
                self._checked(repo, [*fetch, f"+{branch}:{branch}"], source)
            except CloneTimeout:
                raise
            except CloneError:
                if not full_sha:
                    raise  # else the branch may be gone (deleted, retargeted): ask for the commit
        if not base_sha or self._has(repo, base_sha):
            return
        if not full_sha:
            raise CloneError(f"the base commit {base_sha} is not on branch {base_ref!r}")
        self._checked(repo, [*fetch, f"+{base_sha}:refs/gitops-health/base"], source)

    def _checked(self, cwd: Path, args: list[str], source: CloneSource) -> None:
        timeout = self.fetch_timeout if args[0] == "fetch" else LOCAL_TIMEOUT
        status, stderr = self._git(cwd, args, timeout, git_environment(source.authorization))
        if status == 0:
            return
        what = f"git {args[0]} from {source.url}" if args[0] == "fetch" else f"git {args[0]}"
        if status < 0 or "did not complete in" in stderr:
            raise CloneTimeout(f"{what} timed out after {timeout:g} s")
        raise CloneError(f"{what} failed: {_reason(_redacted(stderr, source.authorization))}")

    def _git(
        self, cwd: Path, args: list[str], timeout: float, env: dict[str, str] | None = None
    ) -> tuple[int, str]:
        status, _, stderr = git.Git(str(cwd)).execute(
            ["git", *args],
            env=env or git_environment(""),
            kill_after_timeout=timeout,
            with_exceptions=False,
            with_extended_output=True,
        )
        return int(status or 0), str(stderr)

    # -- eviction -----------------------------------------------------------------------------

    def _evict_now_and_then(self) -> None:
        with self._eviction_lock:
            if time.monotonic() < self._next_eviction:
                return
            self._next_eviction = time.monotonic() + EVICTION_INTERVAL
        try:
            self.evict()
        except OSError as exc:
            log.warning("evicting clones failed: %s", exc)

    def evict(self, now: float | None = None) -> list[str]:
        """Remove idle clones unused for `max_age_days`, then the least recently used ones
        while the cache is over `max_size_bytes`; returns the names removed."""
        now = time.time() if now is None else now
        clones = sorted(
            (_last_used(path), path) for path in self.root.glob("*.git") if path.is_dir()
        )
        sizes = {path: _size(path) for _, path in clones} if self.max_size_bytes else {}
        total = sum(sizes.values())
        removed = []
        for last_used, path in clones:
            too_old = now - last_used > self.max_age_seconds
            too_big = bool(self.max_size_bytes) and total > self.max_size_bytes
            if (too_old or too_big) and self._remove_if_idle(path):
                total -= sizes.get(path, 0)
                removed.append(path.name)
        self._remove_abandoned_temporaries(now)
        if removed:
            log.info("evicted %d clone(s): %s", len(removed), ", ".join(removed))
        return removed

    def _remove_if_idle(self, path: Path) -> bool:
        lock = _HeldLock(path.with_suffix(".lock"))
        try:
            if not lock.try_exclusive():
                return False  # in use right now
            trash = self.root / f".tmp-{path.stem}-evicted-{uuid.uuid4().hex[:8]}"
            os.rename(path, trash)
            shutil.rmtree(trash, ignore_errors=True)
            return True
        finally:
            lock.close()

    def _remove_abandoned_temporaries(self, now: float) -> None:
        """`.tmp-*` left by a process that died mid-clone (older than any fetch may take)."""
        for temporary in self.root.glob(".tmp-*"):
            with suppress(OSError):
                if now - temporary.stat().st_mtime > 2 * (self.fetch_timeout + LOCAL_TIMEOUT):
                    shutil.rmtree(temporary, ignore_errors=True)


def _last_used(path: Path) -> float:
    try:
        return path.with_suffix(".lock").stat().st_mtime
    except OSError:
        return path.stat().st_mtime


def _size(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def _reason(stderr: str) -> str:
    """git's last word, in the terms of the bot (it sends credentials, it never prompts)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    line = lines[-1] if lines else "no message from git"
    if "terminal prompts disabled" in line:  # a 401 to the header git sent
        return "the server refused the bot's credentials (HTTP 401)"
    return re.sub(r"^(fatal|error): ", "", line)[:300]


# -- what the adapters call ---------------------------------------------------------------------


def without_history(change: Change, reason: str) -> Change:
    return replace(change, notes=(*change.notes, f"{HISTORY_ABSENT}: {reason}"))


def add_history(
    change: Change, cache: CloneCache | None, source: Callable[[], CloneSource | None]
) -> Change:
    """`change` with its history from the clone cache, or with a note saying why it has none.

    `source` is called only when the cache is on (reading the clone URL may cost a request);
    any failure there or in git leaves the report without history, never without a report.
    """
    if cache is None:
        return without_history(change, "the clone cache is turned off (GITOPS_HEALTH_CLONE_CACHE)")
    try:
        found = source()
    except Exception as exc:  # a forge fault here costs the history only
        log.warning("clone URL of %s not readable: %s", change.repository, type(exc).__name__)
        return without_history(change, "the repository's clone URL could not be read")
    if found is None:
        return without_history(change, "the forge gave no http(s) clone URL for the repository")
    try:
        with cache.checkout(found, change.base_ref, change.base_sha) as path:
            return with_history(change, path)
    except (CloneError, HistoryUnavailable, OSError, git.GitError) as exc:
        reason = _redacted(str(exc), found.authorization)
        log.warning("history of %s absent: %s", found.key, reason)
        return without_history(change, reason)
