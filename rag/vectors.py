"""Chroma as the vector store: embedded (PersistentClient) or a server (HttpClient)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.config import Settings as ChromaSettings

from rag.embeddings import Embedder
from rag.models import Chunk, Filters
from rag.settings import Settings

# With Chroma's default ef_search (100) the top 30 of the same query differed between
# processes; a wider beam makes the candidate list stable (and near-exact) at our sizes.
HNSW_EF = 400


class StyrdokEmbeddingFunction(EmbeddingFunction[Documents]):
    """Our embedder, handed to Chroma so it never falls back to its downloading default."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        return list(self._embedder.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> ChromaEmbeddings:
        return [self._embedder.embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "styrdok"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> StyrdokEmbeddingFunction:
        raise NotImplementedError("Styrdok passes its embedding function explicitly")


def chroma_client(settings: Settings) -> ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or 8000,
                                   ssl=url.scheme == "https", settings=chroma_settings)
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


class VectorStore:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self._client = chroma_client(settings)
        self._collection = self._client.get_or_create_collection(
            name=settings.collection,
            embedding_function=StyrdokEmbeddingFunction(embedder),  # type: ignore[arg-type]
            configuration={"hnsw": {"space": "cosine", "ef_construction": HNSW_EF,
                                    "ef_search": HNSW_EF}},
            metadata={"embedder": embedder.name},
        )
        hnsw = (self._collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("ef_search", HNSW_EF) < HNSW_EF:  # a collection made by an older version
            self._collection.modify(configuration={"hnsw": {"ef_search": HNSW_EF}})

    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        for start in range(0, len(chunks), 1000):
            batch = chunks[start:start + 1000]
            self._collection.upsert(
                ids=[chunk.chunk_id for chunk in batch],
                embeddings=vectors[start:start + len(batch)],
                metadatas=[_metadata(chunk) for chunk in batch],
                documents=[chunk.text for chunk in batch],
            )

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 1000):
            self._collection.delete(ids=ids[start:start + 1000])

    def ids(self) -> set[str]:
        found: set[str] = set()
        offset = 0
        while True:
            page = self._collection.get(include=[], limit=5000, offset=offset)
            found.update(page["ids"])
            if len(page["ids"]) < 5000:
                return found
            offset += 5000

    def count(self) -> int:
        return int(self._collection.count())

    def query(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first."""
        if self.count() == 0:
            return []
        result = self._collection.query(query_embeddings=[vector], n_results=k,
                                        where=_where(filters), include=["distances"])
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        return [(chunk_id, 1.0 - float(distance))
                for chunk_id, distance in zip(ids, distances, strict=True)]


def _metadata(chunk: Chunk) -> dict[str, str | int]:
    return {"document": chunk.document, "region": chunk.region, "doc_type": chunk.doc_type,
            "section": chunk.section, "page": chunk.page or 0}


def _where(filters: Filters) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = [
        {field: value} for field, value in (("region", filters.region),
                                            ("doc_type", filters.doc_type),
                                            ("document", filters.document)) if value]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
