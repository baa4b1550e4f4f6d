"""Chroma as the vector store: embedded (PersistentClient) or a server (HttpClient)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.config import Settings as ChromaSettings

from rag.models import Chunk, Filters
from rag.settings import Settings
from rag.store.embeddings import Embedder

# With Chroma's default ef_search (100) the top 30 of the same query differed between
# processes; a wider beam makes the candidate list stable (and near-exact) at our sizes.
HNSW_EF = 400


class StyrdokEmbeddingFunction(EmbeddingFunction[Documents]):
    """Our embedder, handed to Chroma so it never falls back to its downloading default.

    Chroma stores the function's name and config with the collection and rebuilds it from
    them when it loads the collection; the config names the embedder, and the rebuilt
    function uses the embedder of that name that this process already loaded (Styrdok never
    lets Chroma load a model itself).
    """

    _loaded: ClassVar[dict[str, Embedder]] = {}

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        StyrdokEmbeddingFunction._loaded[embedder.name] = embedder

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
        embedder = StyrdokEmbeddingFunction._loaded.get(str(config.get("embedder")))
        if embedder is None:
            raise ValueError(f"embedder {config.get('embedder')!r} is not loaded in this "
                             "process; Styrdok passes its embedding function explicitly")
        return StyrdokEmbeddingFunction(embedder)


def chroma_client(settings: Settings) -> ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or 8000,
                                   ssl=url.scheme == "https", settings=chroma_settings)
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def close_client(client: ClientAPI) -> None:
    """Close a Chroma client and, for a server, its HTTP connections.

    chromadb 1.5's `close()` stops the client's system but leaves the HTTP client's httpx
    session (and its pooled sockets) open, so that session is closed here too.
    """
    client.close()  # type: ignore[attr-defined]  # ClientAPI omits close(); Client has it
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None:
        session.close()


class VectorStore:
    """Chunk vectors in a Chroma collection.

    An embedded (PersistentClient) Chroma keeps its HNSW index in process memory and never
    sees vectors another process wrote; `reopen` loads them (the store calls it when another
    process changed the catalog). A Chroma server needs no reopening.
    """

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self._settings = settings
        self._embedder = embedder
        self._gate = _SwapGate()
        self._client, self._collection = self._open()
        self._has_vectors = False  # known to hold vectors (see `query`)

    @property
    def embedded(self) -> bool:
        return not self._settings.chroma_url

    def _open(self) -> tuple[ClientAPI, Any]:
        client = chroma_client(self._settings)
        collection = client.get_or_create_collection(
            name=self._settings.collection,
            embedding_function=StyrdokEmbeddingFunction(self._embedder),  # type: ignore[arg-type]
            configuration={"hnsw": {"space": "cosine", "ef_construction": HNSW_EF,
                                    "ef_search": HNSW_EF}},
            metadata={"embedder": self._embedder.name},
        )
        hnsw = (collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("ef_search", HNSW_EF) < HNSW_EF:  # a collection made by an older version
            collection.modify(configuration={"hnsw": {"ef_search": HNSW_EF}})
        return client, collection

    def reopen(self) -> None:
        """Reload the collection from disk, once no call is using the current one."""
        with self._gate.exclusive():
            # Closing drops Chroma's per-path system, so _open reads the disk (ClientAPI omits
            # close() from its type, the Client class has it).
            self._client.close()  # type: ignore[attr-defined]
            self._client, self._collection = self._open()
            self._has_vectors = False

    def close(self) -> None:
        """Close the client: a server's connections, or the embedded store's system (which
        every client of that path in this process shares)."""
        with self._gate.exclusive():
            close_client(self._client)

    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        written_at = int(time.time())
        with self._gate.shared():
            for start in range(0, len(chunks), 1000):
                batch = chunks[start:start + 1000]
                self._collection.upsert(
                    ids=[chunk.chunk_id for chunk in batch],
                    embeddings=vectors[start:start + len(batch)],
                    metadatas=[_metadata(chunk, written_at) for chunk in batch],
                    documents=[chunk.text for chunk in batch],
                )

    def delete(self, ids: list[str]) -> None:
        self._has_vectors = False
        with self._gate.shared():
            for start in range(0, len(ids), 1000):
                self._collection.delete(ids=ids[start:start + 1000])

    def ids(self) -> set[str]:
        return {chunk_id for page in self._pages(include=[]) for chunk_id in page["ids"]}

    def _written_at(self) -> dict[str, int]:
        return {chunk_id: int((metadata or {}).get("written_at") or 0)
                for page in self._pages(include=["metadatas"])
                for chunk_id, metadata in zip(
                    page["ids"], page["metadatas"] or [None] * len(page["ids"]), strict=True)}

    def _pages(self, include: list[str]) -> Iterator[Any]:
        """The whole collection, 5000 vectors a page."""
        offset = 0
        with self._gate.shared():
            while True:
                page = self._collection.get(include=include, limit=5000, offset=offset)
                yield page
                if len(page["ids"]) < 5000:
                    return
                offset += 5000

    def orphans(self, referenced: set[str], written_before: float) -> list[str]:
        """Vectors no chunk references that were written before `written_before`: younger
        ones may belong to a write another worker has not committed yet."""
        return sorted(chunk_id for chunk_id, written_at in self._written_at().items()
                      if chunk_id not in referenced and written_at < written_before)

    def count(self) -> int:
        with self._gate.shared():
            return int(self._collection.count())

    def query(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first."""
        with self._gate.shared():
            # Counting costs 34 ms a query at 260 000 vectors: once the collection has held
            # vectors, count again only after a delete or a reopen (which may empty it).
            if not self._has_vectors:
                if self._collection.count() == 0:
                    return []
                self._has_vectors = True
            result = self._collection.query(query_embeddings=[vector], n_results=k,
                                            where=_where(filters), include=["distances"])
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        return [(chunk_id, 1.0 - float(distance))
                for chunk_id, distance in zip(ids, distances, strict=True)]


class _SwapGate:
    """Many concurrent users of the collection, or one swap of it, never both."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._users = 0
        self._swapping = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._swapping)
            self._users += 1
        try:
            yield
        finally:
            with self._condition:
                self._users -= 1
                self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._swapping)
            self._swapping = True  # new users wait from here, so the swap is not starved
            self._condition.wait_for(lambda: self._users == 0)
        try:
            yield
        finally:
            with self._condition:
                self._swapping = False
                self._condition.notify_all()


def _metadata(chunk: Chunk, written_at: int) -> dict[str, str | int]:
    return {"document": chunk.document, "region": chunk.region, "doc_type": chunk.doc_type,
            "section": chunk.section, "page": chunk.page or 0, "written_at": written_at}


def _where(filters: Filters) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = [
        {field: value} for field, value in (("region", filters.region),
                                            ("doc_type", filters.doc_type),
                                            ("document", filters.document)) if value]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
