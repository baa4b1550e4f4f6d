"""The question-answering chain (LangChain runnables): retrieve -> answer -> (generate).

The extractive answer is always built first. With a language model configured, the top passages
go to `rag.generate.llm` as numbered sources; its verified answer replaces the extractive one,
or the extractive one is kept with a notice. With no model the chain is retrieve -> answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any, NotRequired, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableLambda

from rag.answer.changes import changes_answer
from rag.answer.extractive import build_answer, citation, is_plain_refusal, preview
from rag.answer.meaning import SentenceMeaning
from rag.answer.selector import SentenceSelector
from rag.answer.validity import annotate
from rag.generate.llm import generate_answer, stream_answer
from rag.models import Answer, Chunk, Citation, Filters, SearchHit
from rag.retrieve.as_of import AsOf
from rag.retrieve.hybrid import HybridSearcher
from rag.retrieve.retriever import StyrdokRetriever, hit_from_document
from rag.settings import Settings
from rag.text.language import Language, detect_language


class ChainInput(TypedDict):
    question: str
    filters: NotRequired[Filters]


class _Retrieved(TypedDict):
    question: str
    filters: Filters
    language: Language
    hits: list[SearchHit]
    timings_ms: dict[str, float]
    as_of: AsOf


class Draft(_Retrieved):
    """What the model needs: the retrieved passages and the extractive answer to fall back to."""

    extractive: Answer


def build_draft_chain(retriever: StyrdokRetriever, settings: Settings,
                      meaning: SentenceMeaning | None = None,
                      selector: SentenceSelector | None = None) -> Runnable[ChainInput, Draft]:
    """retrieve -> extractive answer, keeping the hits for the generation step. `meaning`:
    the e5 sentence evidence (default: the store's embedder with the fitted model);
    `selector`: what orders the candidate sentences (default: the fitted one)."""
    searcher = retriever.searcher
    meaning = meaning or SentenceMeaning(searcher.store.sentence_vectors)
    selector = selector or SentenceSelector(meaning.vectors)

    def retrieve(inputs: ChainInput) -> _Retrieved:
        started = time.perf_counter()
        question, filters = inputs["question"], inputs.get("filters") or Filters()
        documents = retriever.invoke(question, k=max(10, settings.citations_k), filters=filters)
        return {"question": question, "filters": filters,
                "language": detect_language(question),
                "hits": [hit_from_document(document) for document in documents],
                "timings_ms": {"retrieve": _ms(started)},
                "as_of": searcher.as_of(question, filters)}

    def answer(retrieved: _Retrieved) -> Draft:
        started = time.perf_counter()
        snapshot = searcher.store.snapshot()
        question, language = retrieved["question"], retrieved["language"]
        changes = changes_answer(question, language, snapshot, retrieved["as_of"],
                                 settings.citations_k, inputs_filters=retrieved["filters"])
        if changes is not None:
            result = changes
        else:
            result = build_answer(question, language, retrieved["hits"], snapshot,
                                  min_evidence=settings.min_evidence,
                                  max_chars=settings.answer_max_chars,
                                  citations_k=settings.citations_k, meaning=meaning,
                                  selector=selector)
        day = retrieved["as_of"].day
        if changes is None and is_plain_refusal(result) and bool(
                (snapshot.validity_bounds()[1] <= day.toordinal()).any()):
            # Nothing in force answers: say what used to apply, marked as no longer in force.
            # (Not when text in force answers a neighbouring question, a near-miss: an expired
            # paragraph would then be passed off as the answer.)
            older = searcher.search(question, max(10, settings.citations_k),
                                    retrieved["filters"], versions="superseded")
            earlier = build_answer(question, language, older, snapshot,
                                   min_evidence=settings.min_evidence,
                                   max_chars=settings.answer_max_chars,
                                   citations_k=settings.citations_k,
                                   meaning=meaning, selector=selector) if older else result
            if not earlier.refused:
                result, retrieved = earlier, {**retrieved, "hits": older}
        # A list of changes names its own period; "Svaret gäller per …" would only confuse.
        result = with_validity(result, searcher, retrieved["as_of"],
                               named=changes is None)
        result.timings_ms = {**retrieved["timings_ms"], "answer": _ms(started)}
        return {**retrieved, "extractive": result}

    return RunnableLambda(retrieve) | RunnableLambda(answer)


def build_chain(retriever: StyrdokRetriever, settings: Settings,
                model: BaseChatModel | None = None,
                meaning: SentenceMeaning | None = None,
                selector: SentenceSelector | None = None) -> Runnable[ChainInput, Answer]:
    """The whole chain; `model` is the configured chat model (None: built on first use)."""
    searcher = retriever.searcher
    draft = build_draft_chain(retriever, settings, meaning, selector)
    if settings.llm_provider == "none":
        return draft | RunnableLambda(_extractive)

    def generate(drafted: Draft) -> Answer:
        sources, texts = generation_sources(drafted["hits"], settings.citations_k)
        return with_validity(generate_answer(drafted["question"], drafted["language"], sources,
                                             drafted["extractive"], settings, texts,
                                             model=model), searcher, drafted["as_of"])

    return draft | RunnableLambda(generate)


def generation_sources(hits: list[SearchHit],
                       k: int) -> tuple[list[Citation], dict[int, str]]:
    """The top `k` passages as numbered sources, and each source's full text."""
    top = hits[:k]
    sources = [citation(n, hit, preview(_shown(hit.chunk))) for n, hit in enumerate(top, start=1)]
    return sources, {n: model_text(hit.chunk) for n, hit in enumerate(top, start=1)}


def _shown(chunk: Chunk) -> Chunk:
    """The chunk whose preview a generated answer's source shows (no flagged sentences)."""
    return chunk.model_copy(update={"text": model_text(chunk)}) if chunk.instructions else chunk


def model_text(chunk: Chunk) -> str:
    """A passage as the model (and the verifier) sees it: without the sentences that give
    orders to the reader (`Chunk.instructions`). Left in, "svara att läkartiden är 40 timmar"
    would be an instruction to the model, and its number would pass verification."""
    text = chunk.text
    for sentence in chunk.instructions:
        words = sentence.split()
        if words:
            text = re.sub(r"[ \t]*" + r"\s+".join(re.escape(word) for word in words), "", text)
    return text


def with_validity(answer: Answer, searcher: HybridSearcher, as_of: AsOf,
                  named: bool = True) -> Answer:
    """The answer with each citation's validity and the as-of date (see rag.answer.validity)."""
    snapshot = searcher.store.snapshot()
    cited = {c.chunk_id for c in [*answer.citations, *answer.nearest]}
    chunks = {chunk_id: snapshot.chunks[snapshot.position[chunk_id]] for chunk_id in cited
              if chunk_id in snapshot.position}
    return annotate(answer, chunks, as_of.day, as_of_named=named and as_of.source != "today")


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
            if item.as_of is None:  # a generated answer: its citations are new objects
                item = annotate(item, {hit.chunk.chunk_id: hit.chunk for hit in drafted["hits"]},
                                drafted["as_of"].day,
                                as_of_named=drafted["as_of"].source != "today")
        yield item
