"""BM25 over the catalog's analyzed terms (bm25s), persisted per catalog generation."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

import bm25s
import numpy as np

log = logging.getLogger(__name__)


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25 | None, size: int) -> None:
        self._retriever = retriever
        self.size = size
        vocab = retriever.vocab_dict if retriever is not None else {}
        self._vocab: dict[str, int] = dict(vocab)

    @classmethod
    def build(cls, terms: list[list[str]]) -> LexicalIndex:
        if not terms:
            return cls(None, 0)
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        # An empty term list would break the sparse matrix; "" stands for "no terms".
        retriever.index([chunk_terms or [""] for chunk_terms in terms], show_progress=False)
        return cls(retriever, len(terms))

    @classmethod
    def load_or_build(cls, folder: Path, generation: int, terms: list[list[str]]) -> LexicalIndex:
        """Load the saved index of this generation, or build, save it and drop older ones."""
        target = folder / f"g{generation:08d}"
        if target.is_dir():
            try:
                retriever = bm25s.BM25.load(str(target), show_progress=False)
                if int(retriever.scores["num_docs"]) == len(terms):
                    return cls(retriever, len(terms))
            except Exception as error:  # a half-written or foreign index: rebuild it
                log.warning("bm25 index %s unreadable (%s); rebuilding", target, error)
        index = cls.build(terms)
        index._save(folder, target)
        return index

    def _save(self, folder: Path, target: Path) -> None:
        """Save for the other workers; several may build the same generation at once, so
        each writes its own staging folder, the first rename wins, and only older
        generations are deleted. The index in memory serves either way."""
        if self._retriever is None:
            return
        staging = folder / f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._retriever.save(str(staging), show_progress=False)
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)  # an unreadable one (see load)
            staging.rename(target)
        except OSError as error:
            if not target.is_dir():
                log.warning("bm25 index %s not saved (%s)", target, error)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        for old in folder.glob("g*"):
            if old.name < target.name:
                shutil.rmtree(old, ignore_errors=True)

    def scores(self, query_terms: list[str], mask: np.ndarray | None = None) -> np.ndarray:
        known = [term for term in query_terms if term in self._vocab]
        if self._retriever is None or not known:
            return np.zeros(self.size, dtype=np.float32)
        scores = np.asarray(self._retriever.get_scores(known), dtype=np.float32)
        return scores * mask if mask is not None else scores
