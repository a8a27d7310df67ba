"""Shared PHI fixtures: one warmed analyzer and one scored synthetic corpus per session."""

from __future__ import annotations

import pytest

from gitops_health.rules.config.phi import PhiConfig
from gitops_health.rules.phi import scan_bytes
from gitops_health.rules.phi.corpus import CorpusFile, generate


@pytest.fixture(scope="session")
def phi_config() -> PhiConfig:
    from gitops_health.rules.phi.analyzer import get_engine

    get_engine(None)  # build the Presidio recognizers once for the whole session
    return PhiConfig()


@pytest.fixture(scope="session")
def corpus() -> list[CorpusFile]:
    return generate(seed=20261123, copies=2)


@pytest.fixture(scope="session")
def corpus_predictions(
    corpus: list[CorpusFile], phi_config: PhiConfig
) -> dict[str, set[tuple[int, str]]]:
    return {
        f.path: {(h.line, h.entity_type) for h in scan_bytes(f.path, f.content, phi_config)}
        for f in corpus
    }
