"""The question-answering chain (LangChain runnables): retrieve -> answer -> (generate)."""

from __future__ import annotations

import time
from typing import Any, TypedDict

from langchain_core.runnables import Runnable, RunnableLambda

from rag.answer import build_answer
from rag.language import Language, detect_language
from rag.models import Answer, Filters, SearchHit
from rag.retrieval import HybridSearcher
from rag.settings import Settings


class ChainInput(TypedDict):
    question: str
    filters: Filters


class _Retrieved(ChainInput):
    language: Language
    hits: list[SearchHit]
    timings_ms: dict[str, float]


def build_chain(searcher: HybridSearcher, settings: Settings) -> Runnable[ChainInput, Answer]:
    def retrieve(inputs: ChainInput) -> _Retrieved:
        started = time.perf_counter()
        hits = searcher.search(inputs["question"], max(10, settings.citations_k),
                               inputs["filters"])
        return {**inputs, "language": detect_language(inputs["question"]), "hits": hits,
                "timings_ms": {"retrieve": _ms(started)}}

    def answer(retrieved: _Retrieved) -> Answer:
        started = time.perf_counter()
        result = build_answer(retrieved["question"], retrieved["language"], retrieved["hits"],
                              searcher.store.snapshot(), min_evidence=settings.min_evidence,
                              max_chars=settings.answer_max_chars,
                              citations_k=settings.citations_k)
        result.timings_ms = {**retrieved["timings_ms"], "answer": _ms(started)}
        return result

    return RunnableLambda(retrieve) | RunnableLambda(answer)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def run(chain: Runnable[ChainInput, Answer], question: str, filters: Filters) -> Answer:
    started = time.perf_counter()
    result: Any = chain.invoke({"question": question, "filters": filters})
    answer: Answer = result
    answer.timings_ms["total"] = _ms(started)
    return answer
