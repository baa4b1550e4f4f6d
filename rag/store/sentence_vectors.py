"""e5 vectors of single sentences, for evidence by meaning (rag/answer/meaning.py).

Each sentence is embedded as an e5 passage with its section label (a list item with its
lead-in, which it means nothing without). Vectors are kept in the catalog's embedding cache
under their own name, keyed by the hash of the embedded text, so ingest embeds a document's
sentences once and a query only reads them; a sentence the cache lacks (a catalog written
before this) is embedded on first use. A bounded in-memory map saves the SQLite read.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np
import numpy.typing as npt

from rag.models import Chunk
from rag.store.catalog import Catalog
from rag.store.embeddings import Embedder
from rag.text.sentences import ITEM_PREFIX

MAX_EMBEDDED_CHARS = 600  # long sentences are cut for embedding only
IN_MEMORY = 50_000
# One question's vector serves retrieval, the sentence selector and the meaning step.
QUERIES_KEPT = 64
Vector = npt.NDArray[np.float32]


def embedded_sentences(chunk: Chunk) -> list[str]:
    """What is embedded for each of `chunk.sentences()`, in order."""
    label = chunk.section_label
    texts: list[str] = []
    lead_in = ""
    for sentence in chunk.sentences():
        if sentence.startswith(ITEM_PREFIX):
            body = f"{lead_in} {sentence[len(ITEM_PREFIX):]}"
        else:
            body = lead_in = sentence
        texts.append((f"{label}: {body}" if label else body)[:MAX_EMBEDDED_CHARS])
    return texts


def sentence_key(text: str) -> str:
    return hashlib.sha256(f"sentence|{text}".encode()).hexdigest()


class SentenceVectors:
    def __init__(self, embedder: Embedder, catalog: Catalog | None = None) -> None:
        self.embedder = embedder
        self.catalog = catalog
        self.cache_name = f"{embedder.name}/sentences"  # apart from the passages' vectors
        self._memory: OrderedDict[str, Vector] = OrderedDict()
        self._queries: OrderedDict[str, Vector] = OrderedDict()
        self._lock = threading.Lock()

    def query(self, text: str) -> Vector:
        """The e5 query vector of `text`; the last QUERIES_KEPT are kept."""
        with self._lock:
            if text in self._queries:
                self._queries.move_to_end(text)
                return self._queries[text]
        vector = np.array(self.embedder.embed_query(text), dtype=np.float32)
        vector.setflags(write=False)  # shared by the steps of an ask: none may change it
        with self._lock:
            self._queries[text] = vector
            while len(self._queries) > QUERIES_KEPT:
                self._queries.popitem(last=False)
        return vector

    def of(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """One row per text (embedded texts, see `embedded_sentences`)."""
        with self._lock:
            known = {text: self._memory[text] for text in texts if text in self._memory}
        wanted = [text for text in dict.fromkeys(texts) if text not in known]
        if wanted and self.catalog is not None:
            keys = {text: sentence_key(text) for text in wanted}
            cached = self.catalog.cached_vectors(self.cache_name, list(keys.values()))
            known.update((text, cached[key]) for text, key in keys.items() if key in cached)
        missing = [text for text in wanted if text not in known]
        if missing:
            fresh = np.asarray(self.embedder.embed_passages(missing), dtype=np.float32)
            known.update(zip(missing, fresh, strict=True))
            if self.catalog is not None:
                self._cache(missing, fresh)
        with self._lock:
            for text in wanted:
                self._memory[text] = known[text]
            while len(self._memory) > IN_MEMORY:
                self._memory.popitem(last=False)
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.vstack([known[text] for text in texts])

    def similarities(self, chunks: list[Chunk], query: Vector) -> list[Vector]:
        """Per chunk, each of its sentences' similarity to a query vector (one read for all)."""
        texts = [embedded_sentences(chunk) for chunk in chunks]
        flat = self.of([text for own in texts for text in own]) @ query
        ends = np.cumsum([len(own) for own in texts])
        return np.split(flat, ends[:-1]) if len(texts) else []

    def embed_chunks(self, chunks: list[Chunk]) -> int:
        """Put the sentences of `chunks` into the cache; returns how many were embedded."""
        if self.catalog is None:
            return 0
        texts = list(dict.fromkeys(text for chunk in chunks
                                   for text in embedded_sentences(chunk)))
        cached = self.catalog.cached_vectors(self.cache_name, [sentence_key(t) for t in texts])
        missing = [text for text in texts if sentence_key(text) not in cached]
        for start in range(0, len(missing), 64):  # cached part by part: a crash keeps the rest
            part = missing[start:start + 64]
            self._cache(part, np.asarray(self.embedder.embed_passages(part), dtype=np.float32))
        return len(missing)

    def _cache(self, texts: list[str], vectors: npt.NDArray[np.float32]) -> None:
        if self.catalog is not None:
            self.catalog.cache_vectors(self.cache_name, {
                sentence_key(text): vector for text, vector in zip(texts, vectors, strict=True)})
