"""Risk model evaluation and speed: prints the Markdown table for bench/RESULTS.md.

Per shared data set, on its newest 20 % (held out, never trained on): ROC-AUC and gate20 of
the shipped model (`score_row`), of lines added alone, and of a random forest trained on the
same set's older 80 % (scikit-learn, 300 trees, min 5 per leaf); then the shipped model with
the six history metrics missing (what a forge-only bot sees); paired-bootstrap intervals of the
AUC differences; the shipped recipe trained leave-one-project-out; and the speed of `assess`.
"""

from __future__ import annotations

import platform
import subprocess
import tempfile
import time
from datetime import UTC, datetime

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from gitops_health.rules.change import Change, FileChange, Identity
from gitops_health.rules.config.risk import RiskConfig
from gitops_health.rules.history import compute_history
from gitops_health.rules.risk import assess, score_row
from gitops_health.rules.risk.features import HISTORY_METRICS
from gitops_health.rules.risk.model import METRICS
from gitops_health.rules.risk.train import (
    DATASETS,
    HOLDOUT,
    auc,
    data_dir,
    design,
    evaluate,
    gate,
    load_dataset,
    parts_between,
    shipped_shape,
    train,
)

BOOTSTRAP_ROUNDS = 500


def scores_of(rows: list[dict[str, float]], drop: tuple[str, ...] = ()) -> np.ndarray:
    return np.array([score_row({k: v for k, v in r.items() if k not in drop}) for r in rows])


def random_forest(train_rows: list[dict[str, float]], labels: np.ndarray) -> RandomForestClassifier:
    forest = RandomForestClassifier(n_estimators=300, min_samples_leaf=5, n_jobs=2, random_state=0)
    return forest.fit(np.array([[r[m] for m in METRICS] for r in train_rows]), labels)


def paired_bootstrap(model: np.ndarray, other: np.ndarray, y: np.ndarray) -> str:
    """ΔAUC (model − other) with its 95 % paired-bootstrap interval."""
    rng = np.random.default_rng(0)
    deltas = []
    for _ in range(BOOTSTRAP_ROUNDS):
        pick = rng.integers(0, len(y), len(y))
        deltas.append(auc(model[pick], y[pick]) - auc(other[pick], y[pick]))
    low, high = np.quantile(deltas, [0.025, 0.975])
    return f"{auc(model, y) - auc(other, y):+.3f} [{low:+.3f}, {high:+.3f}]"


def evaluation_tables() -> list[str]:
    lines = [
        "| data set | held out | model AUC | LA AUC | RF AUC | model gate20 | LA gate20 "
        "| RF gate20 | model AUC, no history |",
        "|:--|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    deltas = ["| data set | ΔAUC vs LA [95 %] | ΔAUC vs RF [95 %] |", "|:--|--:|--:|"]
    totals = np.zeros(7)
    for name in DATASETS:
        older, newest = load_dataset(data_dir(None), name).split()
        y = newest.labels
        model, no_history = scores_of(newest.rows), scores_of(newest.rows, HISTORY_METRICS)
        la = np.array([r["la"] for r in newest.rows])
        forest = random_forest(older.rows, older.labels)
        rf = forest.predict_proba(np.array([[r[m] for m in METRICS] for r in newest.rows]))[:, 1]
        row = [auc(model, y), auc(la, y), auc(rf, y), gate(model, y), gate(la, y), gate(rf, y),
               auc(no_history, y)]  # fmt: skip
        totals += row
        lines.append(f"| {name} | {len(y):,} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
        deltas.append(
            f"| {name} | {paired_bootstrap(model, la, y)} | {paired_bootstrap(model, rf, y)} |"
        )
    mean = totals / len(DATASETS)
    lines.append("| **mean** | | " + " | ".join(f"**{v:.3f}**" for v in mean) + " |")
    return [*lines, "", *deltas]


def leave_one_project_out() -> str:
    """Each set's newest 20 % scored by the shipped recipe trained on the other five sets."""
    sets = [(design(d.rows), d.labels) for d in (load_dataset(data_dir(None), n) for n in DATASETS)]
    shape = shipped_shape()
    result = {}
    for i, name in enumerate(DATASETS):
        others = [s for j, s in enumerate(sets) if j != i]
        model = train(parts_between(others, 0.0, 1 - HOLDOUT), shape)
        held_out = parts_between([sets[i]], 1 - HOLDOUT, 1.0)
        result[name] = evaluate(model, [name], held_out)[name]["auc"]
    shown = ", ".join(f"{name} {value:.3f}" for name, value in result.items())
    mean = sum(result.values()) / len(result)
    return f"Leave-one-project-out AUC: {shown}, mean {mean:.3f}."


def assess_speed() -> str:
    files = tuple(FileChange(f"src/m{i % 7}/f{i}.py", additions=20, deletions=3, lines_before=400)
                  for i in range(50))  # fmt: skip
    change = Change("bench/app", files=files, title="feat: bench")
    config = RiskConfig()
    rounds = 2000
    start = time.perf_counter()
    for _ in range(rounds):
        assess(change, config, ())
    per_call = (time.perf_counter() - start) / rounds * 1e6
    return f"`assess` on a 50-file change: {per_call:,.0f} µs per call (pure Python, no numpy)."


def score_row_speed() -> str:
    row = {"ns": 2, "nd": 3, "nf": 5, "entropy": 1.9, "la": 120, "ld": 30, "lt": 2000, "fix": 0,
           "ndev": 12, "age": 30.0, "nuc": 60, "exp": 400, "rexp": 20.0, "sexp": 100}  # fmt: skip
    rounds = 20_000
    start = time.process_time()
    for _ in range(rounds):
        score_row(row)
    per_call = (time.process_time() - start) / rounds * 1e6
    return f"`score_row`: {per_call:,.0f} µs CPU per call."


def synthetic_repo(path: str, commits: int, files: int) -> None:
    """A repository of `commits` commits by 20 authors over `files` files, via fast-import."""
    stream = []
    for i in range(commits):
        who = f"dev{i % 20} <dev{i % 20}@example.com> {1_600_000_000 + i * 3600} +0000"
        message = f"fix: bug {i}" if i % 4 == 0 else f"feat: change {i}"
        paths = {f"pkg{(i * 7 + k) % 25}/mod{(i * 13 + k) % files}.py" for k in range(3)}
        stream.append(f"commit refs/heads/main\nauthor {who}\ncommitter {who}\n")
        stream.append(f"data {len(message)}\n{message}\n")
        stream += [f"M 644 inline {p}\ndata {len(str(i)) + 1}\n{i}\n" for p in sorted(paths)]
    subprocess.run(["git", "init", "-q", path], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input="".join(stream).encode(),
                   check=True)  # fmt: skip


def history_speed(commits: int = 20_000, files: int = 2_000) -> str:
    with tempfile.TemporaryDirectory() as path:
        synthetic_repo(path, commits, files)
        touched = [FileChange(f"pkg{k}/mod{k * 31}.py") for k in range(10)]
        author = Identity(email="dev3@example.com")
        start = time.perf_counter()
        compute_history(path, "main", touched, author)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        compute_history(path, "main", touched[:5], author)
        warm = time.perf_counter() - start
    return (f"`compute_history` on a {commits:,}-commit, {files:,}-file repository: "
            f"{cold:.2f} s for the first change (one `git log` pass), {warm * 1e3:.1f} ms for "
            "the next one on the same base (cached index).")  # fmt: skip


def main() -> int:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    print(f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"Python {platform.python_version()}; measured {stamp}.\n")  # fmt: skip
    print("\n".join(evaluation_tables()))
    print()
    print(leave_one_project_out())
    print()
    print(assess_speed())
    print(score_row_speed())
    print(history_speed())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
