"""Hybrid retrieval: Swedish BM25 and dense e5, fused by a convex combination of their
min-max normalised scores, then the top passages reordered by their nearest sentence in e5."""

from __future__ import annotations

from typing import Literal

import numpy as np

from rag.clock import Clock
from rag.models import Filters, SearchHit
from rag.retrieve.as_of import AsOf, resolve, validity_mask
from rag.retrieve.statute_refs import (
    StatuteMentions,
    asked_as_source,
    cites_a_paragraph,
    mentions,
)
from rag.settings import Settings
from rag.store.embeddings import Vectors
from rag.store.sentence_vectors import SentenceVectors
from rag.store.store import Snapshot, Store
from rag.text.answer_types import asked_kinds
from rag.text.language import detect_language
from rag.text.lexical import analyze_query, name_terms

Mode = Literal["hybrid", "bm25", "dense"]
Versions = Literal["as_of", "superseded"]
# Fitted on the dev split (v2 dev: hit@5 0.83 -> 0.91, fact 0.63 -> 0.67 with the sentence
# step); reciprocal-rank fusion threw away how far apart two passages score.
DENSE_SHARE = 0.4
SENTENCE_SHARE = 0.5
NAMED_DOCUMENT_BOOST = 1.25
STATUTE_WEIGHT = 0.85
# A paragraph asked for by number ("Vad säger PSF 8 kap. 7 §?") comes first by this much.
ASKED_PARAGRAPH_BOOST = 1.25
# A statute asked as the source ("enligt HSL") has its best passages lead, this many.
SOURCE_PASSAGES = 2
# A passage without the kind of text the question asks for (an amount, a date, a count of
# years …) keeps this share of its fused score (fitted on dev: hit@1 of the 207 dev questions
# that ask for a kind 0.720 / 0.739 / 0.744 / 0.754 / 0.763 / 0.758 at 1 / 0.9 / 0.8 / 0.7 /
# 0.6 / 0.5); dev fact 0.729 -> 0.732, legacy MRR 0.911 -> 0.929).
LACKS_ASKED_KIND = 0.6


class HybridSearcher:
    def __init__(self, store: Store, settings: Settings, clock: Clock | None = None) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock or Clock(settings.today)

    def as_of(self, query: str, filters: Filters | None = None) -> AsOf:
        """The date a query is answered as of: the filter's, one the query names, or today."""
        return resolve(query, (filters or Filters()).as_of, self.clock.today())

    def search(self, query: str, k: int = 10, filters: Filters | None = None,
               mode: Mode = "hybrid", versions: Versions = "as_of") -> list[SearchHit]:
        """Ranked passages in force on the as-of date (`versions="superseded"`: only those
        that had ceased by then, to say what used to apply)."""
        filters = filters or Filters()
        snapshot = self.store.snapshot()
        if not snapshot.chunks:
            return []
        valid = validity_mask(snapshot.chunks, self.as_of(query, filters).day, versions,
                              snapshot.validity_bounds())
        depth = max(self.settings.retrieve_k, k)
        vector = self.store.sentence_vectors.query(query) if mode != "bm25" else None
        hits = self._ranked(snapshot, query, vector, depth, filters, valid, mode)
        if mode == "hybrid":
            cited = mentions(query, snapshot.statutes())
            hits = boost_named_documents(hits, cited.naming_text, snapshot)
            hits = statutes_behind_regional_rules(hits, cited.naming_text, snapshot)
            hits = asked_paragraphs_first(hits, cited, snapshot, _allowed(snapshot, filters,
                                                                           valid))
            # (a paragraph asked for by number is found by its number, wherever it ranks)
            if filters.document is None and not cites_a_paragraph(query) and \
                    vector is not None:
                hits = self._source_passages_first(hits, snapshot, query, vector, depth,
                                                   cited, filters, valid)
        return hits[:k]

    def _ranked(self, snapshot: Snapshot, query: str, vector: Vectors | None, depth: int,
                filters: Filters, valid: np.ndarray | None, mode: Mode) -> list[SearchHit]:
        """BM25 and dense fused, then (hybrid) reordered by each passage's nearest sentence."""
        bm25 = self._bm25(snapshot, query, depth, filters, valid) if mode != "dense" else []
        dense = self._dense(snapshot, vector, depth, filters, valid) if vector is not None else []
        hits = fuse(snapshot, bm25, dense)
        if mode == "hybrid":
            hits = prefer_asked_kind(hits, query)
            if vector is not None:
                hits = by_nearest_sentence(hits, vector, self.store.sentence_vectors, depth)
        return hits

    def _source_passages_first(self, hits: list[SearchHit], snapshot: Snapshot, query: str,
                               vector: Vectors, depth: int, cited: StatuteMentions,
                               filters: Filters, valid: np.ndarray | None) -> list[SearchHit]:
        """"Vad säger HSL om fast läkarkontakt?" asks HSL: its best passages for the question
        lead, ranked the same way inside it (same snapshot, same query vector), wherever they
        ranked among all documents."""
        sources = asked_as_source(cited, snapshot.statutes())
        if not sources or not hits:
            return hits
        first: list[SearchHit] = []
        for statute in sources:
            inside = filters.model_copy(update={"document": statute.document})
            first += self._ranked(snapshot, query, vector, depth, inside, valid,
                                  "hybrid")[:SOURCE_PASSAGES]
        top = hits[0].score
        chosen = {hit.chunk.chunk_id for hit in first}
        return [hit.model_copy(update={"score": top}) for hit in first] + \
            [hit for hit in hits if hit.chunk.chunk_id not in chosen]

    def _bm25(self, snapshot: Snapshot, query: str, depth: int, filters: Filters,
              valid: np.ndarray | None) -> list[tuple[int, float]]:
        terms = analyze_query(query, detect_language(query), snapshot.abbreviations())
        return snapshot.lexical.top(terms, depth, _allowed(snapshot, filters, valid))

    def _dense(self, snapshot: Snapshot, vector: Vectors, depth: int, filters: Filters,
               valid: np.ndarray | None) -> list[tuple[int, float]]:
        # Chunks out of force are dropped after the query, so ask for that many more: the
        # top `depth` in force are then all there (exact, and no validity in Chroma's metadata).
        excluded = 0 if valid is None else int(len(valid) - valid.sum())
        found = self.store.vectors.query(vector, depth + excluded, filters)
        # Only chunks in this snapshot count: stray vectors from an unfinished write are ignored.
        positions = [(snapshot.position[chunk_id], similarity) for chunk_id, similarity in found
                     if chunk_id in snapshot.position]
        if valid is not None:
            positions = [(index, similarity) for index, similarity in positions if valid[index]]
        return positions[:depth]


def _allowed(snapshot: Snapshot, filters: Filters, valid: np.ndarray | None) -> np.ndarray | None:
    mask = snapshot.mask(filters)
    if valid is not None:
        mask = valid if mask is None else mask * valid
    return mask


def fuse(snapshot: Snapshot, bm25: list[tuple[int, float]],
         dense: list[tuple[int, float]]) -> list[SearchHit]:
    """A convex combination of the two rankers' min-max normalised scores (one ranker alone
    keeps its own order)."""
    scores: dict[int, float] = {}
    share = DENSE_SHARE if bm25 and dense else 1.0
    for ranked, weight in ((bm25, 1.0 - share), (dense, share)):
        for index, normalised in min_max(ranked):
            scores[index] = scores.get(index, 0.0) + weight * normalised
    bm25_rank = {index: rank for rank, (index, _) in enumerate(bm25, start=1)}
    dense_rank = {index: rank for rank, (index, _) in enumerate(dense, start=1)}
    similarity = dict(dense)
    ordered = sorted(scores, key=lambda index: -scores[index])
    return [SearchHit(chunk=snapshot.chunks[index], score=round(scores[index], 6),
                      bm25_rank=bm25_rank.get(index), dense_rank=dense_rank.get(index),
                      dense_similarity=similarity.get(index))
            for index in ordered]


def prefer_asked_kind(hits: list[SearchHit], query: str) -> list[SearchHit]:
    """Passages with the kind of text the question asks for ("hur mycket kostar" an amount,
    "hur många år" a count of years, "när" a date) ahead of equally matching ones without
    it, which answer a neighbouring question. The answer step weighs sentences the same way;
    here it decides which passages it sees."""
    kinds = asked_kinds(query)
    if not kinds:
        return hits
    weighted = [hit if all(kind.search(hit.chunk.text) for kind in kinds) else
                hit.model_copy(update={"score": round(hit.score * LACKS_ASKED_KIND, 6)})
                for hit in hits]
    return sorted(weighted, key=lambda hit: -hit.score)


def min_max(ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Scores rescaled to [0, 1] within one list (a lone entry scores 1)."""
    if not ranked:
        return []
    low = min(score for _, score in ranked)
    span = max(score for _, score in ranked) - low
    return [(index, (score - low) / span if span > 0 else 1.0) for index, score in ranked]


def by_nearest_sentence(hits: list[SearchHit], query: Vectors, sentences: SentenceVectors,
                        depth: int) -> list[SearchHit]:
    """The top `depth` passages reordered by half their fused score (relative to the best)
    and half their nearest sentence's e5 similarity to the query (min-max within them). A
    passage's vector blurs its sentences together; the one sentence that answers stands out.
    Only passages in force are here, so two wordings of one paragraph never compete."""
    head = hits[:depth]
    if not head:
        return hits
    per_passage = sentences.similarities([hit.chunk for hit in head], query)
    nearest = [(index, float(own.max()) if len(own) else -1.0)
               for index, own in enumerate(per_passage)]
    best = max(hit.score for hit in head) or 1.0
    closeness = dict(min_max(nearest))
    rescored = [hit.model_copy(update={"score": round(
        (1.0 - SENTENCE_SHARE) * hit.score / best + SENTENCE_SHARE * closeness[index], 6)})
        for index, hit in enumerate(head)]
    # The passages below the head keep their order, and stay below it: their fused scores
    # are no higher than any in the head.
    tail = [hit.model_copy(update={"score": round((1.0 - SENTENCE_SHARE) * hit.score / best, 6)})
            for hit in hits[depth:]]
    return sorted(rescored, key=lambda hit: -hit.score) + tail


def boost_named_documents(hits: list[SearchHit], query: str,
                          snapshot: Snapshot) -> list[SearchHit]:
    """A question that names a document ("enligt färdplanen", "IVO", "i Värmland") prefers
    that document's passages. Only words found in the titles or regions of few documents
    count, so "vård" names nothing."""
    named = snapshot.documents_named_by(name_terms(query))
    if not named:
        return hits
    boosted = [hit.model_copy(update={"score": round(hit.score * NAMED_DOCUMENT_BOOST, 6)})
               if hit.chunk.document in named else hit for hit in hits]
    return sorted(boosted, key=lambda hit: -hit.score)


def statutes_behind_regional_rules(hits: list[SearchHit], query: str,
                                   snapshot: Snapshot) -> list[SearchHit]:
    """National law frames what the regional documents require in detail: unless the query
    names a statute (its short name or title words), a statute passage yields to an equally
    ranked regional one (weight STATUTE_WEIGHT)."""
    words = {word.strip("?.,!:;").lower() for word in query.split()}
    named = snapshot.documents_named_by(name_terms(query))
    if not any(hit.chunk.short_title for hit in hits):
        return hits
    weighted = [hit.model_copy(update={"score": round(hit.score * STATUTE_WEIGHT, 6)})
                if hit.chunk.short_title and hit.chunk.short_title.lower() not in words
                and hit.chunk.document not in named else hit for hit in hits]
    return sorted(weighted, key=lambda hit: -hit.score)


def asked_paragraphs_first(hits: list[SearchHit], cited: StatuteMentions, snapshot: Snapshot,
                           allowed: np.ndarray | None) -> list[SearchHit]:
    """A paragraph asked for by number leads, in the wording in force on the as-of date (and
    inside the filters), whether or not the rankers found it."""
    if not cited.paragraphs or not hits:
        return hits
    wanted = [index for index, chunk in enumerate(snapshot.chunks)
              if (chunk.document, chunk.section) in cited.paragraphs
              and (allowed is None or allowed[index])]
    if not wanted:
        return hits
    top = hits[0].score * ASKED_PARAGRAPH_BOOST
    found = {hit.chunk.chunk_id: hit for hit in hits}
    first = [found[chunk.chunk_id].model_copy(update={"score": round(top, 6)})
             if chunk.chunk_id in found else SearchHit(chunk=chunk, score=round(top, 6))
             for chunk in (snapshot.chunks[index] for index in wanted)]
    chosen = {hit.chunk.chunk_id for hit in first}
    return first + [hit for hit in hits if hit.chunk.chunk_id not in chosen]
