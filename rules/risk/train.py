"""Train the risk model reproducibly: `make train-risk` (python -m gitops_health.rules.risk.train).

Data: the six labelled LApredict sets (qt, openstack, jdt, platform, gerrit, go) in
`../shared/data/jit/lapredict/` (or `--data-dir`, or $GITOPS_HEALTH_JIT_DATA). Each set is in
ascending date order; its newest 20 % is held out and never trained on. One model is trained
on the older 80 % of all six sets together, each set weighing the same and its classes
balanced, so the weights describe changes in general rather than one project. The fit is a
logistic regression on the monotone transforms of `model.TRANSFORMS` with each weight's sign
fixed by `model.DIRECTIONS` (L-BFGS-B with bounds), then Platt-calibrated on the same
training rows (unbalanced, so the probability means something). Output:
`rules/data/risk_model.json` with the held-out ROC-AUC and gate20 per set in its `meta`.
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
from pathlib import Path

import numpy as np

from gitops_health.rules.risk.model import DIRECTIONS, METRICS, TRANSFORMS, Model, Term

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
    x: np.ndarray, y: np.ndarray, w: np.ndarray, signs: np.ndarray | None, l2: float
) -> tuple[float, np.ndarray]:
    """Weighted L2 logistic regression; weight j has the sign of signs[j] (0 = free)."""
    from scipy.optimize import minimize

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] + x @ theta[1:]
        residual = w * (1.0 / (1.0 + np.exp(-z)) - y)
        value = float(w @ (np.logaddexp(0.0, z) - y * z) + l2 * theta[1:] @ theta[1:])
        grad = np.concatenate([[residual.sum()], x.T @ residual + 2 * l2 * theta[1:]])
        return value, grad

    bounds: list[tuple[float | None, float | None]] = [(None, None)]
    for s in signs if signs is not None else np.zeros(x.shape[1]):
        bounds.append((0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None))
    result = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    return float(result.x[0]), result.x[1:]


def train(train_sets: Sequence[DataSet]) -> Model:
    x = np.vstack([design(d.rows) for d in train_sets])
    y = np.concatenate([d.labels for d in train_sets])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    signs = np.array([DIRECTIONS[f] for f in FEATURES])
    b0, w = fit_logistic(
        (x - mean) / scale, y, sample_weights([d.labels for d in train_sets], True), signs, L2
    )
    coefficients = w / scale
    reference = np.median(x, axis=0)
    intercept = b0 + float(coefficients @ (reference - mean))
    # Platt scaling on the raw (unbalanced) rates: p = sigmoid(a·z + c), a > 0 keeps monotony
    z = intercept + (x - reference) @ coefficients
    c, a = fit_logistic(
        z[:, None], y, sample_weights([d.labels for d in train_sets], False), np.array([1]), 0.0
    )
    terms = tuple(
        Term(f, float(a[0] * coefficients[i]), float(reference[i])) for i, f in enumerate(FEATURES)
    )
    return Model(float(a[0] * intercept + c), terms, {})


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


def evaluate(model: Model, held_out: Sequence[DataSet]) -> dict[str, dict[str, float]]:
    result = {}
    for d in held_out:
        scores = np.array([model.log_odds(row) for row in d.rows])
        result[d.name] = {
            "auc": round(auc(scores, d.labels), 4),
            "gate20": round(gate(scores, d.labels), 4),
        }
    return result


def build(directory: Path, limit: int | None) -> tuple[Model, dict[str, dict[str, float]]]:
    splits = [load_dataset(directory, name, limit).split() for name in DATASETS]
    model = train([older for older, _ in splits])
    scores = evaluate(model, [newest for _, newest in splits])
    meta = {
        "kind": "monotone logistic regression on transformed Kamei metrics",
        "trained_on": {older.name: len(older.rows) for older, _ in splits},
        "held_out": {newest.name: len(newest.rows) for _, newest in splits},
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
    mean_auc = sum(s["auc"] for s in scores.values()) / len(scores)
    print(f"{'mean':10} AUC {mean_auc:.3f}   -> {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
