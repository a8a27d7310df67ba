"""Our Presidio side: each `Spec` as a recognizer, and the structure-based context enhancer.

The recognizers are registered in a Presidio `RecognizerRegistry`; `analyzer` calls them on
candidate chunks. Importing this module imports Presidio (and spaCy), so only `analyzer` does.
"""

from __future__ import annotations

from contextvars import ContextVar

from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    LocalRecognizer,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts

from gitops_health.rules.phi.specs import Spec, chunk_score, find, score_in_context
from gitops_health.rules.phi.structure import Chunk, LineContext

CURRENT_CHUNK: ContextVar[Chunk | None] = ContextVar("phi_chunk", default=None)
CURRENT_THRESHOLD: ContextVar[float] = ContextVar("phi_threshold", default=0.0)


def _plain_chunk(text: str) -> Chunk:
    """Text analysed outside the scanner (no structure known): one context-free line."""
    return Chunk("", "text", text, [0], [LineContext(1, text)])


class PhiRecognizer(LocalRecognizer):
    """A Presidio recognizer running one `Spec` (regex → validation → base score)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        super().__init__(
            supported_entities=[spec.entity], name=spec.name, context=sorted(spec.context)
        )

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: object = None
    ) -> list[RecognizerResult]:
        chunk = CURRENT_CHUNK.get()
        if chunk is None or chunk.text is not text:
            chunk = _plain_chunk(text)
        metadata = {
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
        }
        results = []
        for regex, start, end, score in find(self.spec, chunk, CURRENT_THRESHOLD.get()):
            explanation = AnalysisExplanation(
                recognizer=self.name,
                original_score=score,
                pattern_name=self.spec.why,
                pattern=regex.pattern,
                validation_result=self.spec.validate is not None,
            )
            results.append(RecognizerResult(
                self.spec.entity, start, end, score, analysis_explanation=explanation,
                recognition_metadata=dict(metadata),
            ))  # fmt: skip
        return results


class StructureContextEnhancer(ContextAwareEnhancer):
    """Raises scores from the value's key, column header, HL7 field or preceding words.

    Presidio's lemma enhancer needs a trained pipeline; ours reads the structure that
    `structure.line_context` extracted, so it works with a blank (or no) spaCy pipeline.
    """

    def __init__(self) -> None:
        super().__init__(
            context_similarity_factor=0.5,
            min_score_with_context_similarity=0.5,
            context_prefix_count=4,
            context_suffix_count=0,
        )

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts | None,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        chunk = CURRENT_CHUNK.get()
        specs = {r.name: r.spec for r in recognizers if isinstance(r, PhiRecognizer)}
        for result in raw_results:
            name = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY)
            spec = specs.get(name)
            if spec is None or chunk is None:
                continue
            if context:
                line, column = chunk.locate(result.start)
                score, word = score_in_context(spec, result.score, line, column, context)
            else:
                score, word = chunk_score(spec, chunk, result.start, result.score)
            if word and result.analysis_explanation is not None:
                result.analysis_explanation.set_supportive_context_word(word)
                result.analysis_explanation.set_improved_score(score)
            result.score = score
        return raw_results
