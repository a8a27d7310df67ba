"""Every risk factor, the metrics and the level/rollout mapping, on hand-built Changes."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from gitops_health.rules.change import (
    AuthorHistory,
    Change,
    Commit,
    FileChange,
    FileHistory,
    FileStatus,
    History,
    Identity,
    Signature,
)
from gitops_health.rules.config.policy import parse_policy
from gitops_health.rules.config.risk import RiskConfig, RiskPoints, RiskThresholds
from gitops_health.rules.report import Finding, Level
from gitops_health.rules.risk import assess
from gitops_health.rules.risk.features import glob_match, kamei_metrics

SIGNED = Signature(status="G", signer="alice@example.com")
ALICE = Identity(name="Alice", email="alice@example.com")


def commit(message: str = "feat: add thing", signature: Signature = SIGNED) -> Commit:
    return Commit(sha="a" * 40, message=message, author=ALICE, signature=signature)


def change(*files: FileChange, message: str = "feat: add thing", **kw: object) -> Change:
    defaults: dict[str, object] = {"title": message, "author": ALICE, "commits": (commit(message),)}
    return Change("acme/app", files=files, **{**defaults, **kw})  # type: ignore[arg-type]


def code(path: str = "src/app.py", add: int = 5, delete: int = 1, before: int = 200) -> FileChange:
    return FileChange(path, additions=add, deletions=delete, lines_before=before)


TEST = FileChange("tests/test_app.py", additions=5, lines_before=50)
CONFIG = RiskConfig()


def factors(result) -> dict[str, str]:
    return {f.feature: f.description for f in result.factors}


def test_small_tested_change_is_low_and_standard() -> None:
    result = assess(change(code(), TEST), CONFIG, [])
    assert result.level is Level.LOW and result.rollout == "standard"
    assert not {"sensitive_path", "untested_code", "unsigned"} & set(factors(result))
    assert result.missing == ("ndev", "age", "nuc", "exp", "rexp", "sexp")


def test_size_factor_says_lines_files_and_directories() -> None:
    files = [code(f"src/m{i % 5}/f{i}.py", add=30, delete=0) for i in range(14)]
    result = assess(change(*files, TEST), CONFIG, [])
    size = next(f for f in result.factors if f.feature == "size")
    assert size.description == "+425 lines across 15 files in 6 directories"
    assert size.points > 10 and result.factors[0] is size


def test_fix_factor() -> None:
    result = assess(change(code(), TEST, message="fix(api): crash on empty body"), CONFIG, [])
    assert "bug fix" in factors(result)["fix"]
    assert result.metrics["fix"] == 1


def test_sensitive_path_factor_names_the_directory() -> None:
    result = assess(change(code("infra/network/vpc.py"), TEST), CONFIG, [])
    assert factors(result)["sensitive_path"] == "touches `infra/` (sensitive path)"
    custom = RiskConfig(sensitive_paths=("payments/**",))
    assert "sensitive_path" not in factors(assess(change(code("infra/x.py"), TEST), custom, []))


def test_dependency_factor() -> None:
    lock = FileChange("web/package-lock.json", additions=300, deletions=200, lines_before=900)
    result = assess(
        change(lock, FileChange("requirements.txt", additions=1, lines_before=3)), CONFIG, []
    )
    assert factors(result)["dependency"] == (
        "changes dependencies (`web/package-lock.json`, `requirements.txt`)"
    )
    assert "untested_code" not in factors(result)  # lockfiles are not code


def test_migration_factor_and_no_double_count_with_sensitive_default() -> None:
    result = assess(change(code("db/schema/0007_add_mrn.sql"), TEST), CONFIG, [])
    assert "database migration" in factors(result)["migration"]
    nested = assess(change(code("app/migrations/0007.py"), TEST), CONFIG, [])
    assert "sensitive_path" in factors(nested) and "migration" not in factors(nested)


def test_ci_config_factor() -> None:
    result = assess(change(code("Dockerfile", before=20), TEST), CONFIG, [])
    assert factors(result)["ci_config"] == "changes CI/infrastructure configuration (`Dockerfile`)"


def test_untested_code_factor() -> None:
    result = assess(change(code()), CONFIG, [])
    assert factors(result)["untested_code"] == "no test changed (1 code file changed)"
    docs = assess(change(FileChange("README.md", additions=3, lines_before=10)), CONFIG, [])
    assert "untested_code" not in factors(docs)


def test_phi_factor_counts_findings_without_values() -> None:
    found = [Finding("phi", "US_SSN", "US_SSN found", path="src/app.py", line=3)] * 2
    result = assess(change(code(), TEST), CONFIG, found)
    assert factors(result)["phi"] == "2 PHI findings in added lines"


def test_unsigned_factor_from_commits_and_signature_findings() -> None:
    unsigned = change(code(), TEST, commits=(commit(signature=Signature()),))
    assert factors(assess(unsigned, CONFIG, []))["unsigned"] == (
        "1 of 1 commit unsigned or badly signed"
    )
    bad = Finding("signature", "allowed-signer", "signer not allowed", commit="b" * 40)
    two = change(code(), TEST, commits=(commit(), replace(commit(), sha="b" * 40)))
    assert (
        factors(assess(two, CONFIG, [bad]))["unsigned"] == "1 of 2 commits unsigned or badly signed"
    )


def history(first: tuple[str, ...] = (), file_changes: int = 400) -> History:
    return History(
        files=(FileHistory("src/app.py", age_days=3.0, authors=("bob@example.com",), changes=9),),
        author=AuthorHistory(
            experience=50,
            file_changes=file_changes,
            recent_file_changes=4.0,
            subsystem_files=20,
            first_change_in_subsystems=first,
        ),
    )


def test_new_to_subsystem_factor() -> None:
    result = assess(change(code(), TEST, history=history(first=("src",))), CONFIG, [])
    assert factors(result)["new_to_subsystem"] == "author's first change in this subsystem (`src/`)"
    assert result.missing == ()
    newcomer = replace(
        history(first=("src",)), author=AuthorHistory(first_change_in_subsystems=("src",))
    )
    assert (
        factors(assess(change(code(), TEST, history=newcomer), CONFIG, []))["new_to_subsystem"]
        == "author's first change in this repository"
    )


def test_history_and_experience_metrics_follow_the_documented_conventions() -> None:
    c = change(
        code(), FileChange("docs/new.md", status=FileStatus.ADDED, additions=4), history=history()
    )
    m = kamei_metrics(c)
    assert m["ndev"] == 2  # bob before, plus the author
    assert m["age"] == pytest.approx(1.5)  # (3 + 0 for the added file) / 2
    assert m["nuc"] == 9 + 2  # prior changes + 1 per file
    assert (m["exp"], m["rexp"], m["sexp"]) == (402, 6.0, 20)
    assert m["lt"] == 200  # the added file counts 0
    assert (m["ns"], m["nd"], m["nf"]) == (2, 2, 2)
    assert m["entropy"] == pytest.approx(-(0.6 * math.log2(0.6) + 0.4 * math.log2(0.4)))


def test_experience_and_file_history_factors_speak_when_they_weigh() -> None:
    novice = assess(change(code(), TEST, history=history(file_changes=0)), CONFIG, [])
    expert = assess(change(code(), TEST, history=history(file_changes=50_000)), CONFIG, [])
    assert novice.probability > expert.probability
    everything = replace(CONFIG, max_factors=20)
    described = factors(assess(change(code(), TEST, history=history()), everything, []))
    assert described.get("file_history", "touched files had 9 prior changes").startswith(
        "touched files had 9 prior changes"
    )


def test_unknown_file_size_makes_lt_missing() -> None:
    result = assess(change(replace(code(), lines_before=None), TEST), CONFIG, [])
    assert "lt" in result.missing


def test_levels_rollout_and_points_are_configurable() -> None:
    risky = change(code("infra/x.py", add=200), commits=(commit(signature=Signature()),))
    default = assess(risky, CONFIG, [])
    assert default.level in (Level.HIGH, Level.CRITICAL) and default.rollout != "standard"
    quiet = RiskConfig(
        points=RiskPoints(0, 0, 0, 0, 0, 0, 0, 0), thresholds=RiskThresholds(90, 95, 99)
    )
    result = assess(risky, quiet, [])
    assert result.level is Level.LOW and result.score < default.score
    assert {f.feature for f in result.factors} <= {"size", "fix", "file_history", "experience"}


def test_score_adds_up_and_is_bounded() -> None:
    everything = [Finding("phi", "MRN", "MRN found")] * 5
    huge = change(
        *(code(f"infra/{i}/x.py", add=900) for i in range(40)),
        commits=(commit(signature=Signature()),),
    )
    result = assess(huge, CONFIG, everything)
    assert result.score == 100 and result.level is Level.CRITICAL
    assert len(result.factors) == CONFIG.max_factors
    assert assess(change(), CONFIG, []).score >= 0


def test_risk_section_parses_from_the_policy_file() -> None:
    policy = parse_policy(
        "risk:\n  thresholds: {medium: 20, high: 50, critical: 80}\n"
        "  points: {phi: 40}\n  ci_paths: ['ops/**']\n"
    )
    assert policy.risk.points.phi == 40 and policy.risk.thresholds.high == 50
    assert glob_match("ops/a/b.yml", policy.risk.ci_paths) == "ops/**"


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("package.json", "**/package.json", True),
        ("a/b/package.json", "**/package.json", True),
        ("infra/x/y.tf", "infra/**", True),
        ("src/infra/y", "infra/**", False),
        ("a/b.sql", "*.sql", True),
        ("deploy.md", "deploy/**", False),
    ],
)
def test_glob_semantics(path: str, pattern: str, expected: bool) -> None:
    assert (glob_match(path, [pattern]) is not None) is expected
