"""The `styrdok` command through typer's CliRunner: the JSON contract, exit codes, messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from ingest.service import Styrdok

VARMLAND = "varmland_forfragningsunderlag-vardval-vardcentral-del2"
BMM = "Hur mycket läkartid ska finnas på BMM?"
ANSWER_KEYS = {"question", "answer", "refused", "citations", "timings_ms"}
CITATION_KEYS = {"n", "document", "title", "region", "section", "page", "quote", "chunk_id",
                 "score"}
DOC = """Rutin för hembesök

1.1 Hembesök

Vårdcentralen ska erbjuda hembesök till patienter som inte kan ta sig till mottagningen.
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def on_corpus(corpus_service: Styrdok, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at the session's ingested corpus."""
    data_dir = corpus_service.settings.data_dir
    monkeypatch.setenv("STYRDOK_DATA_DIR", str(data_dir))
    return data_dir


def assert_answer_contract(payload: dict[str, Any]) -> None:
    assert set(payload) >= ANSWER_KEYS
    assert isinstance(payload["question"], str) and isinstance(payload["answer"], str)
    assert isinstance(payload["refused"], bool)
    assert isinstance(payload["citations"], list)
    assert isinstance(payload["timings_ms"], dict)
    assert all(isinstance(value, int | float) for value in payload["timings_ms"].values())
    for citation in payload["citations"]:
        assert set(citation) >= CITATION_KEYS
        assert isinstance(citation["n"], int) and isinstance(citation["score"], float)
        assert citation["page"] is None or isinstance(citation["page"], int)
        assert all(isinstance(citation[key], str) for key in
                   ("document", "title", "region", "section", "quote", "chunk_id"))


# --- on the ingested corpus ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("on_corpus")
def test_ask_json_follows_the_public_contract(runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", BMM, "--json"])

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert_answer_contract(payload)
    assert payload["question"] == BMM
    assert payload["refused"] is False
    assert "3 timmar per vecka för 100 inskrivna gravida kvinnor" in payload["answer"]
    assert (payload["citations"][0]["document"], payload["citations"][0]["section"]) == (
        VARMLAND, "1.2.3")


@pytest.mark.slow
@pytest.mark.usefixtures("on_corpus")
def test_ask_prints_a_readable_cited_answer(runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", BMM])

    assert result.exit_code == 0, result.output
    assert "3 timmar per vecka för 100 inskrivna gravida kvinnor" in result.stdout
    assert "1.2.3" in result.stdout
    assert "Region Värmland" in result.stdout


@pytest.mark.slow
@pytest.mark.usefixtures("on_corpus")
def test_ask_jsonl_answers_one_object_per_line(runner: CliRunner, tmp_path: Path) -> None:
    questions = [BMM, "Vad kostar ett besök på vårdcentralen?",
                 "Vilka åldrar omfattas av gynekologisk cellprovtagning?"]
    batch = tmp_path / "fragor.txt"
    batch.write_text(f"{questions[0]}\n\n{questions[1]}\n{questions[2]}\n", encoding="utf-8")

    result = runner.invoke(app, ["ask", "--jsonl", str(batch)])

    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().split("\n")
    assert len(lines) == 3  # the blank line is skipped, one object a line
    payloads = [json.loads(line) for line in lines]
    assert [payload["question"] for payload in payloads] == questions
    for payload in payloads:
        assert_answer_contract(payload)
    assert [payload["refused"] for payload in payloads] == [False, True, False]
    assert payloads[1]["nearest"]


@pytest.mark.slow
@pytest.mark.usefixtures("on_corpus")
def test_ask_jsonl_reports_a_bad_question_and_goes_on(runner: CliRunner, tmp_path: Path) -> None:
    batch = tmp_path / "fragor.txt"
    batch.write_text(f"{'x' * 2500}\n{BMM}\n", encoding="utf-8")

    result = runner.invoke(app, ["ask", "--jsonl", str(batch)])

    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.strip().split("\n"))
    assert "error" in first and first["question"].startswith("xxx")
    assert_answer_contract(second)


@pytest.mark.slow
@pytest.mark.usefixtures("on_corpus")
def test_ask_jsonl_reads_standard_input_and_reports_a_broken_json_line(
        runner: CliRunner) -> None:
    lines = f'{{"question": "{BMM}"\n{BMM}\n'  # the first object is not closed

    result = runner.invoke(app, ["ask", "--jsonl", "-"], input=lines)

    assert result.exit_code == 0, result.output
    broken, answered = (json.loads(line) for line in result.stdout.strip().split("\n"))
    assert "invalid JSON line" in broken["error"]  # not asked as if it were a question
    assert_answer_contract(answered)
    assert answered["question"] == BMM


def test_ask_jsonl_with_a_missing_file_exits_2_with_a_message(runner: CliRunner,
                                                              tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "--jsonl", str(tmp_path / "saknas.jsonl")])
    assert result.exit_code == 2
    assert "Frågefilen finns inte" in result.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("on_corpus")
def test_overlong_question_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", "x" * 2500])
    assert result.exit_code == 2
    assert "Ogiltig fråga" in result.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("on_corpus")
def test_docs_lists_the_corpus_documents(runner: CliRunner) -> None:
    result = runner.invoke(app, ["docs"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().split("\n")
    assert len(lines) == 8  # five regional documents, three statutes
    assert {line.split("\t")[0] for line in lines} == {
        path.stem for path in (Path(__file__).parents[1] / "corpus").glob("*.*")
        if path.suffix in {".txt", ".md"}}

    as_json = json.loads(runner.invoke(app, ["docs", "--json"]).stdout)
    assert len(as_json) == 8 and all(doc["chunks"] > 0 for doc in as_json)


@pytest.mark.slow
@pytest.mark.usefixtures("on_corpus")
def test_search_json_returns_ranked_hits(runner: CliRunner) -> None:
    result = runner.invoke(app, ["search", "gynekologisk cellprovtagning", "--json", "--k", "4"])

    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 4
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert hits[0]["chunk"]["section"] == "1.2.13"
    assert {"chunk_id", "document", "section", "text"} <= set(hits[0]["chunk"])


@pytest.mark.slow
@pytest.mark.usefixtures("on_corpus")
def test_search_with_region_filter(runner: CliRunner) -> None:
    result = runner.invoke(app, ["search", "läkare", "--json", "--region", "Region Halland"])

    hits = json.loads(result.stdout)
    assert hits and {hit["chunk"]["region"] for hit in hits} == {"Region Halland"}


# --- on the test's own empty data dir (the autouse fixture) ----------------------------------


@pytest.mark.slow
def test_remove_unknown_document_exits_1(runner: CliRunner) -> None:
    result = runner.invoke(app, ["remove", "unknown-doc"])

    assert result.exit_code == 1
    assert "Okänt dokument: unknown-doc" in result.stderr


@pytest.mark.slow
def test_ingest_docs_remove_round_trip(runner: CliRunner, tmp_path: Path,
                                       isolated_data_dir: Path) -> None:
    good = tmp_path / "testland_hembesok.txt"
    good.write_text(DOC, encoding="utf-8")
    bad = tmp_path / "trasig.pdf"
    bad.write_bytes(b"%PDF-1.7\n1 0 obj <<")

    result = runner.invoke(app, ["ingest", "--quiet", str(good), str(bad)])

    assert result.exit_code == 1  # some file failed
    assert "trasig.pdf" in result.stderr and "corrupt" in result.stderr
    assert "Nya: 1" in result.stdout and "misslyckade: 1" in result.stdout
    assert (isolated_data_dir / "catalog.sqlite3").is_file()  # STYRDOK_DATA_DIR was used
    assert runner.invoke(app, ["docs"]).stdout.startswith("testland_hembesok\t")

    again = runner.invoke(app, ["ingest", "--quiet", str(good)])
    assert again.exit_code == 0 and "oförändrade: 1" in again.stdout

    removed = runner.invoke(app, ["remove", "testland_hembesok"])
    assert removed.exit_code == 0 and "Borttaget: testland_hembesok" in removed.stdout
    assert runner.invoke(app, ["docs"]).stdout == ""
    assert runner.invoke(app, ["remove", "testland_hembesok"]).exit_code == 1
