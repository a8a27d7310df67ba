"""The trained change-defect model: monotone logistic regression, scored in pure Python.

The model reads the 14 change metrics of Kamei et al. 2013 ("A Large-Scale Empirical Study of
Just-in-Time Quality Assurance", IEEE TSE 39(6)) under their lowercase names, with the
conventions of the shared training data (LApredict's `extract_k_feature.py`, ISSTA 2021). A
front-end must compute them the same way (`features.kamei_metrics` does, from a `Change`):

======== ================================================================================
metric   definition as used here (and in the training data)
======== ================================================================================
ns       number of modified subsystems; subsystem = first path component, "root" for a
         file at the top level
nd       number of modified directories; directory = parent path, "root" at the top level
nf       number of modified files
entropy  −Σ p_k·log2 p_k with p_k = (added + deleted lines of file k) / all changed lines;
         NOT normalised by log2(nf) (the CSV column is spelled `entrophy`)
la       lines added, summed over files — raw, NOT divided by LT
ld       lines deleted, summed over files — raw, NOT divided by LT
lt       lines in the touched files before the change, SUMMED over files (not averaged);
         0 for an added file
fix      1 when the change is a bug fix, else 0 (data: an issue key in the message; here:
         a fix keyword, a `fix:` Conventional Commit type or an issue key)
ndev     distinct developers who changed the touched files before, plus the author
age      mean over touched files of the days since the file's previous change; 0 for an
         added file
nuc      Σ over touched files of (prior changes to the file + 1) — the data counts per file
         and includes this change, it is not Kamei's "unique changes"
exp      the author's prior file modifications (one per file per commit) + nf
rexp     Σ over those modifications of 1/(days ago + 1), + nf for this change's own files
sexp     distinct files in the touched subsystems the author has changed, this change included
======== ================================================================================

The model does not read these raw values: it reads monotone transforms of them (`TRANSFORMS`:
log1p of counts; LA and LD relative to LT as Kamei does; experience per file; and LA and LD
capped at 2 lines, a knot: a change adding next to nothing is much safer than the trend says).
ND and REXP are left out as Kamei does (collinear with NF and EXP). Each transform enters
through a monotone piecewise-linear shape function, a slope plus non-negative "ramps" between
knots (a monotone GAM), whose every piece has the sign of the feature's `direction` in
`model.json` (+1: more means riskier; −1: more means safer), so every contribution can be told
as a reason. A metric that is missing (None, NaN or absent) takes the training median of its
transform and so contributes nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from itertools import pairwise
from pathlib import Path

METRICS: tuple[str, ...] = (
    *("ns", "nd", "nf", "entropy", "la", "ld", "lt", "fix"),
    *("ndev", "age", "nuc", "exp", "rexp", "sexp"),
)

Row = Mapping[str, float | int | None]


def _get(row: Row, *names: str) -> tuple[float, ...] | None:
    values = tuple(row.get(name) for name in names)
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
        return None
    return tuple(float(v) for v in values)  # type: ignore[arg-type]


def _log1p_of(name: str) -> Callable[[Row], float | None]:
    def transform(row: Row) -> float | None:
        got = _get(row, name)
        return None if got is None else math.log1p(max(got[0], 0.0))

    return transform


def _capped_log1p(name: str, cap: float) -> Callable[[Row], float | None]:
    """log1p(min(value, cap)): with the plain log1p term, a monotone shape with a knot."""

    def transform(row: Row) -> float | None:
        got = _get(row, name)
        return None if got is None else math.log1p(min(max(got[0], 0.0), cap))

    return transform


def _per_lt(name: str) -> Callable[[Row], float | None]:
    """Kamei's LA/LT and LD/LT, in changed lines per 100 lines before, log1p'd."""

    def transform(row: Row) -> float | None:
        got = _get(row, name, "lt")
        return None if got is None else math.log1p(100.0 * max(got[0], 0.0) / max(got[1], 1.0))

    return transform


def _exp_per_file(row: Row) -> float | None:
    got = _get(row, "exp", "nf")
    return None if got is None else math.log1p(max(got[0], 0.0) / max(got[1], 1.0))


def _identity_of(name: str) -> Callable[[Row], float | None]:
    def transform(row: Row) -> float | None:
        got = _get(row, name)
        return None if got is None else got[0]

    return transform


TRANSFORMS: dict[str, Callable[[Row], float | None]] = {
    "la": _log1p_of("la"),
    "ld": _log1p_of("ld"),
    "lt": _log1p_of("lt"),
    "nf": _log1p_of("nf"),
    "ns": _log1p_of("ns"),
    "entropy": _identity_of("entropy"),
    "fix": _identity_of("fix"),
    "ndev": _log1p_of("ndev"),
    "age": _log1p_of("age"),
    "nuc": _log1p_of("nuc"),
    "exp": _log1p_of("exp"),
    "sexp": _log1p_of("sexp"),
    "la_upto2": _capped_log1p("la", 2.0),
    "ld_upto2": _capped_log1p("ld", 2.0),
    "la_per_lt": _per_lt("la"),
    "ld_per_lt": _per_lt("ld"),
    "exp_per_file": _exp_per_file,
}

# +1: a larger value means a riskier change; −1: a safer one. Training enforces the sign.
DIRECTIONS: dict[str, int] = {
    "la": 1,
    "ld": 1,
    "lt": 1,
    "nf": 1,
    "ns": 1,
    "entropy": 1,
    "fix": 1,
    "ndev": 1,
    "age": -1,
    "nuc": 1,
    "exp": -1,
    "sexp": -1,
    "la_upto2": 1,
    "ld_upto2": 1,
    "la_per_lt": 1,
    "ld_per_lt": 1,
    "exp_per_file": -1,
}

MODEL_FILE = "risk_model.json"


@dataclass(frozen=True)
class Term:
    """One additive term: shape(transform(row)) − shape(reference).

    shape(x) = coefficient·x + Σ_i ramps[i]·clip((x − knots[i]) / (knots[i+1] − knots[i]), 0, 1):
    piecewise linear, slope `coefficient` outside the knots; monotone because the coefficient and
    every ramp share the sign of the feature's direction.
    """

    name: str
    coefficient: float  # log-odds per unit of the transformed feature outside the knots
    reference: float  # training median of the transformed feature
    knots: tuple[float, ...] = ()  # ascending transformed values
    ramps: tuple[float, ...] = ()  # log-odds gained across each interval between knots

    def shape(self, x: float) -> float:
        value = self.coefficient * x
        for (low, high), ramp in zip(pairwise(self.knots), self.ramps, strict=True):
            value += ramp * min(max((x - low) / (high - low), 0.0), 1.0)
        return value

    @cached_property
    def at_reference(self) -> float:
        return self.shape(self.reference)

    def contribution(self, x: float | None) -> float:
        return 0.0 if x is None else self.shape(x) - self.at_reference


@dataclass(frozen=True)
class Model:
    intercept: float  # log-odds of a change whose every feature sits at its reference
    terms: tuple[Term, ...]
    meta: Mapping[str, object]

    def contributions(self, row: Row) -> dict[str, float]:
        """Log-odds added by each term; 0 for a term whose metrics are missing."""
        return {term.name: term.contribution(TRANSFORMS[term.name](row)) for term in self.terms}

    def log_odds(self, row: Row) -> float:
        return self.intercept + sum(self.contributions(row).values())

    def probability(self, row: Row) -> float:
        return sigmoid(self.log_odds(row))

    def to_json(self) -> dict[str, object]:
        return {
            "intercept": self.intercept,
            "terms": [
                {
                    "name": t.name,
                    "direction": DIRECTIONS[t.name],
                    "coefficient": t.coefficient,
                    "reference": t.reference,
                    "knots": list(t.knots),
                    "ramps": list(t.ramps),
                }
                for t in self.terms
            ],
            "meta": dict(self.meta),
        }


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class ModelFileInvalid(ValueError):
    """The shipped or given model file cannot be used."""


def model_from_json(data: Mapping[str, object], source: str = MODEL_FILE) -> Model:
    try:
        terms = tuple(_term_from_json(t) for t in data["terms"])  # type: ignore[union-attr]
        model = Model(float(data["intercept"]), terms, dict(data.get("meta", {})))  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileInvalid(f"{source}: not a risk model ({exc!r})") from exc
    for term in terms:
        _check_term(term, source)
    return model


def _term_from_json(data: Mapping[str, object]) -> Term:
    return Term(
        str(data["name"]),
        float(data["coefficient"]),  # type: ignore[arg-type]
        float(data["reference"]),  # type: ignore[arg-type]
        tuple(float(k) for k in data.get("knots", ())),  # type: ignore[attr-defined]
        tuple(float(r) for r in data.get("ramps", ())),  # type: ignore[attr-defined]
    )


def _check_term(term: Term, source: str) -> None:
    if term.name not in TRANSFORMS:
        raise ModelFileInvalid(f"{source}: unknown feature {term.name!r}")
    if len(term.ramps) != max(len(term.knots) - 1, 0):
        raise ModelFileInvalid(f"{source}: {term.name!r} needs one ramp per interval of knots")
    if any(high <= low for low, high in pairwise(term.knots)):
        raise ModelFileInvalid(f"{source}: {term.name!r} knots must ascend")
    direction = DIRECTIONS[term.name]
    if any(piece * direction < 0 for piece in (term.coefficient, *term.ramps)):
        raise ModelFileInvalid(f"{source}: {term.name!r} breaks its monotone direction")


def load_model(path: str | Path | None = None) -> Model:
    """The model from `path`, or the one shipped in `rules/data/risk_model.json`."""
    if path is None:
        return shipped_model()
    path = Path(path)
    try:
        return model_from_json(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFileInvalid(f"{path}: cannot read the risk model ({exc})") from exc


@cache
def shipped_model() -> Model:
    text = resources.files("gitops_health.rules").joinpath("data", MODEL_FILE).read_text("utf-8")
    return model_from_json(json.loads(text), f"rules/data/{MODEL_FILE}")


def score_row(row: Row) -> float:
    """Defect probability of a change from its 14 Kamei metrics (any may be missing/None)."""
    return shipped_model().probability(row)
