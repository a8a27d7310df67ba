"""The shipped model, score_row and the training script."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_health.rules.risk import score_row
from gitops_health.rules.risk.model import (
    DIRECTIONS,
    METRICS,
    TRANSFORMS,
    ModelFileInvalid,
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
    assert all(t.coefficient * DIRECTIONS[t.name] >= 0 for t in model.terms)
    assert model.meta["holdout"].startswith("newest 20 %")
    assert set(model.meta["held_out_scores"]) == {
        "qt",
        "openstack",
        "jdt",
        "platform",
        "gerrit",
        "go",
    }


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


def test_score_row_of_an_empty_row_is_the_typical_change() -> None:
    assert score_row({}) == pytest.approx(1 / (1 + math.exp(-shipped_model().intercept)))


def test_a_model_breaking_its_direction_is_rejected(tmp_path: Path) -> None:
    data = shipped_model().to_json()
    data["terms"][0]["coefficient"] = -abs(data["terms"][0]["coefficient"]) - 1  # la: riskier
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFileInvalid, match="monotone"):
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
