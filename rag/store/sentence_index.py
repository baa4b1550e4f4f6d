"""Sentence vectors of a snapshot: every sentence of every passage in the e5 space.

The answerer compares the question with single sentences (not whole passages), so "doktor",
English questions and paraphrases are measured by meaning. Each sentence is embedded as an e5
passage with its heading (and a list item with its lead-in), through the catalog's embedding
cache keyed by the hash of the embedded text: nothing is embedded twice, ingest fills the
cache, and a snapshot only reads it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from rag.models import Chunk
from rag.store.catalog import Catalog
from rag.store.embeddings import Embedder
from rag.text.sentences import ITEM_PREFIX, split_sentences

# Long sentences are cut for embedding only (cost grows faster than length).
MAX_EMBEDDED_CHARS = 600


def sentence_texts(chunk: Chunk) -> list[str]:
    """What is embedded for each sentence of a chunk, in order."""
    label = chunk.section_label
    texts: list[str] = []
    lead_in = ""
    for sentence in split_sentences(chunk.text):
        if sentence.startswith(ITEM_PREFIX):
            body = f"{lead_in} {sentence[len(ITEM_PREFIX):]}"
        else:
            body = sentence
            lead_in = sentence
        text = f"{label}: {body}" if label else body
        texts.append(text[:MAX_EMBEDDED_CHARS])
    return texts


def cache_name(embedder: Embedder) -> str:
    """Sentence vectors live in the embedding cache under their own name, apart from the
    passages' (whose count tracks ingest progress)."""
    return f"{embedder.name}/sentences"


def text_hash(text: str) -> str:
    return hashlib.sha256(f"sentence|{text}".encode()).hexdigest()


def cache_sentence_vectors(catalog: Catalog, embedder: Embedder, chunks: list[Chunk]) -> int:
    """Embed the sentences of `chunks` the cache lacks; returns how many were embedded."""
    texts = list(dict.fromkeys(text for chunk in chunks for text in sentence_texts(chunk)))
    hashes = [text_hash(text) for text in texts]
    cached = catalog.cached_vectors(cache_name(embedder), hashes)
    missing = [i for i, key in enumerate(hashes) if key not in cached]
    if missing:
        fresh = embedder.embed_passages([texts[i] for i in missing])
        catalog.cache_vectors(cache_name(embedder),
                              {hashes[i]: fresh[row] for row, i in enumerate(missing)})
    return len(missing)


@dataclass
class SentenceIndex:
    """Row of each (chunk position, sentence position) in a matrix of unit vectors."""

    matrix: np.ndarray  # one row per distinct embedded text (repeated passages share rows)
    rows: np.ndarray  # matrix row of each sentence, chunk after chunk
    offsets: list[int] = field(default_factory=list)  # first sentence of each chunk
    counts: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, catalog: Catalog, embedder: Embedder, chunks: list[Chunk]) -> SentenceIndex:
        cache_sentence_vectors(catalog, embedder, chunks)
        per_chunk = [sentence_texts(chunk) for chunk in chunks]
        unique = list(dict.fromkeys(text for texts in per_chunk for text in texts))
        hashes = [text_hash(text) for text in unique]
        cached = catalog.cached_vectors(cache_name(embedder), hashes)
        row_of = {text: row for row, text in enumerate(unique)}
        matrix = np.zeros((len(unique), embedder.dim), dtype=np.float32)
        for row, key in enumerate(hashes):
            vector = cached.get(key)
            if vector is not None:
                matrix[row] = vector
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix /= np.maximum(norms, 1e-12)
        offsets: list[int] = []
        counts: list[int] = []
        rows: list[int] = []
        for texts in per_chunk:
            offsets.append(len(rows))
            counts.append(len(texts))
            rows.extend(row_of[text] for text in texts)
        return cls(matrix, np.asarray(rows, dtype=np.int64), offsets, counts)

    def similarities(self, chunk_position: int, query: np.ndarray) -> np.ndarray:
        """Cosine of the query with each sentence of one chunk (in sentence order)."""
        start = self.offsets[chunk_position]
        block = self.matrix[self.rows[start:start + self.counts[chunk_position]]]
        unit = query / max(float(np.linalg.norm(query)), 1e-12)
        similarities: np.ndarray = block @ unit.astype(np.float32)
        return similarities
