"""Evidence for one question: every candidate sentence scored by words and by meaning.

Lexical evidence is the idf- and specificity-weighted share of the question's content words a
sentence covers (folded, stemmed, compound parts, typo-corrected, abbreviations learned from
the documents). Meaning is the e5 cosine between the question and the sentence (embedded at
ingest with its heading). Constraints (region, year, month, numbers, kind of quantity) are
checked per sentence; instruction-like sentences are never candidates.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field

import numpy as np
from wordfreq import zipf_frequency

from rag.answer.constraints import ANY_NUMBER, Constraint, satisfied
from rag.models import SearchHit
from rag.store.sentence_index import SentenceIndex
from rag.store.store import Snapshot
from rag.text.fold import fold
from rag.text.instructions import addresses_reader
from rag.text.language import Language
from rag.text.lexical import (
    EN_TO_SV,
    analyze,
    name_terms,
    query_words,
    specificity,
    typo_alternatives,
)
from rag.text.sentences import ITEM_PREFIX, split_sentences

CANDIDATE_PASSAGES = 8
# Inflected verbs ("stämmas", "genomfördes") are how a question is phrased, not its topic.
VERB_ENDINGS = ("as", "ats", "ades", "ade", "des", "dde", "tts")
# e5 cosines of related query/sentence pairs sit in about [0.75, 0.92]; rescaled to [0, 1].
DENSE_FLOOR = 0.75
DENSE_SPAN = 0.17
# A question word at least this specific (wordfreq-based) is a topic word: it must be found.
TOPIC_SPECIFICITY = 0.9
TYPO_WORDS_PER_QUESTION = 8
REAL_WORD_ZIPF = 2.0
REAL_WORD_LENGTH = 5  # shorter unknown "words" are mostly shorthand ("ssk", "dsk") or typos
DENSE_WEIGHT = float(__import__("os").environ.get("STYRDOK_DENSE_WEIGHT", "0.6"))


@dataclass
class ScoredSentence:
    text: str
    hit_index: int
    position: int
    coverage: float
    score: float
    terms: frozenset[str] = frozenset()
    dense: float = 0.0
    unmet: tuple[Constraint, ...] = ()
    missing: tuple[str, ...] = ()  # topic words found neither here nor in the passage
    missing_share: float = 0.0
    own_missing_share: float = 0.0  # the same, in the sentence alone (no heading, no title)
    passage_missing: tuple[str, ...] = ()  # topic words found nowhere in the passage either


@dataclass
class QuestionWord:
    surface: str
    alternatives: list[tuple[str, ...]]
    weight: float
    known: bool  # the documents use it in some form
    topic: bool  # specific enough to be what the question is about


class EvidenceScorer:
    """Idf- and specificity-weighted share of the question's content words a text covers."""

    def __init__(self, question: str, language: Language, snapshot: Snapshot) -> None:
        self.items: list[QuestionWord] = []
        frequency = snapshot.document_frequency
        corrections = TYPO_WORDS_PER_QUESTION  # each costs a lexicon scan: bounded
        for surface, alternatives in query_words(question, language, snapshot.vocabulary):
            known = any((frequency.get(alt[0], 0) or 0) > 0 for alt in alternatives)
            if not known:
                if language == "sv" and corrections > 0:
                    corrections -= 1
                    alternatives = alternatives + typo_alternatives(surface)
                known = any(alt[0] in frequency or (
                    len(alt) > 1 and part_share(alt[1:], frequency) >= 0.6)
                    for alt in alternatives)
            forms = [surface, *(EN_TO_SV.get(surface, ()) if language == "en" else ())]
            topical = max(specificity(form) for form in forms[1:] or forms)
            topic = topical >= TOPIC_SPECIFICITY and not surface.endswith(VERB_ENDINGS)
            idf = snapshot.idf(alternatives[0][0])
            weight = max(idf, 0.5) * specificity(surface, language)
            if language == "en" and len(alternatives) == 1 and not known:
                weight *= 0.3  # an English word we cannot translate is not evidence of absence
            self.items.append(QuestionWord(surface, alternatives, weight, known, topic))
        self.total = sum(item.weight for item in self.items) or 1.0

    @property
    def words(self) -> list[list[tuple[str, ...]]]:
        return [item.alternatives for item in self.items]

    @property
    def unknown(self) -> list[str]:
        return [item.surface for item in self.items if item.topic and not item.known]

    def unknown_share(self) -> float:
        return sum(item.weight for item in self.items
                   if item.topic and not item.known) / self.total

    def unknown_word_share(self) -> float:
        """The share of unknown topic words that are real Swedish words (wordfreq), not
        typos or staff shorthand: "mammografi" the documents lack, unlike "dgr" or "ssk"."""
        return sum(item.weight for item in self.items if item.topic and not item.known
                   and len(item.surface) >= REAL_WORD_LENGTH
                   and zipf_frequency(item.surface, "sv") >= REAL_WORD_ZIPF) / self.total

    def coverage(self, terms: frozenset[str] | set[str]) -> float:
        covered = 0.0
        for item in self.items:
            covered += item.weight * max(_match(alternative, terms)
                                         for alternative in item.alternatives)
        return covered / self.total

    def missing(self, terms: frozenset[str] | set[str]) -> tuple[tuple[str, ...], float]:
        """Known topic words of the question the terms lack, and their weight share."""
        absent = [item for item in self.items if item.topic and item.known and
                  not any(_present(alternative, terms) for alternative in item.alternatives)]
        return (tuple(item.surface for item in absent),
                sum(item.weight for item in absent) / self.total)


def _match(alternative: tuple[str, ...], terms: frozenset[str] | set[str]) -> float:
    whole, *parts = alternative
    if whole in terms:
        return 1.0
    if len(whole) >= 6 and any(term.startswith(whole) for term in terms):
        return 0.9  # Snowball leaves some inflections longer: "färdplanena" -> "färdplanen"
    if not parts:
        return 0.0
    share = part_share(tuple(parts), terms)
    # All parts present ("cell" + "provtagning") is nearly the word itself; the specific
    # part alone ("läkar" of "läkartid") is good evidence, a generic one weak.
    return 0.8 if share == 1.0 else 0.7 * share


def _present(alternative: tuple[str, ...], terms: frozenset[str] | set[str]) -> bool:
    """The word, or for a compound its modifier ("läkar" of "läkartid": who, not what kind;
    the kind of quantity is checked as a constraint of its own)."""
    if _match(alternative, terms) >= 0.7:
        return True
    modifiers = alternative[1:-1]
    return bool(modifiers) and all(part in terms for part in modifiers)


def part_share(parts: tuple[str, ...], terms: Container[str]) -> float:
    """Specificity-weighted share of a compound's parts found in `terms`."""
    weights = [specificity(part) for part in parts]
    found = sum(weight for part, weight in zip(parts, weights, strict=True) if part in terms)
    return found / (sum(weights) or 1.0)


def dense_scaled(similarity: float) -> float:
    return min(1.0, max(0.0, (similarity - DENSE_FLOOR) / DENSE_SPAN))


@dataclass
class Evidence:
    """All candidate sentences, best first, and what the answer decision needs."""

    sentences: list[ScoredSentence]
    scorer: EvidenceScorer
    constraints: list[Constraint]
    dense_max: float = 0.0
    features: dict[str, float] = field(default_factory=dict)


def score_sentences(question: str, hits: list[SearchHit], scorer: EvidenceScorer,
                    constraints: list[Constraint], snapshot: Snapshot,
                    query_vector: np.ndarray | None, sentence_index: SentenceIndex | None,
                    document_years: dict[str, int | None]) -> list[ScoredSentence]:
    from rag.answer.extractive import ANSWER_TYPES, QUANTITY_QUESTION  # one home for these

    wants_number = bool(QUANTITY_QUESTION.search(question))
    expected_types = [(asks, answers) for asks, answers in ANSWER_TYPES if asks.search(question)]
    scored: list[ScoredSentence] = []
    for hit_index, hit in enumerate(hits):
        chunk = hit.chunk
        heading = frozenset(analyze(chunk.section_label))
        document = name_terms(f"{chunk.title} {chunk.region}") | frozenset(
            fold(word) for word in analyze(chunk.title))
        similarities = _similarities(snapshot, sentence_index, query_vector, chunk.chunk_id)
        passage = frozenset(analyze(chunk.text))
        previous: frozenset[str] = frozenset()
        lead_in: frozenset[str] = frozenset()
        lead_text = ""
        flagged = set(chunk.instructions)
        chunk_sentences = split_sentences(chunk.text)
        for position, sentence in enumerate(chunk_sentences):
            terms = frozenset(analyze(sentence))
            if sentence.startswith(ITEM_PREFIX):
                # A list item means nothing without its lead-in ("… inom tre dagar:").
                terms = terms | lead_in
                context = heading
                checked_text = f"{lead_text} {sentence}"
            else:
                context = heading | previous
                lead_in = terms
                lead_text = sentence
                items = _items_after(chunk_sentences, position)
                checked_text = f"{sentence} {items}" if items else sentence
            previous = terms
            if sentence in flagged or addresses_reader(sentence):
                continue  # an order to the reader is never evidence
            own = scorer.coverage(terms)
            coverage = max(own, 0.5 * own + 0.5 * scorer.coverage(terms | context))
            dense = float(similarities[position]) if similarities is not None and \
                position < len(similarities) else 0.0
            unmet = tuple(c for c in constraints
                          if not satisfied(c, checked_text, chunk, document_years))
            missing, missing_share = scorer.missing(terms | context | document)
            own_missing = scorer.missing(terms)[1]
            passage_missing = scorer.missing(terms | context | document | passage)[0] \
                if missing else ()
            base = (1 - DENSE_WEIGHT) * coverage + DENSE_WEIGHT * dense_scaled(dense) \
                if similarities is not None else coverage
            score = base * (1.0 - 0.03 * hit_index)
            if wants_number and not ANY_NUMBER.search(checked_text):
                score *= 0.7  # "hur många", "när": the answer is a number or a date
            for _asks, answers in expected_types:
                if not answers.search(checked_text):
                    score *= 0.75
            score *= 0.6 ** len(unmet)
            if len(sentence) < 25 and not sentence.startswith(ITEM_PREFIX):
                score -= 0.2  # fragments ("Mål:") are rarely the answer; list items may be
            scored.append(ScoredSentence(sentence, hit_index, position, coverage, score, terms,
                                         dense, unmet, missing, missing_share, own_missing,
                                         passage_missing))
    return sorted(scored, key=lambda sentence: -sentence.score)


def _items_after(sentences: list[str], position: int) -> str:
    """The list items a lead-in sentence introduces (its answer may be in them)."""
    items: list[str] = []
    for following in sentences[position + 1:]:
        if not following.startswith(ITEM_PREFIX):
            break
        items.append(following)
    return " ".join(items)


def _similarities(snapshot: Snapshot, sentence_index: SentenceIndex | None,
                  query_vector: np.ndarray | None, chunk_id: str) -> np.ndarray | None:
    if sentence_index is None or query_vector is None or chunk_id not in snapshot.position:
        return None
    return sentence_index.similarities(snapshot.position[chunk_id], query_vector)
