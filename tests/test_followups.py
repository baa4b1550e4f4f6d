"""Follow-up questions: rewritten from the conversation, or asked back; over real HTTP and
through the CLI too (the browser: `test_followups_browser.py`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from web_fixtures import (
    API_KEY,
    SMALL_DOC_QUESTION,
    UNANSWERABLE_QUESTION,
    ingest_small_doc,
    make_service,
    running_server,
)

from cli import app as cli_app
from ingest.service import Styrdok
from prompts import load_prompt
from rag.answer.followup import Turn, is_follow_up, resolve
from rag.store.embeddings import Embedder
from web.feedback import FeedbackStore
from web.ui_actions import ALL, Actions

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
    # typed carelessly: an abbreviation in lower case still stands in for the abbreviation
    (BMM, "och for bvc?", "Hur mycket läkartid ska bvc ha?"),
    # a constraint the previous question lacked is added, not swapped for its topic word
    (BMM, "Och i Halland?", "Hur mycket läkartid ska BMM ha i Halland?"),
    (BMM, "Och 2020?", "Hur mycket läkartid ska BMM ha 2020?"),
    (BMM, "Gäller det BVC också?", "Hur mycket läkartid ska BVC ha?"),
    (BMM, "Samma för BVC?", "Hur mycket läkartid ska BVC ha?"),
    (BMM, "Samma sak för UMM?", "Hur mycket läkartid ska UMM ha?"),
    ("How many doctor hours does BMM need?", "The same for BVC?",
     "How many doctor hours does BVC need?"),
    # a unit spelled out stands in for the unit's abbreviation, not for the topic word
    (BMM, "Och för barnhälsovården?", "Hur mycket läkartid ska barnhälsovården ha?"),
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
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Styrdok]]:
    root: Path = tmp_path_factory.mktemp("followups")
    service = make_service(root / "data")
    ingest_small_doc(service, root / "docs")
    with running_server(service) as url:
        yield url, service


@pytest.fixture(scope="module")
def base(served: tuple[str, Styrdok]) -> str:
    return served[0]


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
    assert body["refused"] and body["clarify"]
    assert body["answer"] == load_prompt("clarify_sv")
    assert not body["citations"] and not body["nearest"]


@pytest.mark.parametrize("follow_up", ["Och för BVC?", "Och i Halland?", "Och 2020?",
                                       "What about UMM?"])
def test_http_a_first_message_that_is_only_a_follow_up_is_asked_back(base: str,
                                                                      follow_up: str) -> None:
    """No topic of its own and no history: a question back, never a guess from the index
    (the small document would happily answer "UMM" or "BVC" with something)."""
    for history in (None, []):
        body = httpx.post(f"{base}/api/ask", json={"question": follow_up, "history": history},
                          timeout=60).json()
        assert body["clarify"] and body["refused"], body
        assert not body["citations"] and not body["nearest"] and body["interpreted_as"] is None
        assert body["answer"] == load_prompt(f"clarify_{body['language']}")


def test_http_a_follow_up_is_streamed_as_the_rewritten_question(base: str) -> None:
    history = [{"question": SMALL_DOC_QUESTION, "answer": "3 timmar per vecka"}]
    with httpx.stream("POST", f"{base}/api/ask", params={"stream": "true"}, timeout=60,
                      json={"question": "Och för UMM?", "history": history}) as response:
        assert response.status_code == 200
        lines = list(response.iter_lines())
    answer = json.loads(next(line for index, line in enumerate(lines) if index
                             and lines[index - 1] == "event: answer")[len("data: "):])
    assert answer["interpreted_as"] == SMALL_DOC_QUESTION.replace("BMM", "UMM")
    assert answer["question"] == "Och för UMM?" and not answer["clarify"]


def test_http_a_question_asked_back_is_not_logged_as_a_gap(base: str) -> None:
    """The owners' gap list is what the documents could not answer; a question asked back
    says nothing about the documents."""
    marker = f"Och för MVC{uuid.uuid4().hex[:6].upper()}?"
    asked_back = httpx.post(f"{base}/api/ask", json={"question": marker}, timeout=60).json()
    assert asked_back["clarify"]
    httpx.post(f"{base}/api/ask", json={"question": UNANSWERABLE_QUESTION}, timeout=60)
    gaps = httpx.get(f"{base}/api/gaps", headers={"Authorization": f"Bearer {API_KEY}"},
                     timeout=60).json()
    logged = {item["question"] for item in gaps["items"]}
    assert UNANSWERABLE_QUESTION in logged and marker not in logged


# --- the chat's own turns ------------------------------------------------------------------

def test_the_chat_sends_its_stored_turns_and_skips_ones_that_do_not_fit(
        served: tuple[str, Styrdok], tmp_path: Path) -> None:
    """What the browser stores is sent as the history; an old or edited entry is left out
    rather than failing the question. The follow-up is kept as the question it was answered
    as, so later follow-ups and "Sök i alla regioner" read it on its own."""
    actions = Actions(served[1], FeedbackStore(tmp_path / "feedback.sqlite3"))
    conversation = {"messages": [], "last": None, "turns": [
        {"question": "x" * 3000}, {"answer": "ingen fråga"}, "skräp",
        {"question": SMALL_DOC_QUESTION, "answer": "3 timmar per vecka"}]}
    rewritten = SMALL_DOC_QUESTION.replace("BMM", "UMM")

    *_, last = actions.ask("Och för UMM?", conversation, ALL, ALL)

    chat, stored = last[:2]
    assert "Tolkat som:" in chat[-1]["content"] and rewritten in chat[-1]["content"]
    assert stored["last"]["question"] == "Och för UMM?"
    assert stored["last"]["interpreted_as"] == rewritten
    assert stored["turns"][-1]["question"] == rewritten
    assert actions.last_question(stored) == rewritten
    *_, bare = actions.ask("Och för UMM?", None, ALL, ALL)  # a new conversation
    assert bare[1]["last"]["refused"] and "sd-clarify" in bare[0][-1]["content"]
    assert "sd-card" not in bare[0][-1]["content"]


# --- the CLI ---------------------------------------------------------------------------------

def test_cli_jsonl_lines_may_carry_their_own_history(served: tuple[str, Styrdok],
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYRDOK_DATA_DIR", str(served[1].settings.data_dir))
    history = [{"question": SMALL_DOC_QUESTION, "answer": "3 timmar per vecka"}]
    batch = tmp_path / "fragor.jsonl"
    batch.write_text("\n".join([
        json.dumps({"question": "Och för UMM?", "history": history}, ensure_ascii=False),
        "Och för UMM?",  # a plain line: no history, so asked back
        SMALL_DOC_QUESTION,
        '{"question": "Och för UMM?", "history": "not a list"}',
        json.dumps({"question": SMALL_DOC_QUESTION, "filters": {"region": "Region Annan"}}),
    ]) + "\n", encoding="utf-8")

    result = CliRunner().invoke(cli_app, ["ask", "--jsonl", str(batch)])

    assert result.exit_code == 0, result.output
    followed, plain, whole, bad, elsewhere = (json.loads(line)
                                              for line in result.stdout.splitlines())
    assert followed["interpreted_as"] == SMALL_DOC_QUESTION.replace("BMM", "UMM")
    assert followed["question"] == "Och för UMM?" and not followed["clarify"]
    assert plain["clarify"] and plain["refused"]
    assert not whole["refused"] and "3 timmar" in whole["answer"]
    assert "error" in bad and "history" in bad["error"]
    assert elsewhere["refused"] and not elsewhere["citations"]  # the line's own filter


def test_cli_history_file_answers_a_follow_up(served: tuple[str, Styrdok], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYRDOK_DATA_DIR", str(served[1].settings.data_dir))
    conversation = tmp_path / "samtal.json"
    conversation.write_text(json.dumps([{"question": SMALL_DOC_QUESTION,
                                         "answer": "3 timmar"}]), encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["ask", "Och för UMM?", "--history",
                                          str(conversation)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"(Tolkat som: {SMALL_DOC_QUESTION.replace('BMM', 'UMM')})")


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
