"""The shipped model, score_row and the training script."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from gitops_health.rules.risk import score_row
from gitops_health.rules.risk.model import (
    DIRECTIONS,
    METRICS,
    TRANSFORMS,
    ModelFileInvalid,
    Term,
    load_model,
    shipped_model,
)
from gitops_health.rules.risk.train import DEFAULT_DATA, main

TYPICAL = {
    "ns": 1,
    "nd": 1,
    "nf": 2,
    "entropy": 0.9,
    "la": 12,
    "ld": 4,
    "lt": 800,
    "fix": 0,
    "ndev": 10,
    "age": 40.0,
    "nuc": 30,
    "exp": 900,
    "rexp": 60.0,
    "sexp": 300,
}


def test_shipped_model_loads_with_monotone_terms() -> None:
    model = shipped_model()
    assert {t.name for t in model.terms} <= set(TRANSFORMS)
    assert all(
        piece * DIRECTIONS[t.name] >= 0 for t in model.terms for piece in (t.coefficient, *t.ramps)
    )
    assert model.meta["holdout"].startswith("newest 20 %")
    assert set(model.meta["held_out_scores"]) == {
        "qt",
        "openstack",
        "jdt",
        "platform",
        "gerrit",
        "go",
    }


@pytest.mark.parametrize("term", shipped_model().terms, ids=lambda t: t.name)
def test_every_shape_function_is_monotone_in_its_direction(term: Term) -> None:
    low = min((*term.knots, term.reference)) - 2
    high = max((*term.knots, term.reference)) + 2
    grid = [low + (high - low) * i / 400 for i in range(401)]
    steps = [term.shape(b) - term.shape(a) for a, b in pairwise(grid)]
    assert all(step * DIRECTIONS[term.name] >= -1e-12 for step in steps)
    assert term.contribution(term.reference) == 0.0 and term.contribution(None) == 0.0


def test_shape_is_piecewise_linear_between_knots_and_sloped_outside() -> None:
    term = Term("la", coefficient=0.5, reference=0.0, knots=(1.0, 2.0, 4.0), ramps=(1.0, 2.0))
    assert [term.shape(x) for x in (0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)] == pytest.approx(
        [0.0, 0.5, 1.25, 2.0, 3.5, 5.0, 6.0]
    )


def test_score_row_is_a_probability_that_grows_with_size() -> None:
    small = score_row(TYPICAL)
    large = score_row({**TYPICAL, "la": 900, "ld": 200, "nf": 30, "nd": 9, "ns": 3})
    assert 0.0 < small < large < 1.0


@pytest.mark.parametrize("dropped", METRICS)
def test_score_row_tolerates_any_missing_metric(dropped: str) -> None:
    absent = {k: v for k, v in TYPICAL.items() if k != dropped}
    as_none = {**TYPICAL, dropped: None}
    as_nan = {**TYPICAL, dropped: math.nan}
    assert score_row(absent) == score_row(as_none) == score_row(as_nan)
    assert 0.0 < score_row(absent) < 1.0


def test_score_row_reads_entropy_unnormalised() -> None:
    """Entropy in bits as in the shared data: 16 evenly changed files give 4.0, not 1.0."""
    spread = {**TYPICAL, "nf": 16, "nd": 6, "ns": 3, "la": 160, "ld": 40}
    assert 0.0 < score_row({**spread, "entropy": 1.0}) <= score_row({**spread, "entropy": 4.0}) < 1


def test_score_row_of_an_empty_row_is_the_typical_change() -> None:
    assert score_row({}) == pytest.approx(1 / (1 + math.exp(-shipped_model().intercept)))


def test_a_model_breaking_its_direction_is_rejected(tmp_path: Path) -> None:
    data = shipped_model().to_json()
    data["terms"][0]["coefficient"] = -abs(data["terms"][0]["coefficient"]) - 1  # la: riskier
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFileInvalid, match="monotone"):
        load_model(path)
    data = shipped_model().to_json()
    data["terms"][0]["ramps"] = data["terms"][0]["ramps"][:-1]
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFileInvalid, match="one ramp per interval"):
        load_model(path)
    data = shipped_model().to_json()
    age = next(t for t in data["terms"] if t["name"] == "age")  # more days since: safer
    age["ramps"][0] = 0.5
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFileInvalid, match="'age' breaks its monotone direction"):
        load_model(path)
    path.write_text("{not json")
    with pytest.raises(ModelFileInvalid, match="cannot read"):
        load_model(path)


@pytest.mark.skipif(not DEFAULT_DATA.is_dir(), reason="shared JIT data not present")
def test_training_smoke_run_writes_a_loadable_model(tmp_path: Path, capsys) -> None:
    out = tmp_path / "model.json"
    assert main(["--limit", "400", "--output", str(out)]) == 0
    model = load_model(out)
    assert model.meta["trained_on"]["qt"] == 320  # the newest 20 % is never trained on
    assert "mean" in capsys.readouterr().out
    again = tmp_path / "again.json"
    assert main(["--limit", "400", "--output", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()  # reproducible to the byte


def test_training_without_data_says_where_to_put_it(tmp_path: Path, capsys) -> None:
    assert main(["--data-dir", str(tmp_path), "--output", str(tmp_path / "m.json")]) == 2
    assert "--data-dir" in capsys.readouterr().err


def test_scoring_does_not_import_numpy() -> None:
    code = (
        "import sys; from gitops_health.rules.risk import score_row; score_row({'la': 3}); "
        "print('numpy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
