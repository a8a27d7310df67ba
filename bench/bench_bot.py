"""Bot benchmark on loopback: webhook acknowledgement latency, delivery-to-annotation time for a
50-file and a 2000-file PR, and forge API calls per event, against the local GitHub of the tests.

Run: .venv/bin/python bench/bench_bot.py  (writes nothing; paste the output into RESULTS.md)
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "bot"))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from github_fake import (  # noqa: E402
    WEBHOOK_SECRET,
    FakeGitHub,
    PullData,
    RunningBot,
    commit_entry,
    file_entry,
    fixture_payload,
)
from werkzeug.serving import make_server  # noqa: E402

from gitops_health.bot import runtime as runtime_module  # noqa: E402
from gitops_health.bot.app import create_app  # noqa: E402
from gitops_health.bot.settings import Settings  # noqa: E402

ACK_DELIVERIES = 200
ACK_CONCURRENCY = 8
PR_NUMBER = 2  # the PR of the captured pull_request payloads


def private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode()


def start_bot(data_dir: str, fake: FakeGitHub) -> tuple[RunningBot, object]:
    env = {
        "GITOPS_HEALTH_DATA_DIR": data_dir,
        "GITOPS_HEALTH_GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GITOPS_HEALTH_GITHUB_APP_ID": "1",
        "GITOPS_HEALTH_GITHUB_PRIVATE_KEY": private_key(),
        "GITOPS_HEALTH_GITHUB_API_URL": fake.api,
        "GITOPS_HEALTH_GITHUB_SECONDS_BETWEEN_REQUESTS": "0",
        "GITOPS_HEALTH_GITHUB_SECONDS_BETWEEN_WRITES": "0",
    }
    runtime = runtime_module.start(Settings.from_env(env))
    consumer = runtime_module.consumer(runtime, embedded=True)
    consumer.start()
    server = make_server("127.0.0.1", 0, create_app(runtime=runtime), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return RunningBot(f"http://127.0.0.1:{server.port}", runtime, fake), consumer


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ack_latency(bot: RunningBot) -> dict[str, float]:
    """Acknowledgement time of signed deliveries (events of a PR the forge does not have: queued,
    then failing fast in the worker, which competes for the CPU as in real life)."""
    event = fixture_payload("pull_request.opened.payload.json")
    event["pull_request"]["number"] = 999  # not on the fake forge: the job fails fast
    payload = json.dumps(event).encode()

    def one(index: int) -> float:
        started = time.perf_counter()
        answer = bot.post("github", "pull_request", payload, delivery=f"ack-{index}")
        assert answer.status_code == 202
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(ACK_CONCURRENCY) as pool:
        latencies = list(pool.map(one, range(ACK_DELIVERIES)))
    elapsed = time.perf_counter() - started
    return {
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "rate": ACK_DELIVERIES / elapsed,
    }


def end_to_end(bot: RunningBot, files: int) -> tuple[float, int, int]:
    """Seconds from the delivery to the check run, forge API calls that took, and how many of
    them were answered 304 Not Modified (free of rate limit)."""
    fake = bot.fake
    head = f"{files:040x}"
    previous = fake.pulls.pop(PR_NUMBER, None)
    fake.check_runs.clear()
    fake.add_pull(
        PullData(
            PR_NUMBER,
            head_sha=head,
            base_sha="b" * 40,
            labels=previous.labels if previous and previous.head_sha == head else [],
            files=[
                file_entry(f"src/module_{i}.py", [f"value_{i} = {i}"] * 3) for i in range(files)
            ],
            commits=[commit_entry(head, "feat: generated change")],
        )
    )
    calls_before = len(fake.requests)
    payload = fixture_payload("pull_request.synchronize.payload.json")
    started = time.perf_counter()
    delivery = f"e2e-{files}-{time.monotonic_ns()}"
    bot.post("github", "pull_request", payload, delivery=delivery)
    while not any(run["head_sha"] == head for run in list(fake.check_runs.values())):
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    while bot.runtime.store.delivery_status("github", delivery) != "done":  # labels come last
        time.sleep(0.01)
    made = fake.requests[calls_before:]
    return seconds, len(made), sum(r.status == 304 for r in made)


def main() -> int:
    fake = FakeGitHub()
    fake.thread.start()
    with tempfile.TemporaryDirectory() as data_dir:
        bot, consumer = start_bot(data_dir, fake)
        ack = ack_latency(bot)
        while bot.runtime.huey.pending_count():  # let the worker drain the acknowledgement load
            time.sleep(0.2)
        end_to_end(bot, 5)  # warm-up: imports the engines
        fake.contents.clear()
        first = end_to_end(bot, 50)
        repeat = end_to_end(bot, 50)  # the same PR on the next event (our label changed it)
        steady = end_to_end(bot, 50)  # and once more, nothing changed at all
        results = {50: first, 2000: end_to_end(bot, 2000)}
        consumer.stop(graceful=True)  # type: ignore[attr-defined]
    fake.server.shutdown()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; {date.today().isoformat()}"
    )
    print(
        f"ack latency ({ACK_DELIVERIES} signed deliveries, {ACK_CONCURRENCY} concurrent): "
        f"p50 {ack['p50_ms']:.1f} ms, p99 {ack['p99_ms']:.1f} ms, {ack['rate']:.0f}/s"
    )
    for files, (seconds, calls, _) in results.items():
        print(f"delivery → check run, {files}-file PR: {seconds:.2f} s, {calls} API calls")
    for label, (seconds, calls, free) in [
        ("next event (our risk label changed the PR)", repeat),
        ("event after that (PR unchanged)", steady),
    ]:
        print(
            f"same 50-file PR, {label}: {seconds:.2f} s, {calls} API calls, {free} of them "
            "304 Not Modified (no rate limit)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
