"""Styrdok as one object: what the CLI, the API, the UI and the evals all call."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ingest import pipeline
from rag.chain import build_chain, run
from rag.embeddings import Embedder, build_embedder
from rag.models import Answer, DocumentInfo, DocumentMeta, Filters, IngestReport, SearchHit
from rag.retrieval import HybridSearcher, Mode
from rag.settings import Settings
from rag.store import Store

log = logging.getLogger(__name__)


class Styrdok:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings()
        self.store = Store(self.settings, embedder or build_embedder(self.settings))
        self.searcher = HybridSearcher(self.store, self.settings)
        self.chain = build_chain(self.searcher, self.settings)
        self._write_lock = threading.Lock()  # one ingest/remove at a time per process

    def ask(self, question: str, filters: Filters | None = None) -> Answer:
        question = question.strip()
        if not question:
            raise ValueError("empty question")
        if len(question) > self.settings.max_question_chars:
            raise ValueError(f"question longer than {self.settings.max_question_chars} "
                             "characters")
        return run(self.chain, question, filters or Filters())

    def search(self, query: str, k: int = 10, filters: Filters | None = None,
               mode: Mode = "hybrid") -> list[SearchHit]:
        return self.searcher.search(query, k, filters, mode)

    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def ingest(self, paths: list[Path], progress: bool = False,
               metadata: DocumentMeta | None = None) -> IngestReport:
        with self._write_lock:
            return pipeline.ingest(self.store, paths, progress=progress, metadata=metadata)

    def remove(self, document: str) -> bool:
        with self._write_lock:
            return pipeline.remove(self.store, document)
