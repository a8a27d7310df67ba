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


def end_to_end(bot: RunningBot, files: int) -> tuple[float, int]:
    """Seconds from the delivery to the check run, and forge API calls that took."""
    fake = bot.fake
    fake.pulls.clear()
    fake.check_runs.clear()
    head = f"{files:040x}"
    fake.add_pull(
        PullData(
            PR_NUMBER,
            head_sha=head,
            base_sha="b" * 40,
            files=[
                file_entry(f"src/module_{i}.py", [f"value_{i} = {i}"] * 3) for i in range(files)
            ],
            commits=[commit_entry(head, "feat: generated change")],
        )
    )
    calls_before = len(fake.requests)
    payload = fixture_payload("pull_request.synchronize.payload.json")
    started = time.perf_counter()
    bot.post("github", "pull_request", payload, delivery=f"e2e-{files}-{time.monotonic_ns()}")
    while not any(run["head_sha"] == head for run in list(fake.check_runs.values())):
        time.sleep(0.01)
    return time.perf_counter() - started, len(fake.requests) - calls_before


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
        results = {files: end_to_end(bot, files) for files in (50, 2000)}
        repeat = end_to_end(bot, 50)
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
    for files, (seconds, calls) in results.items():
        print(f"delivery → check run, {files}-file PR: {seconds:.2f} s, {calls} API calls")
    print(
        f"same PR again (policy/CODEOWNERS cached by base SHA): {repeat[0]:.2f} s, "
        f"{repeat[1]} API calls"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
