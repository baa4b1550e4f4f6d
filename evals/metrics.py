"""Scoring one case, summarising many, and checking the summary against the thresholds."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evals.cases import GROUPS, Case, matches, normalize
from evals.split import Split, split_of
from rag.models import Answer, Chunk
from rag.retrieve.hybrid import Mode

ANSWER_MAX_CHARS = 800
MODES: tuple[Mode, ...] = ("hybrid", "bm25", "dense")
DEFAULT_THRESHOLDS = Path(__file__).parent / "thresholds.yaml"

_MARKER = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")
# A number: digits with optional space-grouped thousands ("50 000"), then optional decimal,
# date, range or reference parts ("94,7", "2023-01-01", "3.51-27270/2024").
_NUMBER = re.compile(r"(?<!\d)(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)|\d+)(?:[.,:/-]\d+)*")


# --- matching a case -----------------------------------------------------------------------

def strip_markers(text: str) -> str:
    """The answer without its citation markers ("[1]", "[1, 2]")."""
    return _MARKER.sub("", text)


def number_tokens(text: str) -> list[str]:
    """Numbers, dates, amounts and percentages in a text, normalised ("50 000" -> "50000")."""
    found = _NUMBER.findall(normalize(strip_markers(text)))
    return [re.sub(r"\s", "", token).replace(",", ".") for token in found]


def unsupported_numbers(answer: str, passages: Iterable[str]) -> list[str]:
    """Numbers in the answer that occur in none of the passages."""
    supported: set[str] = set()
    for passage in passages:
        for token in number_tokens(passage):
            supported.add(token)
            supported.update(re.split(r"[:/-]", token))  # "2023" is in "2023-01-01"
    return [token for token in number_tokens(answer) if token not in supported]


def passage_matches(chunk: Chunk, case: Case) -> bool:
    """True when the chunk is the case's expected source passage."""
    source = case.expect.source
    if source is None:
        return False
    if source.document and chunk.document != source.document:
        return False
    return source.contains is None or matches(source.contains, chunk.text)


def first_rank(chunks: Iterable[Chunk], case: Case) -> int | None:
    """1-based rank of the first expected passage among ranked chunks, None if absent."""
    for rank, chunk in enumerate(chunks, start=1):
        if passage_matches(chunk, case):
            return rank
    return None


def missing_facts(answer: str, facts: Iterable[str]) -> list[str]:
    text = strip_markers(answer)
    return [fact for fact in facts if not matches(fact, text)]


def cited_passages(answer: Answer, chunk_text: Callable[[str], str | None]) -> list[str]:
    """Each citation's quote and, when the chunk is known, its full text."""
    passages: list[str] = []
    for citation in answer.citations:
        passages.append(citation.quote)
        text = chunk_text(citation.chunk_id)
        if text:
            passages.append(text)
    return passages


def citation_ok(answer: Answer, case: Case, chunk_text: Callable[[str], str | None]) -> bool:
    """Some citation is from the expected document and its passage has the expected phrase."""
    source = case.expect.source
    if source is None:
        return False
    for citation in answer.citations:
        if source.document and citation.document != source.document:
            continue
        texts = [citation.quote, chunk_text(citation.chunk_id) or ""]
        if source.contains is None or any(matches(source.contains, text) for text in texts):
            return True
    return False


# --- one case --------------------------------------------------------------------------------

class CaseResult(BaseModel):
    id: str
    file: str
    document: str
    question: str
    kind: str
    language: str
    tags: list[str] = Field(default_factory=list)
    fact: str = ""
    group: str = ""
    split: str = ""
    passed: bool
    failures: list[str] = Field(default_factory=list)
    answer: Answer
    rank: int | None = Field(default=None, description="Rank of the expected passage.")
    ranks: dict[str, int | None] = Field(default_factory=dict,
                                         description="Rank per retrieval mode.")
    facts_ok: bool | None = None
    facts_any_length: bool | None = None
    missing_facts: list[str] = Field(default_factory=list)
    citation_ok: bool | None = None
    unsupported: list[str] = Field(default_factory=list)
    latency_ms: float
    expected_passage: str | None = None

    @property
    def answerable(self) -> bool:
        return self.kind != "refuse"


def score_case(case: Case, answer: Answer, *, rank: int | None, ranks: Mapping[str, int | None],
               chunk_text: Callable[[str], str | None], latency_ms: float,
               expected_passage: str | None = None) -> CaseResult:
    """Score one answer; the failure reasons are Swedish, for the document owner."""
    unsupported = [] if answer.refused else unsupported_numbers(
        answer.answer, cited_passages(answer, chunk_text))
    result = CaseResult(
        id=case.id, file=Path(case.file).name, document=case.document, question=case.question,
        kind=case.kind, language=case.language, tags=case.tags, fact=case.fact,
        group=case.group_name, split=split_of(case.fact), passed=False, answer=answer,
        rank=rank, ranks=dict(ranks), unsupported=unsupported, latency_ms=round(latency_ms, 2),
        expected_passage=expected_passage)
    failures = result.failures
    if not case.answerable:
        if not answer.refused:
            failures.append("vägrade inte (dokumenten saknar svaret)")
    else:
        result.missing_facts = missing_facts(answer.answer, case.expect.facts)
        too_long = len(answer.answer) > ANSWER_MAX_CHARS
        result.facts_any_length = not answer.refused and not result.missing_facts
        result.facts_ok = result.facts_any_length and not too_long
        result.citation_ok = citation_ok(answer, case, chunk_text)
        if answer.refused:
            failures.append("vägrade felaktigt")
        if result.missing_facts:
            failures.append("fakta saknas: " + "; ".join(result.missing_facts))
        if too_long:
            failures.append(f"svaret är för långt ({len(answer.answer)} > {ANSWER_MAX_CHARS} "
                            "tecken)")
        if not result.citation_ok:
            failures.append("inget citerat stycke ur rätt dokument innehåller källfrasen")
    if unsupported:
        failures.append("tal som inte står i citerade stycken: " + ", ".join(unsupported))
    result.passed = not failures
    return result


# --- many cases ------------------------------------------------------------------------------

class RetrievalScores(BaseModel):
    hit_at_1: float | None = None
    hit_at_5: float | None = None
    mrr: float | None = None


class Summary(BaseModel):
    cases: int = 0
    answerable: int = 0
    unanswerable: int = 0
    passed: int = 0
    pass_rate: float | None = None
    hit_at_1: float | None = None
    hit_at_5: float | None = None
    mrr: float | None = None
    fact_accuracy: float | None = None
    facts_any_length: float | None = None
    citation_accuracy: float | None = None
    refusal_accuracy: float | None = None
    false_refusal_rate: float | None = None
    unsupported_numbers: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    retrieval: dict[str, RetrievalScores] = Field(default_factory=dict)
    generated_verified_rate: float | None = Field(
        None, description="LLM mode: share of answered questions whose shown answer is the "
        "generated one (verified, no fallback).")
    verification_pass_rate: float | None = Field(
        None, description="LLM mode: share of generated answers that passed verification.")
    fallback_rate: float | None = Field(
        None, description="LLM mode: share of answered questions given the extractive answer "
        "instead (verification failed, model down, slow or empty).")


def retrieval_scores(ranks: list[int | None]) -> RetrievalScores:
    if not ranks:
        return RetrievalScores()
    return RetrievalScores(
        hit_at_1=_share(rank == 1 for rank in ranks),
        hit_at_5=_share(rank is not None and rank <= 5 for rank in ranks),
        mrr=round(sum(1 / rank for rank in ranks if rank) / len(ranks), 4))


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 1)


def summarize(results: list[CaseResult], *, llm_mode: bool = False) -> Summary:
    answerable = [result for result in results if result.answerable]
    unanswerable = [result for result in results if not result.answerable]
    headline = retrieval_scores([result.rank for result in answerable])
    modes = sorted({mode for result in answerable for mode in result.ranks},
                   key=lambda mode: MODES.index(mode) if mode in MODES else len(MODES))
    latencies = [result.latency_ms for result in results]
    answered = [result for result in results if not result.answer.refused]
    return Summary(
        cases=len(results), answerable=len(answerable), unanswerable=len(unanswerable),
        passed=sum(result.passed for result in results),
        pass_rate=_share(result.passed for result in results),
        hit_at_1=headline.hit_at_1, hit_at_5=headline.hit_at_5, mrr=headline.mrr,
        fact_accuracy=_share(bool(result.facts_ok) for result in answerable),
        facts_any_length=_share(bool(result.facts_any_length) for result in answerable),
        citation_accuracy=_share(bool(result.citation_ok) for result in answerable),
        refusal_accuracy=_share(result.answer.refused for result in unanswerable),
        false_refusal_rate=_share(result.answer.refused for result in answerable),
        unsupported_numbers=sum(len(result.unsupported) for result in results),
        latency_p50_ms=percentile(latencies, 50), latency_p95_ms=percentile(latencies, 95),
        retrieval={mode: retrieval_scores([result.ranks.get(mode) for result in answerable])
                   for mode in modes},
        **(_llm_rates([result.answer for result in answered]) if llm_mode else {}),
    )


def _llm_rates(answered: list[Answer]) -> dict[str, float | None]:
    """How the model's answers fared; refused questions never reach the model."""
    generated = [answer for answer in answered if answer.generated]
    return {
        "generated_verified_rate": _share(answer.generated and answer.verified and
                                          answer.fallback is None for answer in answered),
        "verification_pass_rate": _share(answer.verified for answer in generated),
        "fallback_rate": _share(answer.fallback == "extractive" for answer in answered),
    }


def _share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else None


# --- the gate --------------------------------------------------------------------------------

_GATED_METRICS = frozenset(Summary.model_fields) - {"retrieval"}


class Limits(BaseModel):
    """Lowest (`min`) and highest (`max`) allowed value per Summary metric."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    minimum: dict[str, float] = Field(default_factory=dict, alias="min")
    maximum: dict[str, float] = Field(default_factory=dict, alias="max")

    @model_validator(mode="after")
    def _known_metrics(self) -> Limits:
        unknown = sorted((set(self.minimum) | set(self.maximum)) - _GATED_METRICS)
        if unknown:
            raise ValueError(f"unknown metric(s): {', '.join(unknown)}")
        return self


def group_members(scope: str) -> tuple[str, ...]:
    """The groups a gate scope covers: 'english' or a union such as 'no-diacritics+typo'."""
    return tuple(part.strip() for part in scope.split("+"))


class SplitGate(Limits):
    """The gate of a split case set: limits on the whole split and on groups of it."""

    split: Split = "test"
    groups: dict[str, Limits] = Field(default_factory=dict, description="Scope ('english', "
                                      "or a union 'no-diacritics+typo') -> limits.")

    @model_validator(mode="after")
    def _known_groups(self) -> SplitGate:
        unknown = sorted({name for scope in self.groups for name in group_members(scope)}
                         - set(GROUPS))
        if unknown:
            raise ValueError(f"unknown group(s): {', '.join(unknown)}")
        return self


class Thresholds(Limits):
    """The legacy gate (top-level `min`/`max`, on all cases) and the split gate `v2`."""

    v2: SplitGate | None = None


def load_thresholds(path: Path = DEFAULT_THRESHOLDS) -> Thresholds:
    """The gate file; raises ValueError naming the file when it cannot be used."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Thresholds.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise ValueError(f"{path}: {error}") from error


def check_thresholds(summary: Summary, thresholds: Limits, scope: str = "") -> list[str]:
    """One line per metric outside its threshold; metrics with no cases are not judged.

    With a scope (a split or group) each line starts with it: "test/english: fact_accuracy …".
    """
    failures: list[str] = []
    values = summary.model_dump()
    prefix = f"{scope}: " if scope else ""
    for metric, limit in thresholds.minimum.items():
        value = values[metric]
        if value is not None and value < limit:
            failures.append(f"{prefix}{metric} {value:g} < {limit:g} (min)")
    for metric, limit in thresholds.maximum.items():
        value = values[metric]
        if value is not None and value > limit:
            failures.append(f"{prefix}{metric} {value:g} > {limit:g} (max)")
    return failures


def check_split_gate(results: list[CaseResult], gate: SplitGate) -> list[str]:
    """The split gate on the results of its split; a split or group with no cases fails.

    An empty scope fails rather than passing silently: a gate that reads nothing proves nothing.
    """
    chosen = [result for result in results if result.split == gate.split]
    if not chosen:
        return [f"{gate.split}: no cases of this split were run"]
    failures = check_thresholds(summarize(chosen), gate, gate.split)
    for scope, limits in gate.groups.items():
        members = group_members(scope)
        scoped = [result for result in chosen if result.group in members]
        if not scoped:
            failures.append(f"{gate.split}/{scope}: no cases")
            continue
        failures += check_thresholds(summarize(scoped), limits, f"{gate.split}/{scope}")
    return failures
