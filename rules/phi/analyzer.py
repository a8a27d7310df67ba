"""The Presidio side: an offline AnalyzerEngine with our registry, run over candidate chunks.

Imported only when the pre-filter found candidate lines, because importing Presidio imports
spaCy (about a second). No recognizer here touches the network: Presidio's own e-mail
recognizer (tldextract, which downloads the public suffix list) is never registered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from spacy.tokens import Doc

from gitops_health.rules.phi.recognizers import (
    CURRENT_CHUNK,
    CURRENT_THRESHOLD,
    SPECS,
    PhiRecognizer,
    StructureContextEnhancer,
)
from gitops_health.rules.phi.structure import Chunk

logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)


class PhiSetupError(RuntimeError):
    """The policy names something this machine does not have (e.g. a spaCy model)."""


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """spaCy engine that never downloads: a blank English pipeline, or an installed model."""

    def __init__(self, model: str | None = None) -> None:
        self.model = model
        super().__init__(
            models=[{"lang_code": "en", "model_name": model or "blank:en"}],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping={"PERSON": "PERSON", "PER": "PERSON"},
                labels_to_ignore=["ORG", "GPE", "LOC", "NORP", "FAC", "CARDINAL", "DATE",
                                  "TIME", "MONEY", "PERCENT", "ORDINAL", "QUANTITY", "EVENT",
                                  "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE", "MISC"],
            ),
        )  # fmt: skip

    def load(self) -> None:
        if self.model is None:
            nlp = spacy.blank("en")
        elif spacy.util.is_package(self.model) or Path(self.model).exists():
            nlp = spacy.load(self.model)
        else:
            raise PhiSetupError(
                f"phi.spacy_model {self.model!r} is not installed; install it with pip "
                "(e.g. `pip install en_core_web_sm-3.8.0.tar.gz`) or remove the setting"
            )
        self.nlp = {"en": nlp}


@lru_cache(maxsize=4)
def get_analyzer(spacy_model: str | None = None) -> AnalyzerEngine:
    """One engine per model name, built once per process."""
    recognizers: list = [PhiRecognizer(spec) for spec in SPECS]
    if spacy_model:
        recognizers.append(SpacyRecognizer(supported_entities=["PERSON"]))
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=["en"])
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=OfflineSpacyNlpEngine(spacy_model),
        supported_languages=["en"],
        context_aware_enhancer=StructureContextEnhancer(),
    )


def _no_tokens(analyzer: AnalyzerEngine) -> NlpArtifacts:
    """Empty artifacts: without a model nothing reads tokens (our context is structural), so the
    blank pipeline's tokenisation, a fifth of the time on dense files, is skipped."""
    nlp = analyzer.nlp_engine.nlp["en"]  # type: ignore[attr-defined]
    return NlpArtifacts(entities=[], tokens=Doc(nlp.vocab, words=[]), tokens_indices=[],
                        lemmas=[], nlp_engine=analyzer.nlp_engine, language="en")  # fmt: skip


@dataclass(frozen=True)
class Hit:
    """A detection before it becomes a report Finding; `value` never leaves the process."""

    path: str
    line: int
    column: int  # 1-based
    end_column: int
    entity_type: str
    score: float
    recognizer: str
    why: str
    value: str
    severity: str = "error"


def analyze_chunk(chunk: Chunk, min_score: float, spacy_model: str | None = None) -> list[Hit]:
    analyzer = get_analyzer(spacy_model)
    severities = {spec.name: spec.severity for spec in SPECS}
    token, threshold = CURRENT_CHUNK.set(chunk), CURRENT_THRESHOLD.set(min_score)
    try:
        results = analyzer.analyze(
            chunk.text,
            language="en",
            score_threshold=min_score,
            return_decision_process=True,
            nlp_artifacts=None if spacy_model else _no_tokens(analyzer),
        )
    finally:
        CURRENT_CHUNK.reset(token)
        CURRENT_THRESHOLD.reset(threshold)
    hits = []
    for result in sorted(results, key=lambda r: (r.start, -r.score)):
        line, column = chunk.locate(result.start)
        explanation = result.analysis_explanation
        why = explanation.pattern_name if explanation and explanation.pattern_name else "NER"
        word = explanation.supportive_context_word if explanation else ""
        name = (result.recognition_metadata or {}).get("recognizer_name", "ner")
        hits.append(Hit(
            path=chunk.path, line=line.number, column=column + 1,
            end_column=column + 1 + result.end - result.start, entity_type=result.entity_type,
            score=round(result.score, 2), recognizer=name,
            why=f"{why}; context: {word}" if word else why,
            value=chunk.text[result.start:result.end], severity=severities.get(name, "error"),
        ))  # fmt: skip
    return _one_per_span(hits)


def _one_per_span(hits: list[Hit]) -> list[Hit]:
    """Overlapping detections on one line: keep the best-scored (then longest) one."""
    by_line: dict[int, list[Hit]] = {}
    for hit in hits:
        by_line.setdefault(hit.line, []).append(hit)
    kept: list[Hit] = []
    for line in sorted(by_line):
        chosen: list[Hit] = []
        for hit in sorted(by_line[line], key=lambda h: (-h.score, h.column - h.end_column)):
            if not any(k.column < hit.end_column and hit.column < k.end_column for k in chosen):
                chosen.append(hit)
        kept += sorted(chosen, key=lambda h: h.column)
    return kept
