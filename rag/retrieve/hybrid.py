"""Hybrid retrieval: Swedish BM25 and dense e5, fused by weighted reciprocal rank."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.models import Filters, SearchHit
from rag.settings import Settings
from rag.store.store import Snapshot, Store
from rag.text.language import detect_language
from rag.text.lexical import analyze_query, name_terms, respelled

Mode = Literal["hybrid", "bm25", "dense"]
BM25_WEIGHT = 1.0
DENSE_WEIGHT = 1.0
NAMED_DOCUMENT_BOOST = 1.25
# Query vectors kept for the answer step (it compares the same question with sentences).
QUERY_VECTOR_CACHE = 256


class HybridSearcher:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()

    def dense_text(self, query: str, snapshot: Snapshot | None = None) -> str:
        """What the e5 model embeds for a question: a Swedish one in the documents' spelling."""
        if detect_language(query) != "sv":
            return query
        snapshot = snapshot or self.store.snapshot()
        return respelled(query, snapshot.vocabulary) if snapshot.chunks else query

    def query_vector(self, query: str) -> np.ndarray:
        """The e5 query vector of a text, embedded once however often it is asked for."""
        with self._vectors_lock:
            cached = self._vectors.get(query)
            if cached is not None:
                self._vectors.move_to_end(query)
                return cached
        vector = np.asarray(self.store.embedder.embed_query(query), dtype=np.float32)
        with self._vectors_lock:
            self._vectors[query] = vector
            while len(self._vectors) > QUERY_VECTOR_CACHE:
                self._vectors.popitem(last=False)
        return vector

    def search(self, query: str, k: int = 10, filters: Filters | None = None,
               mode: Mode = "hybrid") -> list[SearchHit]:
        filters = filters or Filters()
        snapshot = self.store.snapshot()
        if not snapshot.chunks:
            return []
        depth = max(self.settings.retrieve_k, k)
        bm25 = self._bm25(snapshot, query, depth, filters) if mode != "dense" else []
        dense = self._dense(snapshot, query, depth, filters) if mode != "bm25" else []
        hits = fuse(snapshot, bm25, dense, self.settings.rrf_k)
        if mode == "hybrid":
            hits = boost_named_documents(hits, query, snapshot)
        return hits[:k]

    def _bm25(self, snapshot: Snapshot, query: str, depth: int,
              filters: Filters) -> list[tuple[int, float]]:
        terms = analyze_query(query, detect_language(query), snapshot.vocabulary)
        scores = snapshot.lexical.scores(terms, snapshot.mask(filters))
        top = np.argsort(-scores, kind="stable")[:depth]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def _dense(self, snapshot: Snapshot, query: str, depth: int,
               filters: Filters) -> list[tuple[int, float]]:
        vector = self.query_vector(self.dense_text(query, snapshot))
        found = self.store.vectors.query(vector, depth, filters)
        # Only chunks in this snapshot count: stray vectors from an unfinished write are ignored.
        return [(snapshot.position[chunk_id], similarity) for chunk_id, similarity in found
                if chunk_id in snapshot.position]


def fuse(snapshot: Snapshot, bm25: list[tuple[int, float]], dense: list[tuple[int, float]],
         rrf_k: int) -> list[SearchHit]:
    scores: dict[int, float] = {}
    bm25_rank: dict[int, int] = {}
    dense_rank: dict[int, int] = {}
    similarity = dict(dense)
    for rank, (index, _) in enumerate(bm25, start=1):
        bm25_rank[index] = rank
        scores[index] = scores.get(index, 0.0) + BM25_WEIGHT / (rrf_k + rank)
    for rank, (index, _) in enumerate(dense, start=1):
        dense_rank[index] = rank
        scores[index] = scores.get(index, 0.0) + DENSE_WEIGHT / (rrf_k + rank)
    ordered = sorted(scores, key=lambda index: -scores[index])
    return [SearchHit(chunk=snapshot.chunks[index], score=round(scores[index], 6),
                      bm25_rank=bm25_rank.get(index), dense_rank=dense_rank.get(index),
                      dense_similarity=similarity.get(index))
            for index in ordered]


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


class StyrdokRetriever(BaseRetriever):
    """The hybrid searcher as a LangChain retriever (metadata carries the citation fields)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: HybridSearcher
    k: int = 5
    filters: Filters = Filters()
    mode: Mode = "hybrid"

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.searcher.search(query, self.k, self.filters, self.mode)
        return [Document(page_content=hit.chunk.text, id=hit.chunk.chunk_id,
                         metadata={**hit.chunk.model_dump(exclude={"text"}), "score": hit.score,
                                   "bm25_rank": hit.bm25_rank, "dense_rank": hit.dense_rank})
                for hit in hits]
