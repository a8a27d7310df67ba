"""`gitops-health bot serve|worker|reconcile`.

`serve` runs the web app and, unless `--no-worker`, an embedded queue worker in the same
process: with the defaults (SQLite database and queue under the data directory) nothing else
has to run. For scale, run web processes with `--no-worker` (or gunicorn) and separate
`worker` processes sharing PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import uuid
from collections.abc import Sequence

from gitops_health.bot import runtime as runtime_module
from gitops_health.bot.logs import configure_logging
from gitops_health.bot.settings import FORGES, Settings, SettingsError

log = logging.getLogger("gitops_health.bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gitops-health bot", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="web app + embedded worker")
    serve.add_argument("--host", help="listen address (default GITOPS_HEALTH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default GITOPS_HEALTH_PORT or 8080)")
    serve.add_argument("--no-worker", action="store_true", help="do not process the queue here")
    worker = commands.add_parser("worker", help="process the queue (run several for scale)")
    worker.add_argument("--workers", type=int, help="threads (default GITOPS_HEALTH_WORKERS)")
    reconcile = commands.add_parser("reconcile", help="re-evaluate every open PR of repositories")
    reconcile.add_argument(
        "repositories",
        nargs="+",
        metavar="OWNER/REPO",
        help="GitHub owner/repo, Bitbucket Cloud workspace/slug or Data Center PROJECT/slug",
    )
    reconcile.add_argument("--forge", default="github", choices=FORGES)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"gitops-health bot: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    runtime = runtime_module.start(settings)
    _say_forges(settings)
    if args.command == "serve":
        return _serve(
            runtime, args.host or settings.host, args.port or settings.port, not args.no_worker
        )
    if args.command == "worker":
        return _worker(runtime, args.workers)
    return _reconcile(runtime, args.forge, args.repositories)


def _say_forges(settings: Settings) -> None:
    for forge in FORGES:
        if settings.configured(forge):
            log.info("forge %s: configured", forge)
        else:
            log.info("forge %s: not configured; its webhooks are answered 404", forge)


def _serve(runtime: runtime_module.Runtime, host: str, port: int, embedded_worker: bool) -> int:
    from werkzeug.serving import make_server

    from gitops_health.bot.app import create_app

    consumer = None
    if embedded_worker:
        consumer = runtime_module.consumer(runtime, embedded=True)
        consumer.start()
        runtime.recover(older_than_seconds=0)
    server = make_server(host, port, create_app(runtime=runtime), threaded=True)
    signal.signal(signal.SIGTERM, _interrupt)
    log.info(
        "listening on http://%s:%d (public URL %s)", host, server.port, runtime.settings.public_url
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if consumer is not None:
            consumer.stop(graceful=True)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops `serve` as gracefully as Ctrl-C


def _worker(runtime: runtime_module.Runtime, workers: int | None) -> int:
    consumer = runtime_module.consumer(runtime, embedded=False, workers=workers)
    runtime.recover(older_than_seconds=0)
    consumer.run()
    return 0


def _reconcile(runtime: runtime_module.Runtime, forge_name: str, repositories: list[str]) -> int:
    """Queue one synthetic delivery per open PR, through the same durable path as webhooks."""
    from gitops_health.bot.forges.base import PullRequestRef
    from gitops_health.bot.store import Target
    from gitops_health.bot.worker import describe_error

    if not runtime.settings.configured(forge_name):
        print(f"gitops-health bot: forge {forge_name} is not configured", file=sys.stderr)
        return 2
    scopes = []
    for name in repositories:
        owner, _, repo = name.partition("/")
        if not owner or not repo or "/" in repo:
            print(f"gitops-health bot: {name!r} is not OWNER/REPO", file=sys.stderr)
            return 2
        scopes.append(PullRequestRef(forge_name, owner, repo, 0))
    forge = runtime.forge(forge_name)
    queued = 0
    for scope in scopes:
        try:
            refs = forge.open_pull_requests(scope)  # type: ignore[attr-defined]
        except Exception as exc:
            print(f"gitops-health bot: cannot list the open PRs of {scope.owner}/{scope.repo}: "
                  f"{describe_error(exc)}", file=sys.stderr)  # fmt: skip
            return 1
        for ref in refs:
            target = Target.of(ref)
            delivery = f"reconcile-{uuid.uuid4()}"
            pk = runtime.store.record_delivery(forge_name, delivery, "reconcile", "", "", (target,))
            if pk is not None:
                runtime.enqueue(pk)
                queued += 1
    print(f"queued {queued} open pull request(s) for re-evaluation")
    return 0
