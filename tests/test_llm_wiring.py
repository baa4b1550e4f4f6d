"""The LLM path wired through the service, the API (server-sent events) and the UI.

Tests marked `llm` run llama.cpp's OpenAI-compatible server with the tiny Gemma 3 270M model on a
loopback port (`make test-llm`); where a test needs a particular output, a llama.cpp grammar
forces it, so the verifier decides the outcome, not the model's mood. The unmarked tests need no
model: no LLM configured, a port with nothing listening, a server that accepts and stalls, a
missing setting. Every service reads a real index of a small Swedish document in its own folder.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.language_models import BaseChatModel
from llm_server import MODEL_NAME, free_port, llama_server
from playwright.sync_api import expect, sync_playwright
from pydantic import SecretStr
from web_fixtures import (
    API_KEY,
    SMALL_DOC_QUESTION,
    UNANSWERABLE_QUESTION,
    ingest_small_doc,
    running_server,
    shared_embedder,
)

from evals.cases import load_cases
from evals.report import summary_table
from evals.runner import run_eval
from ingest.service import Styrdok
from rag.generate.llm import NOTICES, chat_model
from rag.generate.verify import verify_answer
from rag.models import Answer
from rag.settings import Settings
from web.api import answer_events
from web.feedback import FeedbackStore
from web.render import markdown_text
from web.ui_actions import ALL, STREAMING_NOTE, Actions

pytestmark = pytest.mark.slow

SUPPORTED = "Behovet av läkarinsats är 3 timmar per vecka för 100 inskrivna gravida kvinnor [1]."
UNSUPPORTED = "Behovet av läkarinsats är 7 timmar per vecka [1]."
BMM_SECTION = "1.2.3"
CHROMIUM = Path("/usr/bin/chromium")
EVAL_CASES = f"""\
- id: bmm
  question: {SMALL_DOC_QUESTION}
  kind: number
  expect:
    facts: ["3 timmar"]
    source: {{document: testland_vardval-bmm, contains: "3 timmar per vecka"}}
- id: parkering
  question: {UNANSWERABLE_QUESTION}
  kind: refuse
  expect: {{}}
"""


# --- Building services -----------------------------------------------------------------------

def llm_settings(data_dir: Path, base_url: str, timeout_s: float = 120.0) -> Settings:
    """A model that writes short answers over two sources, so the tiny model is quick."""
    return Settings(data_dir=data_dir, api_keys=[SecretStr(API_KEY)], llm_provider="openai",
                    llm_base_url=base_url, llm_model=MODEL_NAME, llm_timeout_s=timeout_s,
                    answer_max_chars=200, citations_k=2)


def indexed_service(root: Path, settings: Settings,
                    model: BaseChatModel | None = None) -> Styrdok:
    service = Styrdok(settings, embedder=shared_embedder(), model=model)
    ingest_small_doc(service, root / "docs")
    return service


def forced(settings: Settings, text: str) -> BaseChatModel:
    """The configured model with a llama.cpp grammar that makes it write exactly `text`."""
    return chat_model(settings).model_copy(
        update={"extra_body": {"max_tokens": 100, "grammar": f'root ::= "{text}"'}})


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Styrdok:
    """No language model: the extractive answers every fallback must equal."""
    root = tmp_path_factory.mktemp("plain")
    return indexed_service(root, Settings(data_dir=root / "data",
                                          api_keys=[SecretStr(API_KEY)], answer_max_chars=200,
                                          citations_k=2))


@pytest.fixture(scope="module")
def llama_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("llama_cpp.server", reason="make test-llm installs llama-cpp-python")
    with llama_server(tmp_path_factory.mktemp("llama") / "server.log") as url:
        yield url


def llm_service(tmp_path: Path, base_url: str, text: str | None = None,
                timeout_s: float = 120.0) -> Styrdok:
    settings = llm_settings(tmp_path / "data", base_url, timeout_s)
    return indexed_service(tmp_path, settings, forced(settings, text) if text else None)


# --- Reading server-sent events --------------------------------------------------------------

@dataclass
class Event:
    name: str
    data: Any
    received: float  # time.monotonic() when its last line arrived


def post_stream(base: str, question: str) -> tuple[httpx.Response, list[Event]]:
    events: list[Event] = []
    name, data = "", ""
    with httpx.stream("POST", f"{base}/api/ask", params={"stream": "true"},
                      json={"question": question}, timeout=180) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
            elif not line and name:
                events.append(Event(name, json.loads(data), time.monotonic()))
                name, data = "", ""
    return response, events


def split_events(events: list[Event]) -> tuple[list[str], Answer]:
    *tokens, last = events
    assert [event.name for event in tokens] == ["token"] * len(tokens)
    assert last.name == "answer", last
    return [event.data["text"] for event in tokens], Answer.model_validate(last.data)


def assert_is_extractive(final: Answer, extractive: Answer) -> None:
    assert final.answer == extractive.answer
    assert [c.chunk_id for c in final.citations] == [c.chunk_id for c in extractive.citations]
    assert final.fallback == "extractive" and final.notice


def assert_event_stream(response: httpx.Response) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"


# --- Against the real llama.cpp server -------------------------------------------------------

@pytest.mark.llm
def test_ask_with_the_model_sets_generated_verified_and_fallback_consistently(
        tmp_path: Path, llama_url: str, plain: Styrdok) -> None:
    service = llm_service(tmp_path, llama_url)
    final = service.ask(SMALL_DOC_QUESTION)
    assert {"retrieve", "answer", "first_token", "generate", "total"} <= set(final.timings_ms)
    assert not final.refused and final.citations
    if final.fallback is None:  # the tiny model happened to write a supported, cited answer
        assert final.generated and final.verified and final.notice is None
        texts = {c.n: c.quote for c in final.citations}
        assert verify_answer(final.answer, texts).problems == []
    else:
        assert_is_extractive(final, plain.ask(SMALL_DOC_QUESTION))
        assert final.notice in {notices["sv"] for notices in NOTICES.values()}
        if final.generated and final.notice != NOTICES["unsupported"]["sv"]:
            assert not final.verified


@pytest.mark.llm
def test_a_supported_answer_cites_the_retrieved_passage_it_was_numbered_after(
        tmp_path: Path, llama_url: str) -> None:
    service = llm_service(tmp_path, llama_url, SUPPORTED)
    final = service.ask(SMALL_DOC_QUESTION)
    assert final.answer == SUPPORTED
    assert (final.generated, final.verified, final.fallback, final.notice) == (True, True, None,
                                                                               None)
    # [1] is the top hit, the BMM section: the only one saying 3 hours for 100 pregnant women.
    assert [(c.n, c.section) for c in final.citations] == [(1, BMM_SECTION)]
    assert final.citations[0].document == "testland_vardval-bmm"


@pytest.mark.llm
def test_an_unsupported_number_gives_the_extractive_answer(
        tmp_path: Path, llama_url: str, plain: Styrdok) -> None:
    service = llm_service(tmp_path, llama_url, UNSUPPORTED)
    final = service.ask(SMALL_DOC_QUESTION)
    assert_is_extractive(final, plain.ask(SMALL_DOC_QUESTION))
    assert (final.generated, final.verified) == (True, False)
    assert final.notice == NOTICES["rejected"]["sv"]
    assert "7 timmar" not in final.answer


@pytest.mark.llm
def test_a_refused_question_never_reaches_the_model(tmp_path: Path, llama_url: str,
                                                    plain: Styrdok) -> None:
    items = list(llm_service(tmp_path, llama_url, SUPPORTED).ask_stream(UNANSWERABLE_QUESTION))
    assert len(items) == 1
    final = items[0]
    assert isinstance(final, Answer) and final.refused
    assert (final.generated, final.fallback, final.notice) == (False, None, None)
    assert final.answer == plain.ask(UNANSWERABLE_QUESTION).answer


@pytest.mark.llm
def test_the_api_streams_tokens_then_the_final_answer(tmp_path: Path, llama_url: str,
                                                      plain: Styrdok) -> None:
    with running_server(llm_service(tmp_path, llama_url)) as base:
        response, events = post_stream(base, SMALL_DOC_QUESTION)
    assert_event_stream(response)
    tokens, final = split_events(events)
    streamed = "".join(tokens).strip()
    assert len(tokens) > 3 and streamed
    if final.fallback is None:
        assert final.generated and final.verified and final.answer == streamed
    else:
        assert_is_extractive(final, plain.ask(SMALL_DOC_QUESTION))


@pytest.mark.llm
def test_streamed_text_that_fails_verification_is_replaced_by_the_extractive_answer(
        tmp_path: Path, llama_url: str, plain: Styrdok) -> None:
    with running_server(llm_service(tmp_path, llama_url, UNSUPPORTED)) as base:
        response, events = post_stream(base, SMALL_DOC_QUESTION)
    assert_event_stream(response)
    tokens, final = split_events(events)
    assert "".join(tokens) == UNSUPPORTED  # the wrong number did stream ...
    assert_is_extractive(final, plain.ask(SMALL_DOC_QUESTION))  # ... but is not the answer
    assert final.notice == NOTICES["rejected"]["sv"]
    # Tokens reached the client as the model wrote them, not all at once at the end.
    server_gap = (final.timings_ms["generate"] - final.timings_ms["first_token"]) / 1000
    client_gap = events[-1].received - events[0].received
    assert server_gap > 0.2
    assert client_gap > 0.5 * server_gap


@pytest.mark.llm
def test_the_ui_streams_then_shows_the_verified_answer_or_the_fallback_notice(
        tmp_path: Path, llama_url: str) -> None:
    service = llm_service(tmp_path, llama_url, UNSUPPORTED)
    actions = Actions(service, FeedbackStore(tmp_path / "feedback.sqlite3"))
    *streaming, last = list(actions.ask(SMALL_DOC_QUESTION, None, ALL, ALL))
    assert len(streaming) > 3
    for outputs in streaming:
        chat, stored = outputs[:2]
        assert chat[-1]["role"] == "assistant" and STREAMING_NOTE in chat[-1]["content"]
        assert "sd-card" not in chat[-1]["content"]  # nothing to cite before it is checked
        # nor anything to store or rate: the stored answer is left as it was (no "last")
        assert not isinstance(stored, dict) or "last" not in stored
    assert "7 timmar" in streaming[-1][0][-1]["content"]
    chat, stored = last[:2]
    assert stored["last"]["fallback"] == "extractive"
    message = chat[-1]["content"]
    assert markdown_text(NOTICES["rejected"]["sv"]) in message
    assert "7 timmar" not in message and "3 timmar" in message
    assert STREAMING_NOTE not in message
    assert f'data-section="{BMM_SECTION}"' in message  # the answer's own source cards
    assert [m["role"] for m in chat] == ["user", "assistant"]


@pytest.mark.llm
@pytest.mark.parametrize(("text", "rates"), [
    (SUPPORTED, {"generated_verified_rate": 1.0, "verification_pass_rate": 1.0,
                 "fallback_rate": 0.0}),
    (UNSUPPORTED, {"generated_verified_rate": 0.0, "verification_pass_rate": 0.0,
                   "fallback_rate": 1.0}),
], ids=["verified", "rejected"])
def test_the_eval_reports_verification_and_fallback_rates_in_llm_mode(
        tmp_path: Path, llama_url: str, text: str, rates: dict[str, float]) -> None:
    cases_file = tmp_path / "cases.yaml"
    cases_file.write_text(EVAL_CASES, encoding="utf-8")
    run = run_eval(llm_service(tmp_path, llama_url, text), load_cases(cases_file),
                   progress=False)
    summary = run.summary.model_dump()
    assert {name: summary[name] for name in rates} == rates
    assert run.summary.refusal_accuracy == 1.0  # the refusal never went to the model
    table = summary_table(run)
    assert "LLM: genererade svar som klarade verifieringen" in table
    assert "LLM: extraktivt reservsvar (av besvarade)" in table


@pytest.mark.llm
@pytest.mark.browser
def test_the_chat_in_a_browser_streams_and_ends_with_the_verified_answer(
        tmp_path: Path, llama_url: str) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `apt-get update && apt-get install -y chromium`")
    two_sentences = (f"{SUPPORTED} Vårdcentralen ansvarar för läkarinsatser på "
                     "barnmorskemottagningen [1].")
    with running_server(llm_service(tmp_path, llama_url, two_sentences)) as base, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--headless", "--no-sandbox"])
        page = browser.new_page(locale="sv-SE")
        page.goto(base + "/")
        page.locator("#sd-question textarea").fill(SMALL_DOC_QUESTION)
        page.locator("#sd-ask").click()
        chat = page.locator("#sd-chat")
        expect(chat).to_contain_text(STREAMING_NOTE, timeout=60_000)
        expect(chat).not_to_contain_text(STREAMING_NOTE, timeout=60_000)
        expect(chat).to_contain_text("Vårdcentralen ansvarar för läkarinsatser")
        expect(chat).to_contain_text("3 timmar per vecka för 100 inskrivna")
        card = page.locator("#sd-chat .bot-row").last.locator("details.sd-card").filter(
            has_text=f"avsnitt {BMM_SECTION} ")
        expect(card).to_have_count(1)
        expect(page.get_by_role("button", name="👍 Bra svar")).to_be_visible()
        browser.close()


# --- No model needed -------------------------------------------------------------------------

def test_without_a_model_the_stream_is_one_answer_event(plain: Styrdok) -> None:
    with running_server(plain) as base:
        response, events = post_stream(base, SMALL_DOC_QUESTION)
        refused_response, refused_events = post_stream(base, UNANSWERABLE_QUESTION)
        direct = httpx.post(f"{base}/api/ask", json={"question": SMALL_DOC_QUESTION},
                            timeout=120)
        spec = httpx.get(f"{base}/api/openapi.json", timeout=30).json()
    for each in (response, refused_response):
        assert_event_stream(each)
    assert [event.name for event in events] == ["answer"]
    streamed = Answer.model_validate(events[0].data)
    unstreamed = Answer.model_validate(direct.json())
    assert direct.headers["content-type"].startswith("application/json")
    ignore = {"timings_ms"}
    assert streamed.model_dump(exclude=ignore) == unstreamed.model_dump(exclude=ignore)
    assert "3 timmar per vecka" in streamed.answer
    assert (streamed.generated, streamed.fallback, streamed.notice) == (False, None, None)
    assert [event.name for event in refused_events] == ["answer"]
    assert Answer.model_validate(refused_events[0].data).refused

    operation = spec["paths"]["/ask"]["post"]
    assert {"application/json", "text/event-stream"} <= set(operation["responses"]["200"]
                                                            ["content"])
    stream = next(p for p in operation["parameters"] if p["name"] == "stream")
    assert (stream["in"], stream["schema"]["type"], stream["required"]) == ("query", "boolean",
                                                                            False)
    assert "event: answer" in operation["description"]


def test_the_stream_ends_with_an_error_event_when_answering_fails() -> None:
    def failing() -> Iterator[str | Answer]:
        yield "Behovet är"
        raise RuntimeError("the index vanished")

    events = list(answer_events(failing()))
    assert events[0] == 'event: token\ndata: {"text": "Behovet är"}\n\n'
    name, data = events[1].removesuffix("\n\n").split("\n")
    assert name == "event: error" and len(events) == 2
    error = json.loads(data.removeprefix("data: "))["error"]
    assert error["code"] == "internal_error" and "vanished" not in error["message"]


def test_a_stopped_server_gives_the_extractive_answer_with_a_notice_through_the_api(
        tmp_path: Path, plain: Styrdok) -> None:
    # A refused connection is "unreachable" at once; a 60 s setting shows it is not waited out.
    service = llm_service(tmp_path, f"http://127.0.0.1:{free_port()}/v1", timeout_s=60.0)
    with running_server(service) as base:
        direct = httpx.post(f"{base}/api/ask", json={"question": SMALL_DOC_QUESTION},
                            timeout=120)
        response, events = post_stream(base, SMALL_DOC_QUESTION)
    assert direct.status_code == 200
    expected = plain.ask(SMALL_DOC_QUESTION)
    for final in (Answer.model_validate(direct.json()), split_events(events)[1]):
        assert_is_extractive(final, expected)
        assert (final.generated, final.verified) == (False, True)
        assert final.notice == NOTICES["unreachable"]["sv"]
    assert_event_stream(response)
    assert [event.name for event in events] == ["answer"]


def test_a_server_that_accepts_and_stalls_is_cut_off_at_the_timeout(tmp_path: Path,
                                                                     plain: Styrdok) -> None:
    timeout_s = 2.0
    with socket.socket() as stalled:
        stalled.bind(("127.0.0.1", 0))
        stalled.listen()  # the kernel accepts connections; nobody ever answers
        url = f"http://127.0.0.1:{stalled.getsockname()[1]}/v1"
        with running_server(llm_service(tmp_path, url, timeout_s=timeout_s)) as base:
            started = time.monotonic()
            response, events = post_stream(base, SMALL_DOC_QUESTION)
            elapsed = time.monotonic() - started
    assert_event_stream(response)
    tokens, final = split_events(events)
    assert tokens == []
    assert_is_extractive(final, plain.ask(SMALL_DOC_QUESTION))
    assert final.notice == NOTICES["timeout"]["sv"]
    assert timeout_s * 0.95 < elapsed < timeout_s * 5


def test_unusable_model_settings_do_not_stop_the_service(tmp_path: Path,
                                                         plain: Styrdok) -> None:
    settings = llm_settings(tmp_path / "data", "http://127.0.0.1:9/v1").model_copy(
        update={"llm_model": None})
    service = indexed_service(tmp_path, settings)
    assert service.model is None
    final = service.ask(SMALL_DOC_QUESTION)
    assert_is_extractive(final, plain.ask(SMALL_DOC_QUESTION))
    assert final.notice == NOTICES["misconfigured"]["sv"]


def test_the_ui_without_a_model_shows_the_answer_in_one_step(tmp_path: Path,
                                                            plain: Styrdok) -> None:
    actions = Actions(plain, FeedbackStore(tmp_path / "feedback.sqlite3"))
    outputs = list(actions.ask(SMALL_DOC_QUESTION, None, ALL, ALL))
    assert len(outputs) == 1
    chat, stored = outputs[0][:2]
    assert "3 timmar per vecka" in chat[-1]["content"]
    assert STREAMING_NOTE not in chat[-1]["content"]
    assert f'data-section="{BMM_SECTION}"' in chat[-1]["content"]
    assert stored["last"]["fallback"] is None
    assert stored["turns"] == [{"question": SMALL_DOC_QUESTION,
                                "answer": stored["last"]["answer"]}]


def test_the_eval_without_a_model_reports_no_llm_rates(tmp_path: Path, plain: Styrdok) -> None:
    cases_file = tmp_path / "cases.yaml"
    cases_file.write_text(EVAL_CASES, encoding="utf-8")
    run = run_eval(plain, load_cases(cases_file), progress=False)
    assert run.summary.passed == 2
    summary = run.summary
    assert (summary.generated_verified_rate, summary.verification_pass_rate,
            summary.fallback_rate) == (None, None, None)
    assert "LLM:" not in summary_table(run)
