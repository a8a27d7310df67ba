"""The Presidio side: our recognizers in a `RecognizerRegistry`, run over candidate chunks.

Imported only when a chunk holds something that can pass the threshold, because importing
Presidio imports spaCy (about a second). The registered recognizers are called directly, one
call each per chunk: without a spaCy model nothing reads tokens (our context is structural),
so the AnalyzerEngine's tokenising, per-recognizer result shuffling and second deduplication
would only cost time. With a model named in the policy, its NER runs on the chunk too. No
recognizer here touches the network: Presidio's own e-mail recognizer (tldextract, which
downloads the public suffix list) is never registered.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from presidio_analyzer import EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from gitops_health.rules.phi.recognizers import (
    CURRENT_CHUNK,
    CURRENT_THRESHOLD,
    PhiRecognizer,
    StructureContextEnhancer,
)
from gitops_health.rules.phi.scan import Hit
from gitops_health.rules.phi.specs import SPECS
from gitops_health.rules.phi.structure import Chunk

logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
_SEVERITIES = {spec.name: spec.severity for spec in SPECS}


class PhiSetupError(RuntimeError):
    """The policy names something this machine does not have (e.g. a spaCy model)."""


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """spaCy engine that never downloads: an installed model, or an error saying so."""

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(
            models=[{"lang_code": "en", "model_name": model}],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping={"PERSON": "PERSON", "PER": "PERSON"},
                labels_to_ignore=["ORG", "GPE", "LOC", "NORP", "FAC", "CARDINAL", "DATE",
                                  "TIME", "MONEY", "PERCENT", "ORDINAL", "QUANTITY", "EVENT",
                                  "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE", "MISC"],
            ),
        )  # fmt: skip

    def load(self) -> None:
        import spacy

        if not (spacy.util.is_package(self.model) or Path(self.model).exists()):
            raise PhiSetupError(
                f"phi.spacy_model {self.model!r} is not installed; install it with pip "
                "(e.g. `pip install en_core_web_sm-3.8.0.tar.gz`) or remove the setting"
            )
        self.nlp = {"en": spacy.load(self.model)}


class Engine(NamedTuple):
    recognizers: list[EntityRecognizer]
    entities: list[str]
    nlp_engine: OfflineSpacyNlpEngine | None
    enhancer: StructureContextEnhancer


@lru_cache(maxsize=4)
def get_engine(spacy_model: str | None = None) -> Engine:
    """The registry's recognizers (plus NER when a model is named), built once per process."""
    recognizers: list[EntityRecognizer] = [PhiRecognizer(spec) for spec in SPECS]
    nlp_engine = None
    if spacy_model:
        nlp_engine = OfflineSpacyNlpEngine(spacy_model)
        nlp_engine.load()
        recognizers.append(SpacyRecognizer(supported_entities=["PERSON"]))
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=["en"])
    selected = registry.get_recognizers(language="en", all_fields=True)
    entities = sorted({e for r in selected for e in r.supported_entities})
    return Engine(selected, entities, nlp_engine, StructureContextEnhancer())


def analyze_chunk(chunk: Chunk, min_score: float, spacy_model: str | None = None) -> list[Hit]:
    engine = get_engine(spacy_model)
    artifacts = engine.nlp_engine.process_text(chunk.text, "en") if engine.nlp_engine else None
    token, threshold = CURRENT_CHUNK.set(chunk), CURRENT_THRESHOLD.set(min_score)
    try:
        results: list[RecognizerResult] = []
        for recognizer in engine.recognizers:
            results += recognizer.analyze(chunk.text, engine.entities, artifacts)
        results = engine.enhancer.enhance_using_context(
            chunk.text, results, artifacts, engine.recognizers
        )
    finally:
        CURRENT_CHUNK.reset(token)
        CURRENT_THRESHOLD.reset(threshold)
    passing = sorted((r for r in results if r.score >= min_score), key=lambda r: r.start)
    return _one_per_span([_hit(chunk, result) for result in passing])


def _hit(chunk: Chunk, result: RecognizerResult) -> Hit:
    line, column = chunk.locate(result.start)
    explanation = result.analysis_explanation
    why = explanation.pattern_name if explanation and explanation.pattern_name else "NER"
    word = explanation.supportive_context_word if explanation else ""
    name = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, "ner")
    return Hit(
        path=chunk.path, line=line.number, column=column + 1,
        end_column=column + 1 + result.end - result.start, entity_type=result.entity_type,
        score=round(result.score, 2), recognizer=name,
        why=f"{why}; context: {word}" if word else why,
        value=chunk.text[result.start:result.end], severity=_SEVERITIES.get(name, "error"),
    )  # fmt: skip


def _preference(hit: Hit) -> tuple[float, int, int, str]:
    return -hit.score, hit.column - hit.end_column, hit.column, hit.entity_type


def _one_per_span(hits: list[Hit]) -> list[Hit]:
    """Overlapping detections on one line: keep the best-scored, then longest, then first one
    (a tie between types goes to the alphabetically first, as Presidio orders them)."""
    by_line: dict[int, list[Hit]] = {}
    for hit in hits:
        by_line.setdefault(hit.line, []).append(hit)
    kept: list[Hit] = []
    for line in sorted(by_line):
        chosen: list[Hit] = []
        for hit in sorted(by_line[line], key=_preference):
            if not any(k.column < hit.end_column and hit.column < k.end_column for k in chosen):
                chosen.append(hit)
        kept += sorted(chosen, key=lambda h: h.column)
    return kept
