"""Follow-up questions: rewritten from the conversation, or asked back; over real HTTP too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web_fixtures import (
    SMALL_DOC_QUESTION,
    ingest_small_doc,
    make_service,
    running_server,
)

from rag.answer.followup import Turn, is_follow_up, resolve
from rag.store.embeddings import Embedder

BMM = "Hur mycket läkartid ska BMM ha?"


@pytest.mark.parametrize(("previous", "follow_up", "expected"), [
    (BMM, "Och för BVC?", "Hur mycket läkartid ska BVC ha?"),
    ("Hur mycket läkartid ska BMM ha i Region Värmland?", "Och i Halland?",
     "Hur mycket läkartid ska BMM ha i Region Halland?"),
    ("Hur stor andel fick medicinsk bedömning i januari 2025?", "Och i februari?",
     "Hur stor andel fick medicinsk bedömning i februari 2025?"),
    ("Vilka mål gällde 2019?", "Och 2020?", "Vilka mål gällde 2020?"),
    ("How many doctor hours does BMM need?", "What about UMM?",
     "How many doctor hours does UMM need?"),
])
def test_a_follow_up_replaces_the_constraint_it_names(previous: str, follow_up: str,
                                                      expected: str) -> None:
    resolved = resolve(follow_up, [Turn(previous, "…")])
    assert resolved.rewritten and not resolved.clarify
    assert resolved.question == expected


def test_follow_ups_chain_through_the_conversation() -> None:
    history = [Turn(BMM, "…"), Turn("Och för BVC?", "…")]
    assert resolve("Och för UMM?", history).question == "Hur mycket läkartid ska UMM ha?"


@pytest.mark.parametrize("follow_up", ["Och för BVC?", "Och då?", "Men varför?"])
def test_a_follow_up_without_history_is_asked_back(follow_up: str) -> None:
    assert resolve(follow_up, None).clarify
    assert resolve(follow_up, []).clarify


def test_a_follow_up_with_nothing_of_its_own_is_asked_back_even_with_history() -> None:
    assert resolve("Och då?", [Turn(BMM, "…")]).clarify


@pytest.mark.parametrize("question", [BMM, "Vilka åldrar omfattas av cellprovtagning?",
                                      "How many hours per week are needed for BVC?"])
def test_a_whole_question_is_left_alone(question: str) -> None:
    assert not is_follow_up(question)
    resolved = resolve(question, [Turn("Något helt annat?", "…")])
    assert resolved.question == question and not resolved.rewritten


def test_a_replacement_by_meaning_uses_the_e5_space(embedder: Embedder) -> None:
    resolved = resolve("Och för sjuksköterskor?",
                       [Turn("Hur många läkare ska finnas på vårdcentralen?", "…")],
                       embedder.embed_query)
    assert resolved.question == "Hur många sjuksköterskor ska finnas på vårdcentralen?"


# --- over HTTP -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("followups")
    service = make_service(root / "data")
    ingest_small_doc(service, root / "docs")
    with running_server(service) as url:
        yield url


def test_http_follow_up_is_answered_as_the_rewritten_question(base: str) -> None:
    history = [{"question": SMALL_DOC_QUESTION, "answer": "3 timmar per vecka"}]
    response = httpx.post(f"{base}/api/ask", json={"question": "Och för UMM?",
                                                   "history": history}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["question"] == "Och för UMM?"
    assert body["interpreted_as"] == SMALL_DOC_QUESTION.replace("BMM", "UMM")


def test_http_follow_up_without_history_is_asked_back(base: str) -> None:
    response = httpx.post(f"{base}/api/ask", json={"question": "Och för UMM?"}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refused"] and body["answer"].startswith("Vad gäller frågan?")
    assert not body["citations"]


def test_http_question_without_history_is_unchanged(base: str) -> None:
    response = httpx.post(f"{base}/api/ask", json={"question": SMALL_DOC_QUESTION}, timeout=60)
    body = response.json()
    assert not body["refused"] and body["interpreted_as"] is None
    assert "3 timmar" in body["answer"]


@pytest.mark.parametrize("history", [
    [{"answer": "no question"}],
    [{"question": "x" * 2001}],
    [{"question": "Hur?"}] * 21,
    "not a list",
])
def test_http_bad_history_is_a_clean_422(base: str, history: object) -> None:
    response = httpx.post(f"{base}/api/ask", json={"question": "Och för UMM?",
                                                   "history": history}, timeout=60)
    assert response.status_code == 422, response.text
    assert "error" in response.json()
