"""`risk:` section: risk levels, sensitive paths, reviewer factors and rollout recommendations.

Path patterns are globs with gitignore semantics (`rules/globs.py`): `*` stays inside one
directory, `**` spans directories, a pattern without `/` matches at any depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _check_levels(value: object) -> str | None:
    levels = ("low", "medium", "high", "critical")
    if isinstance(value, dict) and set(value) != set(levels):
        return f"needs exactly the levels {', '.join(levels)}"
    return None


def _check_thresholds(value: object) -> str | None:
    if isinstance(value, RiskThresholds) and not (
        0 < value.medium < value.high < value.critical <= 100
    ):
        return "needs 0 < medium < high < critical <= 100"
    return None


@dataclass(frozen=True)
class RiskThresholds:
    """Lowest score (0-100) of each level above low."""

    medium: int = 30
    high: int = 60
    critical: int = 85


@dataclass(frozen=True)
class RiskPoints:
    """Points (of 100) each reviewer factor adds on top of the trained model's score."""

    sensitive_path: int = field(default=15, metadata={"doc": "a file matches sensitive_paths"})
    dependency: int = field(default=8, metadata={"doc": "a dependency manifest or lockfile"})
    migration: int = field(default=12, metadata={"doc": "a database migration"})
    ci_config: int = field(default=8, metadata={"doc": "CI, container or infrastructure config"})
    untested_code: int = field(default=6, metadata={"doc": "code changed, no test changed"})
    phi: int = field(default=25, metadata={"doc": "PHI findings in added lines"})
    unsigned: int = field(default=10, metadata={"doc": "unsigned or badly signed commits"})
    new_to_subsystem: int = field(
        default=6, metadata={"doc": "the author's first change in a touched subsystem"}
    )


@dataclass(frozen=True)
class RiskConfig:
    """Explained change-risk score."""

    thresholds: RiskThresholds = field(
        default_factory=RiskThresholds, metadata={"check": _check_thresholds}
    )
    sensitive_paths: tuple[str, ...] = field(
        default=(
            "infra/**",
            "terraform/**",
            "deploy/**",
            "**/migrations/**",
            ".github/workflows/**",
        ),
        metadata={"doc": "globs whose changes raise the risk"},
    )
    dependency_files: tuple[str, ...] = field(
        default=(
            "**/requirements*.txt",
            "**/constraints*.txt",
            "**/pyproject.toml",
            "**/setup.py",
            "**/setup.cfg",
            "**/Pipfile",
            "**/Pipfile.lock",
            "**/poetry.lock",
            "**/uv.lock",
            "**/package.json",
            "**/package-lock.json",
            "**/yarn.lock",
            "**/pnpm-lock.yaml",
            "**/go.mod",
            "**/go.sum",
            "**/Cargo.toml",
            "**/Cargo.lock",
            "**/Gemfile",
            "**/Gemfile.lock",
            "**/pom.xml",
            "**/build.gradle",
            "**/build.gradle.kts",
            "**/composer.json",
            "**/composer.lock",
            "**/*.csproj",
            "**/packages.lock.json",
        ),
        metadata={"doc": "globs of dependency manifests and lockfiles"},
    )
    migration_paths: tuple[str, ...] = field(
        default=("**/migrations/**", "**/migrate/**", "**/alembic/versions/**", "**/*.sql"),
        metadata={"doc": "globs of database migrations"},
    )
    ci_paths: tuple[str, ...] = field(
        default=(
            ".github/workflows/**",
            ".github/actions/**",
            ".gitlab-ci.yml",
            ".circleci/**",
            "bitbucket-pipelines.yml",
            "azure-pipelines.yml",
            "Jenkinsfile",
            "**/Dockerfile",
            "**/docker-compose*.yml",
            "**/*.tf",
            "**/k8s/**",
            "**/helm/**",
            ".pre-commit-config.yaml",
        ),
        metadata={"doc": "globs of CI, container and infrastructure configuration"},
    )
    test_paths: tuple[str, ...] = field(
        default=(
            "**/test/**",
            "**/tests/**",
            "**/__tests__/**",
            "**/spec/**",
            "**/test_*.py",
            "**/*_test.py",
            "**/*_test.go",
            "**/*.test.*",
            "**/*.spec.*",
            "**/*Test.java",
            "**/*Tests.java",
            "**/*_spec.rb",
        ),
        metadata={"doc": "globs of test files"},
    )
    doc_paths: tuple[str, ...] = field(
        default=("**/*.md", "**/*.rst", "**/*.txt", "docs/**", "doc/**", "LICENSE*", "**/*.png"),
        metadata={"doc": "globs of documentation (neither code nor test)"},
    )
    points: RiskPoints = field(default_factory=RiskPoints)
    max_factors: int = field(default=5, metadata={"doc": "how many top factors to report"})
    rollout: dict[str, str] = field(
        default_factory=lambda: {
            "low": "standard",
            "medium": "standard",
            "high": "canary",
            "critical": "blue-green",
        },
        metadata={"doc": "rollout strategy recommended per level", "check": _check_levels},
    )
