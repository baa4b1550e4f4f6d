"""The question-answering chain (LangChain runnables): retrieve -> answer -> (generate).

The extractive answer is always built first. With a language model configured, the top passages
go to `rag.generate.llm` as numbered sources; its verified answer replaces the extractive one,
or the extractive one is kept with a notice. With no model the chain is retrieve -> answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableLambda

from rag.answer.extractive import build_answer, citation, preview
from rag.generate.llm import generate_answer, stream_answer
from rag.models import Answer, Citation, Filters, SearchHit
from rag.retrieve.hybrid import HybridSearcher
from rag.settings import Settings
from rag.text.language import Language, detect_language


class ChainInput(TypedDict):
    question: str
    filters: Filters


class _Retrieved(ChainInput):
    language: Language
    hits: list[SearchHit]
    timings_ms: dict[str, float]


class Draft(_Retrieved):
    """What the model needs: the retrieved passages and the extractive answer to fall back to."""

    extractive: Answer


def build_draft_chain(searcher: HybridSearcher,
                      settings: Settings) -> Runnable[ChainInput, Draft]:
    """retrieve -> extractive answer, keeping the hits for the generation step."""

    def retrieve(inputs: ChainInput) -> _Retrieved:
        started = time.perf_counter()
        hits = searcher.search(inputs["question"], max(10, settings.citations_k),
                               inputs["filters"])
        return {**inputs, "language": detect_language(inputs["question"]), "hits": hits,
                "timings_ms": {"retrieve": _ms(started)}}

    years: dict[int, dict[str, int | None]] = {}

    def document_years(generation: int) -> dict[str, int | None]:
        if generation not in years:
            years.clear()
            years[generation] = {info.document: info.year
                                 for info in searcher.store.documents()}
        return years[generation]

    def answer(retrieved: _Retrieved) -> Draft:
        started = time.perf_counter()
        snapshot = searcher.store.snapshot()
        result = build_answer(retrieved["question"], retrieved["language"], retrieved["hits"],
                              snapshot, min_evidence=settings.min_evidence,
                              max_chars=settings.answer_max_chars,
                              citations_k=settings.citations_k,
                              query_vector=searcher.query_vector(
                                  searcher.dense_text(retrieved["question"], snapshot)),
                              sentence_index=searcher.store.sentence_index(snapshot),
                              document_years=document_years(snapshot.generation),
                              embed=searcher.query_vector)
        result.timings_ms = {**retrieved["timings_ms"], "answer": _ms(started)}
        return {**retrieved, "extractive": result}

    return RunnableLambda(retrieve) | RunnableLambda(answer)


def build_chain(searcher: HybridSearcher, settings: Settings,
                model: BaseChatModel | None = None) -> Runnable[ChainInput, Answer]:
    """The whole chain; `model` is the configured chat model (None: built on first use)."""
    draft = build_draft_chain(searcher, settings)
    if settings.llm_provider == "none":
        return draft | RunnableLambda(_extractive)

    def generate(drafted: Draft) -> Answer:
        sources, texts = generation_sources(drafted["hits"], settings.citations_k)
        return generate_answer(drafted["question"], drafted["language"], sources,
                               drafted["extractive"], settings, texts, model=model)

    return draft | RunnableLambda(generate)


def generation_sources(hits: list[SearchHit],
                       k: int) -> tuple[list[Citation], dict[int, str]]:
    """The top `k` passages as numbered sources, and each source's full text."""
    top = hits[:k]
    sources = [citation(n, hit, preview(hit.chunk)) for n, hit in enumerate(top, start=1)]
    return sources, {n: hit.chunk.text for n, hit in enumerate(top, start=1)}


def _extractive(drafted: Draft) -> Answer:
    return drafted["extractive"]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def run(chain: Runnable[ChainInput, Answer], question: str, filters: Filters) -> Answer:
    started = time.perf_counter()
    result: Any = chain.invoke({"question": question, "filters": filters})
    answer: Answer = result
    answer.timings_ms["total"] = _ms(started)
    return answer


def run_stream(draft_chain: Runnable[ChainInput, Draft], settings: Settings,
               model: BaseChatModel | None, question: str,
               filters: Filters) -> Iterator[str | Answer]:
    """Yield the answer's text as the model writes it, then the final `Answer`.

    With no model configured, or when the extractive answer is a refusal, only the final
    `Answer` is yielded (the same one `run` returns).
    """
    started = time.perf_counter()
    result: Any = draft_chain.invoke({"question": question, "filters": filters})
    drafted: Draft = result
    sources, texts = generation_sources(drafted["hits"], settings.citations_k)
    for item in stream_answer(drafted["question"], drafted["language"], sources,
                              drafted["extractive"], settings, texts, model=model):
        if isinstance(item, Answer):
            item.timings_ms["total"] = _ms(started)
        yield item
