"""Load benchmark on loopback: sustained deliveries per second with zero loss, and webhook
acknowledgement latency, for the embedded mode (SQLite + SQLite queue) and the scale-out mode
(PostgreSQL + Redis, gunicorn web + `gitops-health bot worker` processes).

Every run starts real bot processes against a fresh database and queue, warms them up, then
sends a bounded closed-loop load of signed `pull_request` deliveries (the captured payload,
re-numbered over many PRs of the local GitHub of the tests, unique delivery ids plus a few
redeliveries of ids already sent). It then waits until the delivery table says every accepted
delivery is finished and checks that nothing was lost: every accepted delivery is `done`, no
answer was a 5xx, and every PR carries exactly one bot comment.

Run: .venv/bin/python bench/bench_load.py [--count N] [--duration S] [--workers 1,2,4]
     [--storage embedded,pg-redis] [--throttled] [--write]     (`--help` for the rest)
About 6 minutes on a busy 2-core machine. `--write` replaces the "load" section of
bench/RESULTS.md with the table printed; PostgreSQL (127.0.0.1:5432, user postgres) and Redis
(127.0.0.1:6379, db 14) are needed for `pg-redis`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import requests
import sqlalchemy as sa
from redis.exceptions import RedisError

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "bot")]

import github_fake as github  # noqa: E402
from bench_bot import percentile, private_key  # noqa: E402
from testkit import free_port  # noqa: E402

from gitops_health.bot.models import Delivery, DeliveryStatus  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "<!-- section:load -->"
BIN = Path(sys.executable).parent
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
BASE_SHA = "b" * 40
WARM_UP_PR = 10_000  # warm-up deliveries go to PRs from here on, apart from the measured ones
REDELIVER_EVERY = 20  # every 20th request repeats the delivery id sent 10 requests before
FINISHED = (DeliveryStatus.DONE, DeliveryStatus.FAILED)
LOG_PROBLEMS = ("ERROR", "Traceback", "database is locked", "failed (attempt")
UNTHROTTLED = {  # PyGithub's pauses between requests, off unless --throttled
    "GITOPS_HEALTH_GITHUB_SECONDS_BETWEEN_REQUESTS": "0",
    "GITOPS_HEALTH_GITHUB_SECONDS_BETWEEN_WRITES": "0",
}


@dataclass(frozen=True)
class Setup:
    """One configuration under test."""

    storage: str  # "embedded" (SQLite database + SQLite queue) or "pg-redis"
    worker_processes: int  # 0: the worker threads inside `bot serve`

    def title(self, threads: int, web_workers: int) -> str:
        if self.storage == "pg-redis":
            web = f"PostgreSQL + Redis, gunicorn ×{web_workers}"
        elif self.worker_processes:
            web = "SQLite + SQLite queue, `bot serve --no-worker`"
        else:
            return (
                f"SQLite + SQLite queue, `bot serve` with its embedded worker ({threads} threads)"
            )
        return f"{web} + {self.worker_processes} × `bot worker` ({threads} threads each)"


@dataclass
class Options:
    count: int
    duration: float
    concurrency: int
    prs: int
    files: int
    burst: int
    threads: int
    web_workers: int
    drain_timeout: float
    throttled: bool
    setups: list[Setup]
    write: bool


@dataclass
class Outcome:
    setup: Setup
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    server_errors: int = 0
    other_answers: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    send_seconds: float = 0.0
    drain_seconds: float = 0.0
    done: int = 0
    failed: int = 0
    unfinished: int = 0
    prs_loaded: int = 0
    comments_per_bad_pr: dict[int, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    log_problems: Counter[str] = field(default_factory=Counter)
    error: str = ""

    @property
    def lost(self) -> int:
        return self.accepted - self.done

    @property
    def processed_per_second(self) -> float:
        return self.done / self.drain_seconds if self.drain_seconds else 0.0

    @property
    def zero_loss(self) -> bool:
        return (
            not self.error
            and self.lost == 0
            and self.server_errors == 0
            and not self.comments_per_bad_pr
        )


# -- the local GitHub, in a process of its own (so its threads don't share our GIL) ----------


def serve_fake_github(connection: Connection, numbers: list[int], files: int) -> None:
    """Child process: serve PRs `numbers`, send the API URL, answer "comments" until "stop"."""
    fake = github.FakeGitHub()
    for number in numbers:
        head = f"{number:040x}"
        fake.add_pull(
            github.PullData(
                number,
                head_sha=head,
                base_sha=BASE_SHA,
                files=[
                    github.file_entry(f"src/pr_{number}/module_{i}.py", [f"value_{i} = {i}"] * 3)
                    for i in range(files)
                ],
                commits=[github.commit_entry(head, f"feat: change number {number}")],
            )
        )
    fake.thread.start()
    connection.send(fake.api)
    while connection.recv() == "comments":
        connection.send(Counter(comment["issue"] for comment in list(fake.comments.values())))
    fake.server.shutdown()


class FakeGitHubProcess:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.api: str = connection.recv()

    def comments(self) -> Counter[int]:
        """Bot comments per PR number."""
        self._connection.send("comments")
        return self._connection.recv()


@contextmanager
def fake_github(numbers: list[int], files: int) -> Iterator[FakeGitHubProcess]:
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    process = spawn.Process(target=serve_fake_github, args=(theirs, numbers, files), daemon=True)
    process.start()
    try:
        yield FakeGitHubProcess(ours)
        ours.send("stop")
        process.join(10)
    finally:
        if process.is_alive():
            process.kill()
            process.join()


# -- services -----------------------------------------------------------------------------


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the local PostgreSQL, dropped afterwards."""
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"gh_load_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def redis_queue() -> Iterator[str]:
    """A queue name unique to this run on Redis db 14, emptied afterwards."""
    from huey import RedisHuey

    name = f"gitops-health-load-{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        RedisHuey(name, url=REDIS_URL).storage.flush_all()


class Processes:
    """Bot processes of one run, each in its own session; all stopped on exit, even on Ctrl-C."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, *command: str) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running.append((name, process))

    def cpu_seconds(self) -> float:
        """User + system time so far of every live process in our process groups (gunicorn
        workers included), from /proc."""
        groups = {str(process.pid) for _, process in self.running}
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with suppress(OSError):
                fields = stat.read_text().rpartition(")")[2].split()
                if fields[2] in groups:
                    ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def check_alive(self) -> None:
        for name, process in self.running:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}: {self.tail(name)}")

    def log_problems(self) -> Counter[str]:
        """Lines of the bot logs that show trouble, by kind."""
        found: Counter[str] = Counter()
        for log in self.log_dir.glob("*.log"):
            for line in log.read_text(errors="replace").splitlines():
                found.update(kind for kind in LOG_PROBLEMS if kind in line)
        return found

    def tail(self, name: str, lines: int = 5) -> str:
        text = (self.log_dir / f"{name}.log").read_text(errors="replace")
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to each leader (gunicorn stops its own workers), SIGKILL to stragglers."""
        for _, process in self.running:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for _, process in self.running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            with suppress(ProcessLookupError):  # orphans of a leader that died first
                os.killpg(process.pid, signal.SIGKILL)
        self.running.clear()


def bot_env(options: Options, api: str, data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITOPS_HEALTH_")}
    return env | {
        "GITOPS_HEALTH_DATA_DIR": str(data_dir),
        "GITOPS_HEALTH_GITHUB_WEBHOOK_SECRET": github.WEBHOOK_SECRET,
        "GITOPS_HEALTH_GITHUB_APP_ID": "1",
        "GITOPS_HEALTH_GITHUB_PRIVATE_KEY": private_key(),
        "GITOPS_HEALTH_GITHUB_API_URL": api,
        "GITOPS_HEALTH_WORKERS": str(options.threads),
        **({} if options.throttled else UNTHROTTLED),
        **extra,
    }


def start_bot(processes: Processes, setup: Setup, options: Options, port: int) -> None:
    """Start web and worker processes together, as an orchestrator would."""
    if setup.storage == "pg-redis":
        bind = f"127.0.0.1:{port}"
        workers = str(options.web_workers)
        processes.start(
            "web", str(BIN / "gunicorn"), "--bind", bind, "--workers", workers,
            "gitops_health.bot.app:wsgi()",
        )  # fmt: skip
    else:
        no_worker = ("--no-worker",) if setup.worker_processes else ()
        processes.start("web", str(BIN / "gitops-health"), "bot", "serve", "--port", str(port),
                        *no_worker)  # fmt: skip
    for index in range(setup.worker_processes):
        processes.start(f"worker-{index}", str(BIN / "gitops-health"), "bot", "worker")


def wait_ready(processes: Processes, url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes.check_alive()
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the bot at {url} was not ready after {timeout:.0f} s")


# -- load -----------------------------------------------------------------------------------


def payloads(numbers: list[int]) -> dict[tuple[int, str], bytes]:
    """Bodies of `opened` (first delivery of a PR) and `synchronize` events per PR number."""
    bodies = {}
    for action in ("opened", "synchronize"):
        event = github.fixture_payload(f"pull_request.{action}.payload.json")
        for number in numbers:
            event["number"] = event["pull_request"]["number"] = number
            bodies[number, action] = json.dumps(event).encode()
    return bodies


@dataclass(frozen=True)
class Planned:
    delivery: str
    number: int
    body: bytes


@dataclass(frozen=True)
class Sent:
    planned: Planned
    status: int
    answer: str  # the "status" of the JSON answer: queued, duplicate, …
    seconds: float


def send_load(
    bot: github.RunningBot,
    plan: list[Planned],
    concurrency: int,
    duration: float,
    stop: threading.Event,
) -> list[Sent]:
    """Closed loop: `concurrency` senders post the plan in order until done or time is up."""
    sent: list[Sent] = []
    indices = itertools.count()
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def sender() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            with lock:
                index = next(indices)
            if index >= len(plan):
                return
            planned = plan[index]
            started = time.perf_counter()
            try:
                answer = bot.post("github", "pull_request", planned.body, delivery=planned.delivery)
                status, text = answer.status_code, answer.json().get("status", "")
            except (requests.RequestException, ValueError) as exc:
                status, text = 0, type(exc).__name__
            with lock:
                sent.append(Sent(planned, status, text, time.perf_counter() - started))

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except BaseException:  # Ctrl-C: the senders stop too
        stop.set()
        raise
    return sent


def load_plan(run: str, numbers: list[int], count: int, burst: int) -> list[Planned]:
    """`count` requests over the PRs in turn, `burst` back to back for each PR (so workers
    meet the same PR at once); every REDELIVER_EVERY-th request repeats an earlier id."""
    bodies = payloads(numbers)
    plan: list[Planned] = []
    for index in range(count):
        if index % REDELIVER_EVERY == REDELIVER_EVERY - 1:
            plan.append(plan[index - 10])
            continue
        number = numbers[index // burst % len(numbers)]
        action = "opened" if index < len(numbers) * burst and index % burst == 0 else "synchronize"
        plan.append(Planned(f"{run}-{index}", number, bodies[number, action]))
    return plan


def finished_count(engine: sa.Engine, since: int) -> int:
    with engine.connect() as connection:
        return connection.scalar(
            sa.select(sa.func.count())
            .select_from(Delivery)
            .where(Delivery.status.in_(FINISHED), Delivery.id > since)
        )


def wait_finished(
    engine: sa.Engine, processes: Processes, expected: int, since: int, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while finished_count(engine, since) < expected and time.monotonic() < deadline:
        processes.check_alive()
        time.sleep(0.2)


def statuses(engine: sa.Engine, since: int) -> tuple[Counter[str], datetime | None]:
    """Delivery states after row `since`, and when the last one finished."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(Delivery.status, sa.func.count()).where(Delivery.id > since)
            .group_by(Delivery.status)
        ).all()  # fmt: skip
        last = connection.scalar(
            sa.select(sa.func.max(Delivery.finished_at)).where(Delivery.id > since)
        )
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return Counter({status: count for status, count in rows}), last


def last_row(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.coalesce(sa.func.max(Delivery.id), 0)))


def warm_up(bot: github.RunningBot, engine: sa.Engine, processes: Processes, jobs: int) -> None:
    """Load the engines in every worker before measuring (the first job imports them)."""
    sent = [
        bot.post("github", "pull_request", body, delivery=f"warm-{uuid.uuid4().hex}")
        for body in payloads(list(range(WARM_UP_PR, WARM_UP_PR + jobs))).values()
    ]
    if any(answer.status_code != 202 for answer in sent):
        raise RuntimeError(f"warm-up answers: {sorted({a.status_code for a in sent})}")
    wait_finished(engine, processes, len(sent), 0, timeout=120)


# -- one run --------------------------------------------------------------------------------


def progress(step: str, started: float = time.monotonic()) -> None:
    print(f"  {time.monotonic() - started:6.1f} s  {step}", file=sys.stderr, flush=True)


def run_setup(setup: Setup, options: Options, stop: threading.Event) -> Outcome:
    outcome = Outcome(setup)
    try:
        measure_setup(outcome, options, stop)
    except (sa.exc.SQLAlchemyError, RedisError, OSError) as exc:  # a service is not there
        outcome.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return outcome


def measure_setup(outcome: Outcome, options: Options, stop: threading.Event) -> None:
    setup = outcome.setup
    numbers = list(range(1, options.prs + 1))
    warm_jobs = max(2, setup.worker_processes) * options.threads
    with ExitStack() as stack:
        fake = stack.enter_context(
            fake_github(numbers + list(range(WARM_UP_PR, WARM_UP_PR + warm_jobs)), options.files)
        )
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gh-load-")))
        extra = {}
        if setup.storage == "pg-redis":
            metrics_dir = data_dir / "metrics"
            metrics_dir.mkdir()
            extra = {
                "GITOPS_HEALTH_DATABASE_URL": stack.enter_context(postgres_database()),
                "GITOPS_HEALTH_QUEUE_URL": REDIS_URL,
                "GITOPS_HEALTH_QUEUE_NAME": stack.enter_context(redis_queue()),
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            }
        env = bot_env(options, fake.api, data_dir, extra)
        database = env.get("GITOPS_HEALTH_DATABASE_URL", f"sqlite:///{data_dir / 'bot.db'}")
        processes = Processes(data_dir, env)
        port = free_port()
        bot = github.RunningBot(f"http://127.0.0.1:{port}", None, None)  # type: ignore[arg-type]
        try:
            start_bot(processes, setup, options, port)
            wait_ready(processes, bot.url)
            progress("ready")
            engine = stack.enter_context(open_engine(database))
            warm_up(bot, engine, processes, warm_jobs)
            progress("warmed up")
            loaded = measure(outcome, bot, engine, processes, options, stop)
            progress("measured")
            per_pr = fake.comments()
            outcome.prs_loaded = len(loaded)
            outcome.comments_per_bad_pr = {n: per_pr[n] for n in loaded if per_pr.get(n, 0) != 1}
        except RuntimeError as exc:
            outcome.error = str(exc)
        finally:
            processes.stop()
            outcome.log_problems = processes.log_problems()
            progress("stopped")


@contextmanager
def open_engine(url: str) -> Iterator[sa.Engine]:
    from gitops_health.bot.db import make_engine

    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def measure(
    outcome: Outcome,
    bot: github.RunningBot,
    engine: sa.Engine,
    processes: Processes,
    options: Options,
    stop: threading.Event,
) -> set[int]:
    """Send the load, wait for the workers, fill `outcome`; returns the PRs that got work."""
    run = f"load-{uuid.uuid4().hex[:8]}"
    plan = load_plan(run, list(range(1, options.prs + 1)), options.count, options.burst)
    since = last_row(engine)
    cpu_before = processes.cpu_seconds()
    started_wall = datetime.now(UTC)
    started = time.perf_counter()
    sent = send_load(bot, plan, options.concurrency, options.duration, stop)
    outcome.send_seconds = time.perf_counter() - started
    outcome.sent = len(sent)
    outcome.latencies = [s.seconds for s in sent]
    outcome.server_errors = sum(s.status >= 500 or s.status == 0 for s in sent)
    outcome.other_answers = Counter(s.status for s in sent if s.status not in (202,))
    queued = [s.planned for s in sent if s.answer == "queued"]
    outcome.accepted = len({planned.delivery for planned in queued})
    outcome.duplicates = sum(s.answer == "duplicate" for s in sent)
    wait_finished(engine, processes, outcome.accepted, since, options.drain_timeout)
    outcome.cpu_seconds = processes.cpu_seconds() - cpu_before
    counts, last = statuses(engine, since)
    outcome.done = counts[DeliveryStatus.DONE]
    outcome.failed = counts[DeliveryStatus.FAILED]
    outcome.unfinished = sum(counts.values()) - outcome.done - outcome.failed
    if sum(counts.values()) != outcome.accepted:
        outcome.error = f"{sum(counts.values())} rows recorded for {outcome.accepted} accepted"
    if last is not None:
        outcome.drain_seconds = (last - started_wall).total_seconds()
    return {planned.number for planned in queued}


# -- report ---------------------------------------------------------------------------------


def machine(load_before: float) -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    cpus = len(os.sched_getaffinity(0))
    text = f"{model}, {cpus} CPUs (nproc), load average {load_before:.1f} before the bench"
    if load_before > 0.5 * cpus:
        text += " (**taken under load from other jobs: noisy; re-run on a quiet machine**)"
    return text


def table(outcomes: list[Outcome], options: Options) -> str:
    rows = [
        "| setup | sent | accepted (+ duplicates) | ack p50 | ack p99 | accepted/s "
        "| processed/s sustained | bot CPU per delivery | lost | 5xx | PRs with 1 comment |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for o in outcomes:
        title = o.setup.title(options.threads, options.web_workers)
        if o.error and not o.sent:
            rows.append(f"| {title} | failed: {o.error} |" + " |" * 9)
            continue
        cpu = o.cpu_seconds / o.done * 1000 if o.done else 0.0
        rows.append(
            f"| {title} | {o.sent} | {o.accepted} (+{o.duplicates}) "
            f"| {percentile(o.latencies, 0.5) * 1000:.0f} ms "
            f"| {percentile(o.latencies, 0.99) * 1000:.0f} ms "
            f"| {o.accepted / o.send_seconds:.0f} | {o.processed_per_second:.1f} "
            f"| {cpu:.0f} ms | {o.lost} | {o.server_errors} "
            f"| {o.prs_loaded - len(o.comments_per_bad_pr)}/{o.prs_loaded} |"
        )
    return "\n".join(rows)


def notes(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for o in outcomes:
        if o.error:
            lines.append(f"- {o.setup.storage}/{o.setup.worker_processes}: {o.error}")
        if o.comments_per_bad_pr:
            lines.append(
                f"- {o.setup.storage}/{o.setup.worker_processes}: comments on PRs that do not "
                f"have exactly one (PR: comments): {o.comments_per_bad_pr}"
            )
        if o.log_problems:
            lines.append(
                f"- {o.setup.storage}/{o.setup.worker_processes}: log lines with "
                + ", ".join(f"{kind!r}: {n}" for kind, n in sorted(o.log_problems.items()))
            )
        if o.failed or o.unfinished or o.other_answers:
            lines.append(
                f"- {o.setup.storage}/{o.setup.worker_processes}: {o.failed} failed, "
                f"{o.unfinished} unfinished, answers other than 202: {dict(o.other_answers)}"
            )
    verdict = all(o.zero_loss for o in outcomes)
    lines.append(f"- zero loss in every run: {'yes' if verdict else 'NO'}")
    return lines


def section(outcomes: list[Outcome], options: Options, command: str, load_before: float) -> str:
    today = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    throttle = "at the production defaults (0.25 s, 1 s per write)" if options.throttled else "off"
    return "\n".join(
        [
            SECTION,
            "### Load (embedded vs PostgreSQL + Redis) (`bench/bench_load.py`)",
            "",
            fill(
                f"Machine: {machine(load_before)}, Python {sys.version.split()[0]}; "
                f"measured {today}. Command: `{command}`."
            ),
            "",
            fill(
                f"Each row: fresh database and queue, web + workers started together, "
                f"{options.prs} PRs of {options.files} files on the local GitHub of the tests, "
                f"a warm-up, then up to {options.count} signed `pull_request` deliveries, "
                f"{options.burst} in a row per PR so that workers meet the same PR at once "
                f"({options.concurrency} concurrent senders, closed loop, at most "
                f"{options.duration:.0f} s; every {REDELIVER_EVERY}th repeats an earlier delivery "
                f"id). PyGithub's pauses between requests are {throttle}. *processed/s "
                "sustained* = deliveries done ÷ (last finished − first sent), read from the "
                "delivery table; *bot CPU* = user + system time of all bot processes "
                "(web and workers) from the first send to the last delivery finished, per "
                "delivery done (PostgreSQL, Redis and the local GitHub not counted). *lost* = "
                "accepted but not done."
            ),
            "",
            table(outcomes, options),
            "",
            *notes(outcomes),
            "",
        ]
    )


def fill(paragraph: str) -> str:
    return textwrap.fill(paragraph, width=100, break_long_words=False, break_on_hyphens=False)


def write_section(text: str) -> None:
    current = RESULTS.read_text()
    if SECTION not in current:
        RESULTS.write_text(current.rstrip("\n") + "\n\n" + text)
        return
    before, _, rest = current.partition(SECTION)
    following = rest.find("<!-- section:")
    after = rest[following:] if following >= 0 else ""
    RESULTS.write_text(before + text + ("\n" + after if after else ""))


# -- command line ---------------------------------------------------------------------------


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200, help="deliveries per run (200)")
    parser.add_argument("--duration", type=float, default=20, help="max seconds sending (20)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent senders (8)")
    parser.add_argument("--prs", type=int, default=100, help="PRs the load is spread over")
    parser.add_argument("--files", type=int, default=5, help="files per PR (5)")
    parser.add_argument("--burst", type=int, default=2, help="deliveries in a row per PR (2)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker process (2)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts (1,2,4)")
    parser.add_argument(
        "--storage", default="embedded,pg-redis", help="embedded and/or pg-redis (both)"
    )
    parser.add_argument("--drain-timeout", type=float, default=180, help="max seconds to drain")
    parser.add_argument(
        "--throttled", action="store_true", help="keep PyGithub's production pauses (0.25/1 s)"
    )
    parser.add_argument("--write", action="store_true", help="write the section of RESULTS.md")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",") if n]
    setups = []
    for storage in args.storage.split(","):
        if storage not in ("embedded", "pg-redis"):
            parser.error(f"--storage: unknown {storage!r}; use embedded and/or pg-redis")
        setups += [Setup(storage, 0)] if storage == "embedded" else []
        setups += [Setup(storage, n) for n in counts]
    return Options(
        args.count,
        args.duration,
        args.concurrency,
        args.prs,
        args.files,
        args.burst,
        args.threads,
        args.web_workers,
        args.drain_timeout,
        args.throttled,
        setups,
        args.write,
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # stop and clean up as on Ctrl-C


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    load_before = os.getloadavg()[0]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # even where a background shell ignored it
    outcomes = []
    try:
        for setup in options.setups:
            print(f"running {setup.title(options.threads, options.web_workers)} …", flush=True)
            outcomes.append(run_setup(setup, options, stop))
            progress("run done")
    except KeyboardInterrupt:
        stop.set()
        print("interrupted: every process was stopped", file=sys.stderr)
        return 130
    command = " ".join([".venv/bin/python bench/bench_load.py", *(argv or sys.argv[1:])])
    text = section(outcomes, options, command, load_before)
    print(text)
    if options.write:
        write_section(text)
    return 0 if all(o.zero_loss for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
