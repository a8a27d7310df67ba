"""Train the risk model reproducibly: `make train-risk` (python -m gitops_health.rules.risk.train).

Data: the six labelled LApredict sets (qt, openstack, jdt, platform, gerrit, go) in
`../shared/data/jit/lapredict/` (or `--data-dir`, or $GITOPS_HEALTH_JIT_DATA). Each set is in
ascending date order; its newest 20 % is held out and never trained on. One model is trained
on the older 80 % of all six sets together, each set weighing the same and its classes
balanced, so the weights describe changes in general rather than one project.

The model is a monotone GAM: for each transform of `model.TRANSFORMS` a slope plus ramps
between knots at quantiles of the training values, every piece with the sign fixed by
`model.DIRECTIONS` (logistic loss, L-BFGS-B with bounds). The number of knots and the ramps'
L2 penalty are chosen in time order: fit on each set's oldest 60 %, score on the next 20 %,
keep the best mean AUC, then refit on the older 80 %. Finally Platt-calibrated on the same
training rows (unbalanced, so the probability means something). Output:
`rules/data/risk_model.json` with the choice and the held-out ROC-AUC and gate20 per set in
its `meta`.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from gitops_health.rules.risk.model import (
    DIRECTIONS,
    METRICS,
    TRANSFORMS,
    Model,
    Term,
    shipped_model,
)

DATASETS: tuple[str, ...] = ("qt", "openstack", "jdt", "platform", "gerrit", "go")
HOLDOUT = 0.2
L2 = 1e-4
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "jit" / "lapredict"
DEFAULT_OUTPUT = REPO_ROOT / "rules" / "data" / "risk_model.json"
FEATURES: tuple[str, ...] = tuple(TRANSFORMS)


class DataError(RuntimeError):
    """The training data is missing or malformed."""


@dataclass(frozen=True)
class DataSet:
    name: str
    rows: list[dict[str, float]]  # the 14 metrics under their lowercase names
    labels: np.ndarray  # 1 = defect-inducing
    dates: np.ndarray  # unix seconds, ascending

    def split(self) -> tuple[DataSet, DataSet]:
        """(older 80 %, newest 20 %) in time order."""
        cut = int(len(self.rows) * (1 - HOLDOUT))
        older = DataSet(self.name, self.rows[:cut], self.labels[:cut], self.dates[:cut])
        newest = DataSet(self.name, self.rows[cut:], self.labels[cut:], self.dates[cut:])
        return older, newest


def data_dir(given: str | None) -> Path:
    return Path(given or os.environ.get("GITOPS_HEALTH_JIT_DATA") or DEFAULT_DATA)


def load_dataset(directory: Path, name: str, limit: int | None = None) -> DataSet:
    """One CSV; `limit` keeps only its first (oldest) rows, for smoke runs."""
    path = directory / f"{name}.csv.gz"
    if not path.is_file():
        raise DataError(f"{path} not found: pass --data-dir or set GITOPS_HEALTH_JIT_DATA")
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    dates: list[float] = []
    with gzip.open(path, "rt", newline="") as handle:
        for number, record in enumerate(csv.DictReader(handle), start=2):
            if limit is not None and len(rows) >= limit:
                break
            try:
                record["entropy"] = record.pop("entrophy")  # the data's spelling
                rows.append({m: float(record[m]) for m in METRICS})
                labels.append(int(record["bug"]))
                dates.append(float(record["date"]))
            except (KeyError, ValueError) as exc:
                raise DataError(f"{path}:{number}: bad row ({exc!r})") from exc
    if np.any(np.diff(dates) < 0):
        raise DataError(f"{path}: rows are not in ascending date order")
    return DataSet(name, rows, np.array(labels), np.array(dates))


def design(rows: Sequence[dict[str, float]]) -> np.ndarray:
    """The transformed features, computed by the same code the runtime scorer uses."""
    return np.array([[TRANSFORMS[f](row) for f in FEATURES] for row in rows], dtype=float)


@dataclass(frozen=True)
class Part:
    """Rows of one data set between two shares of its time order, as a design matrix."""

    x: np.ndarray
    y: np.ndarray


def parts_between(
    sets: Sequence[tuple[np.ndarray, np.ndarray]], low: float, high: float
) -> list[Part]:
    """Each set's rows from share `low` to share `high` of its time order."""
    parts = []
    for x, y in sets:
        rows = slice(int(len(y) * low), int(len(y) * high))
        parts.append(Part(x[rows], y[rows]))
    return parts


def sample_weights(labels: Sequence[np.ndarray], balanced: bool) -> np.ndarray:
    """Every data set weighs the same; within a set, classes weigh the same if `balanced`."""
    parts = []
    for y in labels:
        rate = min(max(float(y.mean()), 1e-6), 1 - 1e-6)
        w = np.where(y == 1, 0.5 / rate, 0.5 / (1 - rate)) if balanced else np.ones(len(y))
        parts.append(w / w.sum())
    weights = np.concatenate(parts)
    return weights / weights.sum()


def fit_logistic(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, signs: np.ndarray, penalty: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted logistic regression with an L2 `penalty` per weight; weight j has the sign of
    signs[j] (0 = free)."""
    from scipy.optimize import minimize

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] + x @ theta[1:]
        residual = w * (1.0 / (1.0 + np.exp(-z)) - y)
        value = float(w @ (np.logaddexp(0.0, z) - y * z) + penalty @ theta[1:] ** 2)
        grad = np.concatenate([[residual.sum()], x.T @ residual + 2 * penalty * theta[1:]])
        return value, grad

    bounds: list[tuple[float | None, float | None]] = [(None, None)]
    for s in signs:
        bounds.append((0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None))
    result = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    return float(result.x[0]), result.x[1:]


@dataclass(frozen=True)
class Shape:
    """How flexible the shape functions are: knots per feature and the ramps' L2 penalty."""

    knots: int
    l2_ramps: float


SHAPES: tuple[Shape, ...] = (
    Shape(0, 0.0),
    *(Shape(k, l2) for k in (4, 8) for l2 in (1e-3, 1e-2, 1e-1)),
)


def knots_of(x: np.ndarray, count: int) -> list[np.ndarray]:
    """Per feature, `count` knots at inner quantiles of its training values (fewer if tied)."""
    if count == 0:
        return [np.array([]) for _ in range(x.shape[1])]
    shares = np.linspace(0, 1, count + 2)[1:-1]
    knots = [np.unique(np.quantile(column, shares)) for column in x.T]
    return [k if len(k) >= 2 else np.array([]) for k in knots]


def basis(x: np.ndarray, knots: Sequence[np.ndarray]) -> np.ndarray:
    """Per feature: the value itself, then one 0→1 ramp per interval between its knots."""
    columns = []
    for j, k in enumerate(knots):
        columns.append(x[:, j])
        columns += [np.clip((x[:, j] - lo) / (hi - lo), 0.0, 1.0) for lo, hi in pairwise(k)]
    return np.column_stack(columns)


def train(parts: Sequence[Part], shape: Shape) -> Model:
    """The monotone GAM fitted on `parts` (log-odds of balanced classes, not calibrated)."""
    x = np.vstack([p.x for p in parts])
    y = np.concatenate([p.y for p in parts])
    knots = knots_of(x, shape.knots)
    b = basis(x, knots)
    mean, scale = b.mean(axis=0), b.std(axis=0)
    scale[scale == 0] = 1.0
    owner = np.concatenate([[j] * len(k) if len(k) else [j] for j, k in enumerate(knots)])
    signs = np.array([DIRECTIONS[FEATURES[j]] for j in owner])
    is_ramp = np.concatenate(
        [[False] + [True] * (len(k) - 1) if len(k) else [False] for k in knots]
    )
    penalty = np.where(is_ramp, shape.l2_ramps, L2)
    weights = sample_weights([p.y for p in parts], balanced=True)
    b0, w = fit_logistic((b - mean) / scale, y, weights, signs, penalty)
    w = w / scale
    reference = np.median(x, axis=0)
    terms, offset = [], b0 - float(w @ mean)
    for j, name in enumerate(FEATURES):
        pieces = w[owner == j]
        term = Term(name, float(pieces[0]), float(reference[j]),
                    tuple(map(float, knots[j])), tuple(map(float, pieces[1:])))  # fmt: skip
        terms.append(term)
        offset += term.at_reference
    return Model(offset, tuple(terms), {})


def calibrate(model: Model, parts: Sequence[Part]) -> Model:
    """Platt scaling on the raw (unbalanced) rates: p = sigmoid(a·z + c), a > 0 keeps monotony."""
    z = np.concatenate([log_odds(model, p.x) for p in parts])
    y = np.concatenate([p.y for p in parts])
    weights = sample_weights([p.y for p in parts], balanced=False)
    c, a = fit_logistic(z[:, None], y, weights, np.array([1]), np.zeros(1))
    terms = tuple(
        Term(t.name, a[0] * t.coefficient, t.reference, t.knots, tuple(a[0] * r for r in t.ramps))
        for t in model.terms
    )
    return Model(float(a[0] * model.intercept + c), terms, {})


def log_odds(model: Model, x: np.ndarray) -> np.ndarray:
    """`model.log_odds` of every row of a design matrix, vectorised for training."""
    total = np.full(len(x), model.intercept)
    for j, term in enumerate(model.terms):
        pieces = np.array([term.coefficient, *term.ramps])
        total += basis(x[:, [j]], [np.array(term.knots)]) @ pieces - term.at_reference
    return total


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC-AUC by the rank-sum formula (ties count half)."""
    from scipy.stats import rankdata

    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float(
        (ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    )


def gate(scores: np.ndarray, labels: np.ndarray, share: float = 0.2) -> float:
    """Share of defect-inducing changes among the top `share` of changes by score.

    Changes tied at the cut-off count pro rata, i.e. as random tie-breaking would on average.
    """
    budget = share * len(scores)
    order = np.sort(scores)[::-1]
    cutoff = order[int(np.ceil(budget)) - 1]
    above = scores > cutoff
    tied = scores == cutoff
    room = budget - above.sum()
    caught = labels[above].sum() + labels[tied].sum() * room / tied.sum()
    return float(caught / max(labels.sum(), 1))


def evaluate(
    model: Model, names: Sequence[str], parts: Sequence[Part]
) -> dict[str, dict[str, float]]:
    result = {}
    for name, part in zip(names, parts, strict=True):
        scores = log_odds(model, part.x)
        result[name] = {
            "auc": round(auc(scores, part.y), 4),
            "gate20": round(gate(scores, part.y), 4),
        }
    return result


def mean_auc(scores: dict[str, dict[str, float]]) -> float:
    return sum(s["auc"] for s in scores.values()) / len(scores)


def choose_shape(
    names: Sequence[str], sets: Sequence[tuple[np.ndarray, np.ndarray]]
) -> tuple[Shape, dict[str, float]]:
    """The shape flexibility with the best mean AUC on the 60-80 % slice, fitted on 0-60 %."""
    validation = parts_between(sets, 1 - 2 * HOLDOUT, 1 - HOLDOUT)
    older = parts_between(sets, 0.0, 1 - 2 * HOLDOUT)
    tried = {s: mean_auc(evaluate(train(older, s), names, validation)) for s in SHAPES}
    best = max(SHAPES, key=lambda s: tried[s])
    return best, {f"knots={s.knots} l2_ramps={s.l2_ramps}": round(v, 4) for s, v in tried.items()}


def shipped_shape() -> Shape:
    """The shape flexibility the shipped model was trained with (from its `meta`)."""
    chosen = shipped_model().meta["shape"]
    return Shape(int(chosen["knots"]), float(chosen["l2_ramps"]))  # type: ignore[index]


def build(directory: Path, limit: int | None) -> tuple[Model, dict[str, dict[str, float]]]:
    loaded = [load_dataset(directory, name, limit) for name in DATASETS]
    sets = [(design(d.rows), d.labels) for d in loaded]
    shape, validation = choose_shape(DATASETS, sets)
    older = parts_between(sets, 0.0, 1 - HOLDOUT)
    model = calibrate(train(older, shape), older)
    scores = evaluate(model, DATASETS, parts_between(sets, 1 - HOLDOUT, 1.0))
    meta = {
        "kind": "monotone GAM (piecewise-linear shapes) on transformed Kamei metrics",
        "shape": {"knots": shape.knots, "l2_ramps": shape.l2_ramps},
        "validation_auc": validation,
        "trained_on": {d.name: len(p.y) for d, p in zip(loaded, older, strict=True)},
        "held_out": {d.name: len(d.rows) - len(p.y) for d, p in zip(loaded, older, strict=True)},
        "holdout": "newest 20 % of each data set, by date",
        "held_out_scores": scores,
    }
    return Model(model.intercept, model.terms, meta), scores


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gitops-health-train-risk", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data-dir", help=f"directory of <set>.csv.gz (default {DEFAULT_DATA})")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="model JSON to write")
    parser.add_argument("--limit", type=int, help="use only the first N rows of each set (smoke)")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 20:
        parser.error("--limit must be at least 20")
    try:
        model, scores = build(data_dir(args.data_dir), args.limit)
    except DataError as exc:
        print(f"train-risk: {exc}", file=sys.stderr)
        return 2
    Path(args.output).write_text(json.dumps(model.to_json(), indent=2) + "\n", encoding="utf-8")
    for name, s in scores.items():
        print(f"{name:10} AUC {s['auc']:.3f}  gate20 {s['gate20']:.3f}")
    print(f"{'mean':10} AUC {mean_auc(scores):.3f}   -> {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
