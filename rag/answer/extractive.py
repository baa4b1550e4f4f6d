"""Extractive answers: the requirement sentences themselves, verbatim, with numbered citations.

No language model: the answer is built from sentences of the top passages. Each query word
is matched (stem, compound parts, abbreviation or English equivalent) and weighted by idf;
a passage whose best sentences cover too little of the question is not evidence, and the
answer is then a refusal with the nearest passages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from prompts import load_prompt, render
from rag.answer.answerability import FEATURES, load_model
from rag.answer.conflicts import find_conflict
from rag.answer.constraints import (
    Constraint,
    corpus_regions,
    find_constraints,
    region_in_corpus,
)
from rag.answer.evidence import (
    CANDIDATE_PASSAGES,
    Evidence,
    EvidenceScorer,
    ScoredSentence,
    score_sentences,
)
from rag.models import Answer, Chunk, Citation, SearchHit
from rag.store.sentence_index import SentenceIndex
from rag.store.store import Snapshot
from rag.text.language import Language
from rag.text.sentences import ITEM_PREFIX, split_sentences

# A refusal names what is missing only when the nearest sentence is about the question.
NEAR_MISS_DENSE = 0.82
# Below this lexical coverage a missing topic word is not made up for by the rest.
LACKING_TOPIC_COVERAGE = 0.6
# A floor under the fitted model: a sentence sharing almost no words and little meaning with
# the question is never an answer (no answerable dev question falls below both).
FLOOR_COVERAGE = 0.25
FLOOR_DENSE = 0.80
CONTINUATION = ("Maximalt", "Minst", "Högst", "Dock", "Denna", "Detta", "Dessa", "Det ",
                "Undantag", "Om ", "Vid ", "Däremot", "Kallelser", "Samma")
QUANTITY_QUESTION = re.compile(
    r"\b(hur (mycket|många|länge|ofta|stor|mån)|när|vilken? (ålder|åldrar|tid|datum|år)|"
    r"vilka åldrar|inom hur|belopp|procent|andel|how (much|many|long|often)|when|what age|"
    r"which ages|what share|percentage)\b", re.IGNORECASE)
# What kind of text answers the question; a sentence without it is a weaker answer.
ANSWER_TYPES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(r"\b(\w*tid|timm\w*|timme|hours?|time|hur länge|how long)\b", re.I),
     re.compile(r"\d\s*(timm|tim\b|minut|dag|veck|månad|kl)|\bkl\.? ?\d", re.I)),
    (re.compile(r"\b(andel\w*|procent|share|percent\w*|hur stor del)\b", re.I),
     re.compile(r"\d\s*(%|procent)", re.I)),
    (re.compile(r"\b(ålder|åldrar|age|ages)\b", re.I), re.compile(r"\d+\D{0,12}\bår", re.I)),
    (re.compile(r"^(när|when)\b", re.I),
     re.compile(r"\b(19|20)\d\d\b|\d{1,2} (jan|feb|mar|apr|maj|jun|jul|aug|sep|okt|nov|dec)",
                re.I)),
    (re.compile(r"\b(varför|why)\b", re.I),
     re.compile(r"\b(för att|eftersom|därför|syfte\w*|in order)\b", re.I)),
)


@dataclass
class Assessment:
    """What the answer decision rests on: the evidence and its features."""

    evidence: Evidence
    features: dict[str, float]
    best: ScoredSentence | None
    unknown_region: Constraint | None = None


def assess(question: str, language: Language, hits: list[SearchHit], snapshot: Snapshot, *,
           query_vector: np.ndarray | None = None, sentence_index: SentenceIndex | None = None,
           document_years: dict[str, int | None] | None = None,
           embed: Callable[[str], np.ndarray] | None = None) -> Assessment:
    scorer = EvidenceScorer(question, language, snapshot)
    constraints = find_constraints(question)
    regions = corpus_regions(snapshot.chunks)
    unknown_region = next((c for c in constraints if c.kind == "region"
                           and not region_in_corpus(c, regions)), None)
    candidates = hits[:CANDIDATE_PASSAGES]
    sentences = score_sentences(question, candidates, scorer, constraints, snapshot,
                                query_vector, sentence_index, document_years or {})
    evidence = Evidence(sentences, scorer, constraints,
                        max((s.dense for s in sentences), default=0.0))
    best = sentences[0] if sentences else None
    met = [s for s in sentences if not s.unmet]
    if best is not None and best.unmet and met and met[0].score >= 0.5 * best.score:
        best = met[0]  # the best sentence that meets every constraint, if it is close
    features = _features(evidence, best, language)
    features["unknown_delta"] = _unknown_delta(question, scorer, best, hits, snapshot,
                                               sentence_index, query_vector, embed)
    return Assessment(evidence, features, best, unknown_region)


def _unknown_delta(question: str, scorer: EvidenceScorer, best: ScoredSentence | None,
                   hits: list[SearchHit], snapshot: Snapshot,
                   sentence_index: SentenceIndex | None, query_vector: np.ndarray | None,
                   embed: Callable[[str], np.ndarray] | None) -> float:
    """What the words the documents never use add to the match, in the e5 space: the best
    sentence's cosine with the question minus its cosine with the question without them.
    A synonym ("doktor" for "läkare") adds (> 0); a topic the documents lack
    ("mammografi") pulls away (< 0). One extra query embedding, only when needed."""
    unknown = scorer.unknown
    if not unknown or best is None or embed is None or sentence_index is None or \
            query_vector is None:
        return 0.0
    pattern = re.compile(r"\b(" + "|".join(re.escape(word) for word in unknown) + r")\b",
                         re.IGNORECASE)
    reduced = " ".join(pattern.sub(" ", question).split())
    chunk_id = hits[best.hit_index].chunk.chunk_id
    if not reduced or chunk_id not in snapshot.position:
        return 0.0
    position = snapshot.position[chunk_id]
    with_words = sentence_index.similarities(position, query_vector)
    without = sentence_index.similarities(position, embed(reduced))
    if best.position >= len(with_words):
        return 0.0
    return float(with_words[best.position] - without[best.position])


def lacks_topic(assessment: Assessment, language: Language) -> bool:
    """The question's topic is a real Swedish word the documents never use in any form
    ("mammografi", "parkering"), the rest of the question covers little of the sentence, and
    in the e5 space the word pulls the question away from it (a synonym would pull toward
    it). Then the nearest sentence answers something else: refuse."""
    features = assessment.features
    if features["lexical"] < FLOOR_COVERAGE and features["dense"] < FLOOR_DENSE:
        return True  # neither the words nor the meaning of the question are in the sentence
    return language == "sv" and features.get("unknown_word", 0.0) > 0 and \
        features["lexical"] < LACKING_TOPIC_COVERAGE and features.get("unknown_delta", 0.0) < 0


def _features(evidence: Evidence, best: ScoredSentence | None,
              language: Language) -> dict[str, float]:
    if best is None:
        return {name: 0.0 for name in FEATURES}
    kinds = [c for c in evidence.constraints if c.kind == "quantity"]
    return {
        "lexical": best.coverage,
        "dense": best.dense,
        "dense_max": evidence.dense_max,
        "unknown": evidence.scorer.unknown_share(),
        "unknown_word": evidence.scorer.unknown_word_share() if language == "sv" else 0.0,
        "missing": best.missing_share,
        "own_missing": best.own_missing_share,
        "unmet": float(len(best.unmet)),
        "kind_ok": (0.0 if not kinds else (1.0 if not any(c.kind == "quantity"
                                                         for c in best.unmet) else -1.0)),
        "rank": 1.0 / (1 + best.hit_index),
        "english": 1.0 if language == "en" else 0.0,
    }




def build_answer(question: str, language: Language, hits: list[SearchHit], snapshot: Snapshot,
                 *, min_evidence: float, max_chars: int, citations_k: int,
                 query_vector: np.ndarray | None = None,
                 sentence_index: SentenceIndex | None = None,
                 document_years: dict[str, int | None] | None = None,
                 embed: Callable[[str], np.ndarray] | None = None) -> Answer:
    """The answer, or an honest refusal that shows what the documents say instead.

    `min_evidence` is kept for the settings' sake; the decision is the fitted model's.
    """
    del min_evidence
    assessment = assess(question, language, hits, snapshot, query_vector=query_vector,
                        sentence_index=sentence_index, document_years=document_years,
                        embed=embed)
    evidence, best = assessment.evidence, assessment.best
    if assessment.unknown_region is not None:
        return unknown_region_refusal(question, language, hits, snapshot, citations_k,
                                      assessment.unknown_region)
    if best is None or not evidence.scorer.items:
        return refusal(question, language, hits, citations_k)
    if best.unmet:
        return near_miss(question, language, hits, best, citations_k,
                         best.unmet[0].label(language))
    if lacks_topic(assessment, language) or not load_model().answerable(assessment.features):
        if best.passage_missing and evidence.dense_max >= NEAR_MISS_DENSE:
            return near_miss(question, language, hits, best, citations_k,
                             best.passage_missing[0])
        return refusal(question, language, hits, citations_k)
    usable = [s for s in evidence.sentences if not s.unmet]
    ordered = [best, *(s for s in usable if s is not best)]
    chosen = _choose(ordered, hits[:CANDIDATE_PASSAGES], max_chars, evidence.scorer)
    conflict = find_conflict(best, usable, hits)
    if conflict is not None and all(c.text != conflict.text for c in chosen):
        chosen = sorted([*chosen, conflict][:4], key=lambda s: (s.hit_index, s.position))
    result = _compose(question, language, chosen, hits[:CANDIDATE_PASSAGES], citations_k)
    if conflict is not None:
        result.answer = f"{result.answer}\n{load_prompt(f'conflict_{language}')}"
    return result


def _choose(sentences: list[ScoredSentence], hits: list[SearchHit],
            max_chars: int, scorer: EvidenceScorer) -> list[ScoredSentence]:
    best = sentences[0]
    chunk_sentences = split_sentences(hits[best.hit_index].chunk.text)
    following = _next_sentence(chunk_sentences, best)
    if best.text.startswith(ITEM_PREFIX) or best.text.endswith((":", ";")) or (
            following is not None and following.startswith(ITEM_PREFIX)):
        listed = _list_around(chunk_sentences, best, max_chars)
        if listed:
            return listed
    chosen = [best]
    size = len(best.text)
    if following is not None and _continues_answer(following, best, sentences):
        chosen.append(ScoredSentence(following, best.hit_index, best.position + 1,
                                     best.coverage, best.score))
        size += len(following) + 6
    covered = frozenset().union(*(c.terms for c in chosen))
    base = scorer.coverage(covered)
    for sentence in sentences[1:8]:
        if sentence.text in {c.text for c in chosen} or size + len(sentence.text) + 6 > max_chars:
            continue
        # Close runners-up, or a sentence answering another part of the question.
        gain = scorer.coverage(covered | sentence.terms) - base
        if sentence.score >= 0.8 * best.score or (gain >= 0.15 and sentence.score >= 0.5 *
                                                    best.score):
            chosen.append(sentence)
            size += len(sentence.text) + 6
            covered |= sentence.terms
            base = scorer.coverage(covered)
        if len(chosen) >= 3:
            break
    return sorted(chosen, key=lambda sentence: (sentence.hit_index, sentence.position))


def _next_sentence(chunk_sentences: list[str], sentence: ScoredSentence) -> str | None:
    position = sentence.position + 1
    return chunk_sentences[position] if position < len(chunk_sentences) else None


def _continues_answer(following: str, best: ScoredSentence,
                      sentences: list[ScoredSentence]) -> bool:
    """The next sentence finishes the rule ("Maximalt utgår …", "Denna hänvisning …")."""
    if following.startswith(CONTINUATION) or best.text.endswith(":"):
        return True
    own = next((s for s in sentences if s.hit_index == best.hit_index
                and s.position == best.position + 1), None)
    return own is not None and own.coverage >= 0.6 * best.coverage


def _list_around(chunk_sentences: list[str], best: ScoredSentence,
                 max_chars: int) -> list[ScoredSentence]:
    """A list answer: the lead-in and its items, as far as they fit."""
    start = best.position
    while start > 0 and chunk_sentences[start].startswith(ITEM_PREFIX):
        start -= 1
    if chunk_sentences[start].startswith(ITEM_PREFIX):
        return []
    chosen: list[ScoredSentence] = []
    size = 0
    for position in range(start, len(chunk_sentences)):
        text = chunk_sentences[position]
        if position > start and not text.startswith(ITEM_PREFIX):
            break
        if size + len(text) + 6 > max_chars:
            break
        chosen.append(ScoredSentence(text, best.hit_index, position, best.coverage, best.score))
        size += len(text) + 6
    return chosen if len(chosen) > 1 else []


def _compose(question: str, language: Language, chosen: list[ScoredSentence],
             hits: list[SearchHit], citations_k: int) -> Answer:
    numbers: dict[int, int] = {}
    quotes: dict[int, list[str]] = {}
    for sentence in chosen:
        if sentence.hit_index not in numbers and len(numbers) >= citations_k:
            continue
        numbers.setdefault(sentence.hit_index, len(numbers) + 1)
        quotes.setdefault(sentence.hit_index, []).append(sentence.text)
    lines: list[str] = []
    kept = [sentence for sentence in chosen if sentence.hit_index in numbers]
    for position, sentence in enumerate(kept):
        following = kept[position + 1] if position + 1 < len(kept) else None
        # One marker per run of sentences from the same passage, after its last sentence.
        same_run = following is not None and following.hit_index == sentence.hit_index
        marker = "" if same_run else f" [{numbers[sentence.hit_index]}]"
        lines.append(f"{sentence.text}{marker}")
    body = _join_lines(lines)
    text = f"{load_prompt('answer_lead_en')}\n{body}" if language == "en" else body
    citations = [citation(number, hits[index], verbatim_span(hits[index].chunk.text,
                                                              quotes[index]))
                 for index, number in sorted(numbers.items(), key=lambda item: item[1])]
    return Answer(question=question, answer=text, refused=False, language=language,
                  citations=citations)


def verbatim_span(text: str, sentences: list[str]) -> str:
    """The passage text from the first quoted sentence to the end of the last, exactly as it
    stands in the document (so it can be found and highlighted there)."""
    starts = [(text.find(sentence), sentence) for sentence in sentences]
    found = [(start, sentence) for start, sentence in starts if start >= 0]
    if not found:
        return " ".join(sentences)
    first = min(start for start, _ in found)
    last = max(start + len(sentence) for start, sentence in found)
    return text[first:last]


def _join_lines(lines: list[str]) -> str:
    joined = ""
    for line in lines:
        separator = "\n" if line.startswith(ITEM_PREFIX) or joined.endswith(":") else " "
        joined = f"{joined}{separator}{line}" if joined else line
    return joined


def refusal(question: str, language: Language, hits: list[SearchHit],
            citations_k: int) -> Answer:
    nearest = [citation(n, hit, preview(hit.chunk))
               for n, hit in enumerate(hits[:citations_k], start=1)]
    return Answer(question=question, answer=load_prompt(f"refusal_{language}"), refused=True,
                  language=language, nearest=nearest)


def near_miss(question: str, language: Language, hits: list[SearchHit], best: ScoredSentence,
              citations_k: int, missing: str) -> Answer:
    """The documents answer a neighbouring question: say what is missing, show what is there,
    and refuse (the passage is the nearest, never a citation)."""
    hit = hits[best.hit_index]
    lead = render(f"near_miss_{language}", missing=missing)
    others = [h for n, h in enumerate(hits[:citations_k]) if n != best.hit_index]
    nearest = [citation(1, hit, best.text)] + [
        citation(n, other, preview(other.chunk))
        for n, other in enumerate(others[:max(0, citations_k - 1)], start=2)]
    return Answer(question=question, answer=f"{lead} {best.text} [1]", refused=True,
                  language=language, nearest=nearest)


def unknown_region_refusal(question: str, language: Language, hits: list[SearchHit],
                           snapshot: Snapshot, citations_k: int, asked: Constraint) -> Answer:
    regions = ", ".join(corpus_regions(snapshot.chunks))
    text = render(f"unknown_region_{language}", asked=asked.value, regions=regions)
    nearest = [citation(n, hit, preview(hit.chunk))
               for n, hit in enumerate(hits[:citations_k], start=1)]
    return Answer(question=question, answer=text, refused=True, language=language,
                  nearest=nearest)


def citation(n: int, hit: SearchHit, quote: str) -> Citation:
    chunk = hit.chunk
    lines = f"{chunk.line_start}–{chunk.line_end}" if chunk.line_start else ""
    return Citation(n=n, document=chunk.document, title=chunk.title, region=chunk.region,
                    section=chunk.section, heading=chunk.heading, page=chunk.page, lines=lines,
                    quote=quote, chunk_id=chunk.chunk_id, score=hit.score)


def preview(chunk: Chunk, limit: int = 240) -> str:
    text = chunk.text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
