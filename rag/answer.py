"""Extractive answers: the requirement sentences themselves, verbatim, with numbered citations.

No language model: the answer is built from sentences of the top passages. Each query word
is matched (stem, compound parts, abbreviation or English equivalent) and weighted by idf;
a passage whose best sentences cover too little of the question is not evidence, and the
answer is then a refusal with the nearest passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.chunking import ITEM_PREFIX, split_sentences
from prompts import load_prompt
from rag.language import Language
from rag.lexical import analyze, query_words
from rag.models import Answer, Chunk, Citation, SearchHit
from rag.store import Snapshot

CANDIDATE_PASSAGES = 5
QUANTITY_QUESTION = re.compile(
    r"\b(hur (mycket|många|länge|ofta|stor|mån)|när|vilken? (ålder|åldrar|tid|datum|år)|"
    r"vilka åldrar|inom hur|belopp|procent|andel|how (much|many|long|often)|when|what age|"
    r"which ages|what share|percentage)\b", re.IGNORECASE)
NUMBER = re.compile(r"\d")


@dataclass
class ScoredSentence:
    text: str
    hit_index: int
    position: int
    coverage: float
    score: float


class EvidenceScorer:
    """Idf-weighted share of the question's content words that a text covers."""

    def __init__(self, question: str, language: Language, snapshot: Snapshot) -> None:
        self.words = query_words(question, language)
        self._weights = [max(snapshot.idf(alternatives[0][0]), 0.5)
                         for alternatives in self.words]
        self.total = sum(self._weights) or 1.0

    def coverage(self, terms: frozenset[str] | set[str]) -> float:
        covered = 0.0
        for weight, alternatives in zip(self._weights, self.words, strict=True):
            covered += weight * max(_match(alternative, terms) for alternative in alternatives)
        return covered / self.total


def _match(alternative: tuple[str, ...], terms: frozenset[str] | set[str]) -> float:
    whole, *parts = alternative
    if whole in terms:
        return 1.0
    if not parts:
        return 0.0
    return 0.8 * sum(part in terms for part in parts) / len(parts)


def build_answer(question: str, language: Language, hits: list[SearchHit], snapshot: Snapshot,
                 *, min_evidence: float, max_chars: int, citations_k: int) -> Answer:
    scorer = EvidenceScorer(question, language, snapshot)
    candidates = hits[:CANDIDATE_PASSAGES]
    sentences = _score_sentences(question, candidates, scorer)
    if not scorer.words or not sentences or sentences[0].coverage < min_evidence:
        return refusal(question, language, hits, citations_k)
    chosen = _choose(sentences, candidates, max_chars)
    return _compose(question, language, chosen, candidates, citations_k)


def _score_sentences(question: str, hits: list[SearchHit],
                     scorer: EvidenceScorer) -> list[ScoredSentence]:
    wants_number = bool(QUANTITY_QUESTION.search(question))
    scored: list[ScoredSentence] = []
    for hit_index, hit in enumerate(hits):
        context = frozenset(analyze(hit.chunk.section_label))
        for position, sentence in enumerate(split_sentences(hit.chunk.text)):
            terms = frozenset(analyze(sentence))
            # Words of the section heading count half: "BMM" in the heading supports a
            # sentence that only says "läkarinsats".
            coverage = max(scorer.coverage(terms), 0.5 * scorer.coverage(terms | context)
                           + 0.5 * scorer.coverage(terms))
            score = coverage * (1.0 - 0.06 * hit_index)
            if wants_number and NUMBER.search(sentence):
                score += 0.15
            if len(sentence) < 25:
                score -= 0.2
            scored.append(ScoredSentence(sentence, hit_index, position, coverage, score))
    return sorted(scored, key=lambda sentence: -sentence.score)


def _choose(sentences: list[ScoredSentence], hits: list[SearchHit],
            max_chars: int) -> list[ScoredSentence]:
    best = sentences[0]
    chunk_sentences = split_sentences(hits[best.hit_index].chunk.text)
    if best.text.startswith(ITEM_PREFIX) or best.text.endswith(":"):
        listed = _list_around(chunk_sentences, best, max_chars)
        if listed:
            return listed
    chosen = [best]
    size = len(best.text)
    for sentence in sentences[1:4]:
        if sentence.score < 0.8 * best.score or sentence.text in {c.text for c in chosen}:
            continue
        if size + len(sentence.text) + 6 > max_chars:
            continue
        chosen.append(sentence)
        size += len(sentence.text) + 6
    return sorted(chosen, key=lambda sentence: (sentence.hit_index, sentence.position))


def _list_around(chunk_sentences: list[str], best: ScoredSentence,
                 max_chars: int) -> list[ScoredSentence]:
    """A list answer: the lead-in and its items, as far as they fit."""
    start = best.position
    while start > 0 and chunk_sentences[start].startswith(ITEM_PREFIX):
        start -= 1
    if not chunk_sentences[start].endswith(":"):
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
    citations = [citation(number, hits[index], " ".join(
        quote.removeprefix(ITEM_PREFIX) for quote in quotes[index]))
        for index, number in sorted(numbers.items(), key=lambda item: item[1])]
    return Answer(question=question, answer=text, refused=False, language=language,
                  citations=citations)


def _join_lines(lines: list[str]) -> str:
    joined = ""
    for line in lines:
        separator = "\n" if line.startswith(ITEM_PREFIX) or joined.endswith(":") else " "
        joined = f"{joined}{separator}{line}" if joined else line
    return joined


def refusal(question: str, language: Language, hits: list[SearchHit],
            citations_k: int) -> Answer:
    nearest = [citation(n, hit, _preview(hit.chunk))
               for n, hit in enumerate(hits[:citations_k], start=1)]
    return Answer(question=question, answer=load_prompt(f"refusal_{language}"), refused=True,
                  language=language, nearest=nearest)


def citation(n: int, hit: SearchHit, quote: str) -> Citation:
    chunk = hit.chunk
    lines = f"{chunk.line_start}–{chunk.line_end}" if chunk.line_start else ""
    return Citation(n=n, document=chunk.document, title=chunk.title, region=chunk.region,
                    section=chunk.section, heading=chunk.heading, page=chunk.page, lines=lines,
                    quote=quote, chunk_id=chunk.chunk_id, score=hit.score)


def _preview(chunk: Chunk, limit: int = 240) -> str:
    text = chunk.text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
