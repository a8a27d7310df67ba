"""The explained risk score: the trained model's points plus the reviewer factors' points.

score = baseline + Σ model factor points + Σ reviewer factor points, clamped to 0-100, where

* baseline = 100·P(defect) of a typical change (every model feature at its training median);
* the model's points, 100·(P(defect) − P(typical)), are split over its feature groups (size,
  fix, file history, experience) in proportion to their log-odds contributions (the secant
  slope of the logistic between the typical and this change keeps the split exact and stable);
* each reviewer factor (sensitive path, dependency, migration, CI config, untested code, PHI,
  unsigned commits, author new to a subsystem) adds the fixed points of `risk.points`.

The level comes from `risk.thresholds`, the rollout from `risk.rollout[level]`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from gitops_health.rules.change import Change
from gitops_health.rules.config.risk import RiskConfig
from gitops_health.rules.report import Finding, Level, RiskFactor, RiskResult
from gitops_health.rules.risk.features import PathFacts, kamei_metrics, path_facts
from gitops_health.rules.risk.model import shipped_model, sigmoid

Metrics = Mapping[str, float | None]

GROUPS: dict[str, tuple[str, ...]] = {
    "size": (
        "la",
        "ld",
        "la_upto2",
        "ld_upto2",
        "lt",
        "nf",
        "ns",
        "entropy",
        "la_per_lt",
        "ld_per_lt",
    ),
    "fix": ("fix",),
    "file_history": ("ndev", "age", "nuc"),
    "experience": ("exp", "sexp", "exp_per_file"),
}
SHOWN_MINIMUM = 0.5  # points below this are noise, not a reason


def _plural(n: float, one: str, many: str) -> str:
    return f"{n:,.0f} {one if n == 1 else many}"


def _names(paths: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(f"`{p}`" for p in paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def _size_sentence(m: Metrics) -> str:
    files = _plural(m["nf"] or 0, "file", "files")
    dirs = _plural(m["nd"] or 0, "directory", "directories")
    deleted = f" −{m['ld']:,.0f}" if m["ld"] else ""
    return f"+{m['la'] or 0:,.0f}{deleted} lines across {files} in {dirs}"


def _history_sentence(m: Metrics) -> str:
    prior = (m["nuc"] or 0) - (m["nf"] or 0)
    age = m["age"] or 0
    when = "less than a day" if age < 1 else _plural(age, "day", "days")
    return (
        f"touched files had {_plural(prior, 'prior change', 'prior changes')} by "
        f"{_plural(m['ndev'] or 0, 'developer', 'developers')}, the last {when} ago on average"
    )


def _experience_sentence(m: Metrics, points: float) -> str:
    prior = (m["exp"] or 0) - (m["nf"] or 0)
    done = _plural(prior, "prior file change", "prior file changes")
    if points < 0:
        return f"experienced author ({done} in this repository)"
    return f"author has little experience here ({done} in this repository)"


SENTENCES: dict[str, Callable[[Metrics, float], str]] = {
    "size": lambda m, _: _size_sentence(m),
    "fix": lambda _m, _p: "a bug fix (fixes are often defect-inducing themselves)",
    "file_history": lambda m, _: _history_sentence(m),
    "experience": _experience_sentence,
}


def model_factors(metrics: Metrics) -> tuple[float, float, list[RiskFactor]]:
    """(probability, baseline points, one factor per feature group) from the trained model."""
    model = shipped_model()
    contributions = model.contributions(metrics)
    total = sum(contributions.values())
    probability = sigmoid(model.intercept + total)
    baseline = sigmoid(model.intercept)
    slope = (probability - baseline) / total if abs(total) > 1e-9 else baseline * (1 - baseline)
    factors = []
    for group, names in GROUPS.items():
        points = 100 * slope * sum(contributions.get(n, 0.0) for n in names)
        factors.append(RiskFactor(group, points, SENTENCES[group](metrics, points)))
    return probability, 100 * baseline, factors


def _unsigned_factor(change: Change, findings: Sequence[Finding], points: int) -> RiskFactor | None:
    problems = {c.sha for c in change.commits if not c.signature.is_signed}
    problems |= {f.commit for f in findings if f.kind == "signature"}
    if not problems:
        return None
    total = max(len(change.commits), len(problems))
    return RiskFactor(
        "unsigned",
        points,
        f"{len(problems)} of {_plural(total, 'commit', 'commits')} unsigned or badly signed",
    )


def _subsystem_factor(change: Change, points: int) -> RiskFactor | None:
    author = change.history.author if change.history is not None else None
    if author is None or not author.first_change_in_subsystems:
        return None
    if author.experience == 0:
        return RiskFactor("new_to_subsystem", points, "author's first change in this repository")
    named = ", ".join(
        f"`{s}/`" if s != "root" else "the top level" for s in author.first_change_in_subsystems
    )
    where = "this subsystem" if len(author.first_change_in_subsystems) == 1 else "subsystems"
    return RiskFactor("new_to_subsystem", points, f"author's first change in {where} ({named})")


def reviewer_factors(
    change: Change, config: RiskConfig, findings: Sequence[Finding], facts: PathFacts
) -> list[RiskFactor]:
    """The fixed-points factors that apply; a factor configured to 0 points is left out."""
    points = config.points
    kind = "sensitive path" if len(facts.sensitive) == 1 else "sensitive paths"
    code = _plural(len(facts.code), "code file", "code files")
    phi = sum(1 for f in findings if f.kind == "phi")
    candidates = (
        (facts.sensitive, "sensitive_path", points.sensitive_path,
         f"touches {_names(facts.sensitive)} ({kind})"),
        (facts.dependencies, "dependency", points.dependency,
         f"changes dependencies ({_names(facts.dependencies)})"),
        (facts.migrations, "migration", points.migration,
         f"includes a database migration ({_names(facts.migrations)})"),
        (facts.ci, "ci_config", points.ci_config,
         f"changes CI/infrastructure configuration ({_names(facts.ci)})"),
        (facts.code and not facts.tests, "untested_code", points.untested_code,
         f"no test changed ({code} changed)"),
        (phi, "phi", points.phi, f"{_plural(phi, 'PHI finding', 'PHI findings')} in added lines"),
    )  # fmt: skip
    factors = [RiskFactor(name, value, text) for on, name, value, text in candidates if on]
    factors += [
        f
        for f in (
            _unsigned_factor(change, findings, points.unsigned),
            _subsystem_factor(change, points.new_to_subsystem),
        )
        if f is not None
    ]
    return [f for f in factors if f.points]


def level_of(score: int, config: RiskConfig) -> Level:
    t = config.thresholds
    if score >= t.critical:
        return Level.CRITICAL
    if score >= t.high:
        return Level.HIGH
    if score >= t.medium:
        return Level.MEDIUM
    return Level.LOW


def assess(change: Change, config: RiskConfig, findings: Sequence[Finding]) -> RiskResult:
    """Score 0-100, level, rollout and the top reasons of `change`'s risk."""
    metrics = kamei_metrics(change)
    probability, baseline, from_model = model_factors(metrics)
    from_reviewer = reviewer_factors(change, config, findings, path_facts(change, config))
    total = baseline + sum(f.points for f in from_model + from_reviewer)
    score = max(0, min(100, round(total)))
    level = level_of(score, config)
    shown = [f for f in from_model + from_reviewer if abs(f.points) >= SHOWN_MINIMUM]
    shown.sort(key=lambda f: -abs(f.points))
    return RiskResult(
        score=score,
        level=level,
        probability=probability,
        factors=tuple(shown[: config.max_factors]),
        rollout=config.rollout.get(level.value, "standard"),
        metrics=dict(metrics),
        missing=tuple(name for name, value in metrics.items() if value is None),
    )
