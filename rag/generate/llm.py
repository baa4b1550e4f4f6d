"""Generated answers from the region's own language model, verified before they count.

The model gets the question and the numbered source passages (fenced, as data) and streams an
answer. `rag.generate.verify` then checks it against the sources; an answer that fails, a model
that is down or slow, or output that is empty or runs on gives the extractive answer instead,
with a notice.
Nothing here raises: the worst case is the extractive answer, never an error or a hang.

The whole generation has one deadline, `settings.llm_timeout_s`: the model streams in a worker
thread and the caller waits on a queue with the remaining time, so a server that accepts the
connection and then stalls cannot hold a request longer than the timeout.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import SecretStr

from prompts import load_prompt, render
from rag.generate.verify import verify_answer
from rag.models import Answer, Citation
from rag.settings import Settings

log = logging.getLogger(__name__)

Language = Literal["sv", "en"]
Outcome = Literal["rejected", "unsupported", "cutoff", "empty", "timeout", "unreachable",
                  "failed", "misconfigured"]
MAX_SOURCE_CHARS = 2400
_NO_KEY = "no-key"  # local servers ignore the key, but the OpenAI client insists on one
_FENCE = re.compile(r"~{3,}")
_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
# Exception class names (anywhere in the class hierarchy) from openai, httpx and ollama.
_ERROR_OUTCOMES: tuple[tuple[tuple[str, ...], Outcome], ...] = (
    (("Timeout",), "timeout"),
    (("Authentication", "PermissionDenied", "NotFound"), "misconfigured"),
    (("Connect", "Connection", "Network", "Transport"), "unreachable"),
)

NOTICES: dict[Outcome, dict[Language, str]] = {
    "rejected": {
        "sv": "Det genererade svaret kunde inte verifieras mot källorna; här är de ordagranna "
              "utdragen.",
        "en": "The generated answer could not be verified against the sources; here are the "
              "verbatim excerpts."},
    "unsupported": {
        "sv": "Språkmodellen fann inget svar i källorna; här är de ordagranna utdragen.",
        "en": "The language model found no answer in the sources; here are the verbatim "
              "excerpts."},
    "cutoff": {
        "sv": "Språkmodellens svar blev ofullständigt; här är de ordagranna utdragen.",
        "en": "The language model's answer was incomplete; here are the verbatim excerpts."},
    "empty": {
        "sv": "Språkmodellen gav inget svar; här är de ordagranna utdragen.",
        "en": "The language model gave no answer; here are the verbatim excerpts."},
    "timeout": {
        "sv": "Språkmodellen svarade inte i tid; här är de ordagranna utdragen.",
        "en": "The language model did not answer in time; here are the verbatim excerpts."},
    "unreachable": {
        "sv": "Språkmodellen kunde inte nås; här är de ordagranna utdragen.",
        "en": "The language model could not be reached; here are the verbatim excerpts."},
    "failed": {
        "sv": "Språkmodellen svarade med ett fel; här är de ordagranna utdragen.",
        "en": "The language model returned an error; here are the verbatim excerpts."},
    "misconfigured": {
        "sv": "Språkmodellen är inte rätt konfigurerad; här är de ordagranna utdragen.",
        "en": "The language model is not configured correctly; here are the verbatim excerpts."},
}


class LLMConfigError(ValueError):
    """The settings do not describe a usable language model."""


def chat_model(settings: Settings) -> BaseChatModel:
    """The configured chat model (built once per configuration); no retries, bounded requests.

    Raises `LLMConfigError` when no usable model is configured.
    """
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return _build_model(settings.llm_provider, settings.llm_base_url, settings.llm_model, key,
                        settings.llm_timeout_s, max(64, settings.answer_max_chars // 2))


@lru_cache(maxsize=8)
def _build_model(provider: str, base_url: str | None, model: str | None, api_key: str | None,
                 timeout_s: float, max_tokens: int) -> BaseChatModel:
    if provider != "none" and not model:
        raise LLMConfigError("STYRDOK_LLM_MODEL is not set")
    match provider:
        case "openai":
            from langchain_openai import ChatOpenAI

            # `max_tokens` goes in the body as is: vLLM, llama.cpp and Ollama all read it, while
            # ChatOpenAI's own field is sent as `max_completion_tokens`, which some ignore.
            return ChatOpenAI(model=model or "", base_url=base_url,
                              api_key=SecretStr(api_key or _NO_KEY), timeout=timeout_s,
                              max_retries=0, temperature=0.0, extra_body={"max_tokens": max_tokens})
        case "ollama":
            from langchain_ollama import ChatOllama

            headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
            return ChatOllama(model=model or "", base_url=base_url, temperature=0.0,
                              num_predict=max_tokens,
                              client_kwargs={"timeout": timeout_s, "headers": headers})
        case _:
            raise LLMConfigError("no language model is configured (STYRDOK_LLM_PROVIDER=none)")


def build_messages(question: str, language: Language, sources: list[Citation],
                   source_texts: Mapping[int, str] | None = None) -> list[BaseMessage]:
    blocks = "\n\n".join(f"{_label(source)}\n~~~\n{_fenced(_text(source, source_texts))}\n~~~"
                         for source in sources)
    return [SystemMessage(load_prompt(f"generate_system_{language}")),
            HumanMessage(render("generate_user", question=question.strip(), sources=blocks))]


def verification_sources(sources: list[Citation],
                         source_texts: Mapping[int, str] | None = None) -> dict[int, str]:
    """What each source number showed the model, as the verifier should read it."""
    return {source.n: f"{_label(source)}\n{_text(source, source_texts)}" for source in sources}


def stream_answer(question: str, language: Language, sources: list[Citation],
                  extractive: Answer, settings: Settings,
                  source_texts: Mapping[int, str] | None = None, *,
                  model: BaseChatModel | None = None) -> Iterator[str | Answer]:
    """Yield the answer's text as it arrives, then the final `Answer` (verified or fallback).

    The final `Answer` is the one to show: streamed text that fails verification is replaced.
    With no model configured, a refused extractive answer or no sources, only `extractive` is
    yielded and no model is called.
    """
    if settings.llm_provider == "none" or extractive.refused or not sources:
        yield extractive
        return
    started = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        model = model or chat_model(settings)
    except Exception as error:  # a bad setting must not take the answer down with it
        log.warning("language model not usable: %s", error)
        yield _fallback(extractive, "misconfigured", language, generated=False, timings=timings)
        return
    messages = build_messages(question, language, sources, source_texts)
    stream = _TokenStream(model, messages, settings.llm_timeout_s,
                          max_chars=2 * settings.answer_max_chars)
    shown = ""
    for _ in stream:
        timings.setdefault("first_token", _ms(started))
        visible = _visible(stream.text)
        if visible.startswith(shown) and len(visible) > len(shown):
            yield visible[len(shown):]
            shown = visible
    timings["generate"] = _ms(started)
    yield _final(extractive, stream, sources, source_texts, language, timings)


def generate_answer(question: str, language: Language, sources: list[Citation],
                    extractive: Answer, settings: Settings,
                    source_texts: Mapping[int, str] | None = None, *,
                    model: BaseChatModel | None = None) -> Answer:
    """The verified generated answer, or the extractive one with a notice. Never raises."""
    final = extractive
    for item in stream_answer(question, language, sources, extractive, settings, source_texts,
                              model=model):
        if isinstance(item, Answer):
            final = item
    return final


def _final(extractive: Answer, stream: _TokenStream, sources: list[Citation],
           source_texts: Mapping[int, str] | None, language: Language,
           timings: dict[str, float]) -> Answer:
    text = _visible(stream.text).strip()
    if stream.failure is not None:
        return _fallback(extractive, stream.failure, language, generated=bool(text),
                         timings=timings)
    if not text:
        return _fallback(extractive, "empty", language, generated=False, timings=timings)
    verification = verify_answer(text, verification_sources(sources, source_texts))
    if not verification.ok:
        log.info("generated answer rejected: %s", "; ".join(verification.problems))
        return _fallback(extractive, "rejected", language, generated=True, timings=timings)
    if verification.refusal:
        return _fallback(extractive, "unsupported", language, generated=True, timings=timings,
                         verified=True)
    cited = set(verification.cited)
    return extractive.model_copy(update={
        "answer": text, "refused": False, "citations": [s for s in sources if s.n in cited],
        "nearest": [], "generated": True, "verified": True, "fallback": None, "notice": None,
        "timings_ms": {**extractive.timings_ms, **timings}})


def _fallback(extractive: Answer, outcome: Outcome, language: Language, *, generated: bool,
              timings: dict[str, float], verified: bool | None = None) -> Answer:
    log.info("extractive fallback: %s", outcome)
    return extractive.model_copy(update={
        "generated": generated, "verified": (not generated) if verified is None else verified,
        "fallback": "extractive", "notice": NOTICES[outcome][language],
        "timings_ms": {**extractive.timings_ms, **timings}})


class _TokenStream:
    """Iterate a model's streamed text with one overall deadline; note why it stopped early."""

    def __init__(self, model: BaseChatModel, messages: list[BaseMessage], timeout_s: float,
                 max_chars: int) -> None:
        self.text = ""
        self.failure: Outcome | None = None
        self._error: Outcome = "failed"
        self._deadline = time.monotonic() + timeout_s
        self._max_chars = max_chars
        self._queue: queue.Queue[tuple[str, str]] = queue.Queue()
        self._cancel = threading.Event()
        worker = threading.Thread(target=self._produce, args=(model, messages), daemon=True,
                                  name="styrdok-llm")
        worker.start()

    def __iter__(self) -> Iterator[str]:
        try:
            while True:
                remaining = self._deadline - time.monotonic()
                try:
                    kind, value = self._queue.get(timeout=max(remaining, 0.0))
                except queue.Empty:
                    self.failure = "timeout"
                    return
                if kind == "token":
                    self.text += value
                    yield value
                    if len(self.text) > self._max_chars:
                        self.failure = "cutoff"
                        return
                    continue
                if kind == "error":
                    self.failure = self._error
                elif value == "length":
                    self.failure = "cutoff"
                return
        finally:
            self._cancel.set()

    def _produce(self, model: BaseChatModel, messages: list[BaseMessage]) -> None:
        finish = ""
        try:
            chunks = model.stream(messages)
            try:
                for chunk in chunks:
                    if self._cancel.is_set():
                        return
                    finish = str(chunk.response_metadata.get("finish_reason") or
                                 chunk.response_metadata.get("done_reason") or finish)
                    if chunk.text:
                        self._queue.put(("token", chunk.text))
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()  # ends the HTTP response, so the server can stop generating
        except Exception as error:  # reported to the waiting caller, who falls back
            log.warning("language model failed: %s: %s", type(error).__name__, error)
            self._error = classify_error(error)  # read by the caller after the queue hands over
            self._queue.put(("error", ""))
            return
        self._queue.put(("end", finish))


def classify_error(error: BaseException) -> Outcome:
    names = " ".join(cls.__name__ for cls in type(error).__mro__)
    for markers, outcome in _ERROR_OUTCOMES:
        if any(marker in names for marker in markers):
            return outcome
    return "failed"


def _visible(text: str) -> str:
    """The answer without a reasoning model's <think> block (closed or still open)."""
    visible = _THINKING.sub("", text).lstrip()
    return "" if "<think>".startswith(visible) else visible


def _label(source: Citation) -> str:
    where = " ".join(part for part in (source.section, source.heading) if part)
    details = [source.title, f"avsnitt {where}" if where else "",
               f"s. {source.page}" if source.page else ""]
    return f"[{source.n}] " + ", ".join(part for part in details if part)


def _text(source: Citation, source_texts: Mapping[int, str] | None) -> str:
    text = (source_texts or {}).get(source.n) or source.quote
    return text[:MAX_SOURCE_CHARS]


def _fenced(text: str) -> str:
    """Document text cannot close its fence: runs of ~~~ inside it are shortened."""
    return _FENCE.sub("~~", text)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
