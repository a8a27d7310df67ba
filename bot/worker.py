"""The queue job: claim a delivery, re-read each PR from the forge, evaluate, publish.

Nothing from the webhook payload is trusted beyond which PR it concerns. A failing forge call
releases the delivery for a later retry (a scheduled queue message); after the last attempt the
PR gets an error status saying what went wrong, so a failure is never silent.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from gitops_health.bot.audit import evaluation_record
from gitops_health.bot.db import cross_process_lock
from gitops_health.bot.forges.base import Forge, PullRequestRef, PullRequestSnapshot
from gitops_health.bot.logs import delivery_fields, log_context, pr_fields
from gitops_health.bot.models import DeliveryStatus
from gitops_health.bot.runtime import MAX_ATTEMPTS, RETRY_DELAY_SECONDS, Runtime
from gitops_health.bot.settings import Settings
from gitops_health.bot.store import ClaimedDelivery, Target
from gitops_health.rules.config.policy import POLICY_FILE, Policy, parse_policy
from gitops_health.rules.config.schema import ConfigInvalid
from gitops_health.rules.report import Report

log = logging.getLogger(__name__)


PERMANENT_STATUSES = frozenset({401, 404, 410, 422})


def process_delivery(runtime: Runtime, delivery_pk: int, *, final_attempt: bool = False) -> None:
    """Run one delivery; on a failure retry later, and after the last attempt (or a failure
    that cannot pass, like a PR that is gone) leave the error on the PR."""
    claimed = runtime.store.claim(delivery_pk, runtime.settings.job_lease_seconds)
    if claimed is None:
        return  # already done, or a live worker holds it
    with log_context(**delivery_fields(claimed)):
        _run(runtime, claimed, final_attempt)


def _run(runtime: Runtime, claimed: ClaimedDelivery, final_attempt: bool) -> None:
    delivery_pk = claimed.id
    started = time.monotonic()
    try:
        for target in claimed.targets:
            _process_target(runtime, claimed, target)
    except Exception as exc:
        message = describe_error(exc)
        final = final_attempt or claimed.attempts >= MAX_ATTEMPTS or _permanent(exc)
        log.warning(
            "delivery %s failed (attempt %d): %s",
            claimed.delivery_id,
            claimed.attempts,
            message,
            exc_info=not final,
        )
        if not final:
            runtime.store.release(delivery_pk, message)
            runtime.enqueue(delivery_pk, delay=RETRY_DELAY_SECONDS * 2 ** (claimed.attempts - 1))
            return
        _report_failure(runtime, claimed, message)
        runtime.store.finish(delivery_pk, DeliveryStatus.FAILED, message)
        _observe(claimed.forge, "failed", started)
        return
    runtime.store.finish(delivery_pk, DeliveryStatus.DONE)
    _observe(claimed.forge, "done", started)


def _permanent(exc: BaseException) -> bool:
    """Answers a retry cannot change: the PR or repository is gone or not accessible."""
    return getattr(exc, "status", None) in PERMANENT_STATUSES


def _observe(forge: str, outcome: str, started: float) -> None:
    from gitops_health.bot.metrics import PROCESSING_SECONDS

    PROCESSING_SECONDS.labels(forge=forge, outcome=outcome).observe(time.monotonic() - started)


def _refs(forge: Forge, target: Target) -> list[PullRequestRef]:
    if not target.head_sha:
        return [target.ref()]
    numbers = forge.pull_requests_at(target.ref(0), target.head_sha)  # type: ignore[attr-defined]
    return [target.ref(number) for number in numbers]


def _fan_out(runtime: Runtime, claimed: ClaimedDelivery, forge: Forge, target: Target) -> None:
    """A whole repository (or GitHub installation): one delivery per open PR, each retried and
    locked on its own. Ids derived from this delivery make a repeated fan-out queue nothing new."""
    for ref in forge.open_pull_requests(target.ref(0)):  # type: ignore[attr-defined]
        derived = f"{claimed.delivery_id[:64]}/{hashlib.sha256(ref.slug.encode()).hexdigest()[:24]}"
        pk = runtime.store.record_delivery(
            claimed.forge, derived, claimed.event, claimed.action, claimed.sender, (Target.of(ref),)
        )
        if pk is not None:
            runtime.enqueue(pk)


def _process_target(runtime: Runtime, claimed: ClaimedDelivery, target: Target) -> None:
    forge = runtime.forge(target.forge)
    if not target.number and not target.head_sha:
        _fan_out(runtime, claimed, forge, target)
        return
    for ref in _refs(forge, target):
        # One job per PR at a time across all workers: two publishing the same PR at once
        # would both find no sticky comment and both create one.
        with (
            log_context(**pr_fields(ref)),
            cross_process_lock(runtime.engine, f"pull request {ref.slug}"),
        ):
            _evaluate_and_publish(runtime, claimed, forge, ref)


def _evaluate_and_publish(
    runtime: Runtime, claimed: ClaimedDelivery, forge: Forge, ref: PullRequestRef
) -> None:
    """Re-read the PR from the forge, evaluate it, publish, and record the verdict."""
    snapshot = forge.snapshot(ref)
    runtime.store.remember_head(ref, snapshot.change.head_sha)
    if snapshot.state != "open":
        log.info("%s is %s; nothing to publish", ref.slug, snapshot.state)
        return
    report = evaluate_snapshot(snapshot, runtime.settings)
    forge.publish(ref, report, details_url(runtime.settings, ref))
    runtime.audit.append(
        evaluation_record(report, trigger={"event": claimed.event,
                                           "delivery": claimed.delivery_id})
    )  # fmt: skip
    runtime.store.remember_outcome(ref, report.head_sha, report.conclusion)
    findings = Counter(finding.entity_type or finding.kind for finding in report.findings)
    log.info(
        "%s evaluated for %s: %s",
        ref.slug,
        claimed.event,
        report.conclusion,
        extra={"findings": dict(findings)},  # types and counts only, never a value
    )


def _report_failure(runtime: Runtime, claimed: ClaimedDelivery, message: str) -> None:
    """Leave the error on every PR of the delivery; a forge that is down may refuse that too."""
    for target in claimed.targets:
        if not target.number:
            continue  # no single PR to put the error on
        ref = target.ref()
        head_sha = runtime.store.head(ref)  # as last read from the forge
        if not head_sha and target.forge != "github":  # GitHub's adapter can look it up
            log.error("no head commit known for %s to put the error on: %s", ref.slug, message)
            continue
        try:
            runtime.forge(target.forge).publish_error(ref, head_sha, message)
        except Exception as exc:
            log.error("could not publish the error on %s: %s", ref.slug, describe_error(exc))


def describe_error(exc: BaseException) -> str:
    """A short, secret-free description of a failure for statuses and logs."""
    status = getattr(exc, "status", None) or getattr(
        getattr(exc, "response", None), "status_code", None
    )
    name = type(exc).__name__
    if status:
        return f"the forge API answered HTTP {status} ({name})"
    if isinstance(exc, OSError | TimeoutError):
        return f"the forge API could not be reached ({name})"
    return f"{name}: {str(exc)[:300]}"


# -- evaluation (shared with the details page) ------------------------------------------------


def fallback_policy(settings: Settings) -> Policy:
    """The policy for repositories without `.gitops-health.yml`: the admin's, or defaults."""
    if settings.admin_policy is None:
        return Policy()
    return parse_policy(
        Path(settings.admin_policy).read_text(encoding="utf-8"), str(settings.admin_policy)
    )


def _policy_errors(error: ConfigInvalid, where: str) -> tuple[str, ...]:
    return tuple(f"{where} {POLICY_FILE} {item}" for item in error.errors)


def evaluate_snapshot(snapshot: PullRequestSnapshot, settings: Settings) -> Report:
    """Evaluate with the base branch's policy; report errors of a policy file the PR changes."""
    from gitops_health.rules.engine import evaluate

    errors: tuple[str, ...] = ()
    policy = fallback_policy(settings)
    if snapshot.policy_text is not None:
        try:
            policy = parse_policy(snapshot.policy_text)
        except ConfigInvalid as exc:
            errors += _policy_errors(exc, "base branch")
    if snapshot.head_policy_text is not None:
        try:
            parse_policy(snapshot.head_policy_text)
        except ConfigInvalid as exc:
            errors += _policy_errors(exc, "this PR's")
    report = evaluate(snapshot.change, policy, directory=snapshot.directory)
    return replace(report, policy_errors=report.policy_errors + errors) if errors else report


def details_token(settings: Settings, ref: PullRequestRef) -> str:
    """An unguessable per-PR token, so the details page is only reachable from our links."""
    key = settings.webhook_secret(ref.forge).encode()
    return hmac.new(key, ref.slug.encode(), hashlib.sha256).hexdigest()[:32]


def details_url(settings: Settings, ref: PullRequestRef) -> str:
    return f"{settings.public_url}/pr/{ref.slug}?t={details_token(settings, ref)}"
