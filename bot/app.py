"""Flask application factory: webhook receivers, health probes and the PR details page.

A webhook request never reaches a forge API: it is verified, recorded (the unique delivery id
makes a redelivery a no-op), put on the queue and answered 202. Everything slow happens in
the workers (`bot/worker.py`).
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from gitops_health.bot.forges.base import PullRequestRef
from gitops_health.bot.logs import (
    add_log_fields,
    configure_logging,
    delivery_fields,
    event_name,
    log_context,
)
from gitops_health.bot.runtime import Runtime, start
from gitops_health.bot.settings import FORGES, Settings
from gitops_health.bot.webhooks import (
    DELIVERY_HEADERS,
    EVENT_HEADERS,
    Accepted,
    Ignored,
    Rejected,
    receive,
)

log = logging.getLogger(__name__)
webhooks = Blueprint("webhooks", __name__)
health = Blueprint("health", __name__)
details = Blueprint("details", __name__)

SETUP_HINT = {
    "github": "GITOPS_HEALTH_GITHUB_WEBHOOK_SECRET and GITHUB_APP_ID/GITHUB_TOKEN",
    "bitbucket-cloud": "GITOPS_HEALTH_BITBUCKET_CLOUD_WEBHOOK_SECRET and BITBUCKET_CLOUD_TOKEN",
    "bitbucket-server": "GITOPS_HEALTH_BITBUCKET_SERVER_WEBHOOK_SECRET, _URL and _TOKEN",
}


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """The WSGI app; `runtime` defaults to a fresh one (database migrated, queue opened)."""
    settings = settings or (runtime.settings if runtime else Settings.from_env())
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["gitops_health"] = runtime or start(settings)
    app.register_blueprint(webhooks)
    app.register_blueprint(health)
    app.register_blueprint(details)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(SQLAlchemyError, _unavailable)
    app.register_error_handler(Exception, _unexpected)
    return app


def wsgi() -> Flask:
    """Entry point for gunicorn: `gunicorn 'gitops_health.bot.app:wsgi()'`."""
    settings = Settings.from_env()
    configure_logging(settings)
    return create_app(settings)


def _runtime() -> Runtime:
    return current_app.extensions["gitops_health"]


def _answer(code: int, **body: Any) -> tuple[Response, int]:
    return jsonify(body), code


def _http_error(exc: HTTPException) -> tuple[Response, int]:
    reason = "request body too large" if exc.code == 413 else exc.description
    return _answer(exc.code or 400, error=reason)


def _unavailable(exc: SQLAlchemyError) -> tuple[Response, int]:
    log.error("database unavailable: %s", type(exc).__name__)
    return _answer(503, error="database unavailable; retry later")


def _unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("unexpected error while handling %s", request.path)
    return _answer(503, error="temporarily unable to handle the request; retry later")


# -- webhooks -----------------------------------------------------------------------------------


@webhooks.post("/webhooks/<forge>")
def receive_webhook(forge: str) -> tuple[Response, int]:
    from gitops_health.bot.metrics import ACK_SECONDS, DELIVERIES

    started = time.monotonic()
    with log_context(**_header_fields(forge)):
        status, body, event = _handle_webhook(forge)
        outcome = body.get("reason") or body.get("error") or body.get("status")
        log.info("webhook answered %d: %s", status, outcome)
    if forge in FORGES:
        ACK_SECONDS.labels(forge=forge).observe(time.monotonic() - started)
        DELIVERIES.labels(forge=forge, event=event, outcome=body.get("status", "error")).inc()
    return _answer(status, **body)


def _handle_webhook(forge: str) -> tuple[int, dict[str, str], str]:
    runtime = _runtime()
    if forge not in FORGES:
        return 404, {"error": f"unknown forge {forge!r}"}, ""
    if not runtime.settings.configured(forge):
        hint = f"set {SETUP_HINT[forge]}"
        return 404, {"error": f"forge {forge} is not configured on this server: {hint}"}, ""
    body = request.get_data(cache=False)
    secret = runtime.settings.webhook_secret(forge)
    own_login = runtime.store.identity(forge) if forge == "github" else ""
    try:
        outcome = receive(forge, request.headers, body, secret, own_login)
    except Rejected as rejected:
        return rejected.status, {"status": "rejected", "error": rejected.reason}, ""
    if isinstance(outcome, Ignored):
        return outcome.status, {"status": "ignored", "reason": outcome.reason}, ""
    add_log_fields(**delivery_fields(outcome))
    return _accept(runtime, outcome)


def _header_fields(forge: str) -> dict[str, str | None]:
    """The delivery id and event as sent (verified or not yet), for the request's log lines."""
    if forge not in FORGES:
        return {}
    delivery = request.headers.get(DELIVERY_HEADERS[forge], "")[:128]
    event = request.headers.get(EVENT_HEADERS[forge], "")[:64]
    return {"forge": forge, "delivery": delivery or None, "event": event or None}


def _accept(runtime: Runtime, delivery: Accepted) -> tuple[int, dict[str, str], str]:
    event = event_name(delivery.event, delivery.action)
    if delivery.needs_change_check:
        changed = runtime.store.source_changed(
            delivery.targets[0].ref(), delivery.source_hash, delivery.destination
        )
        if not changed and delivery.event == "pullrequest:updated":
            reason = "neither the source commit nor the destination changed"
            return 202, {"status": "ignored", "reason": reason}, event
    pk = runtime.store.record_delivery(
        delivery.forge,
        delivery.delivery_id,
        delivery.event,
        delivery.action,
        delivery.sender,
        delivery.targets,
    )
    if pk is None:
        return 202, {"status": "duplicate", "delivery": delivery.delivery_id}, event
    if delivery.needs_change_check:  # only now: a failure before must not swallow a redelivery
        runtime.store.remember_source(
            delivery.targets[0].ref(), delivery.source_hash, delivery.destination
        )
    try:
        runtime.enqueue(pk)
    except Exception as exc:  # recorded already: the recovery sweep enqueues it later
        log.warning("queue unavailable, delivery %s waits for recovery: %s", pk, exc)
    return 202, {"status": "queued", "delivery": delivery.delivery_id}, event


# -- health -------------------------------------------------------------------------------------


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    return _answer(200, status="ok")


@health.get("/metrics")
def metrics() -> Response:
    from gitops_health.bot.metrics import exposition

    body, content_type = exposition()
    return Response(body, content_type=content_type)


@health.get("/readyz")
def readyz() -> tuple[Response, int]:
    runtime = _runtime()
    problems = []
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        problems.append(f"database: {type(exc).__name__}")
    try:
        runtime.huey.pending_count()
    except Exception as exc:
        problems.append(f"queue: {type(exc).__name__}")
    unconfigured = list(runtime.settings.unconfigured_forges)
    if problems:
        return _answer(503, status="unavailable", problems=problems)
    return _answer(200, status="ready", unconfigured_forges=unconfigured)


# -- details page -------------------------------------------------------------------------------


@details.get("/pr/<forge>/<owner>/<repo>/<int:number>")
def pull_request_details(forge: str, owner: str, repo: str, number: int) -> tuple[str, int]:
    from gitops_health.bot.worker import describe_error, details_token, evaluate_snapshot

    runtime = _runtime()
    if forge not in FORGES or not runtime.settings.configured(forge):
        abort(404)
    ref = PullRequestRef(forge, owner, repo, number)
    token = request.args.get("t", "")
    if not hmac.compare_digest(token, details_token(runtime.settings, ref)):
        abort(404)
    try:
        snapshot = runtime.forge(forge).snapshot(ref)
    except Exception as exc:
        message = describe_error(exc)
        return render_template("details.html", ref=ref, report=None, error=message), 502
    report = evaluate_snapshot(snapshot, runtime.settings)
    return render_template("details.html", ref=ref, report=report, error=None), 200
