"""Compare mode over a real index: the corpus plus a second förfrågningsunderlag for another
region with the same rules and other numbers, so a cell taken from the wrong region shows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from compare_fixtures import (
    BMM_QUESTION,
    OTHER_DOC_ID,
    OTHER_REGION,
    STATUTE_DOC_ID,
    VARMLAND_DOC_ID,
    corpus_and_other_region,
)
from typer.testing import CliRunner
from web_fixtures import running_server

from cli import app as cli_app
from evals.cases import normalize
from evals.compare import CompareCase, load_compare_cases, score_cells, split_of
from ingest.service import Styrdok
from rag.answer.compare import Region, comparison_request, corpus_regions, requirement_phrase
from rag.answer.compare_table import to_csv, to_markdown
from rag.models import NOT_STATED, Answer, Citation, CompareRow, Comparison, Filters

pytestmark = pytest.mark.slow

VARMLAND = "Region Värmland"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Styrdok:
    return corpus_and_other_region(tmp_path_factory.mktemp("compare") / "data",
                                   with_statute=True)


@pytest.fixture(scope="module")
def base_url(service: Styrdok) -> Iterator[str]:
    with running_server(service) as base:
        yield base


def rows_by_region(comparison: Comparison) -> dict[str, CompareRow]:
    return {row.region: row for row in comparison.rows}


def assert_own_region_only(comparison: Comparison) -> None:
    for row in comparison.rows:
        for citation in [*row.citations, *row.nearest]:
            assert citation.region == row.region, (row.region, citation.document)


# --- over the service ---------------------------------------------------------------------


def test_each_region_answers_from_its_own_document(service: Styrdok) -> None:
    comparison = service.compare(BMM_QUESTION)
    rows = rows_by_region(comparison)
    assert set(rows) == {region.name for region in service.regions()}
    assert OTHER_REGION in rows  # found from the document's metadata, not from a list
    assert_own_region_only(comparison)
    varmland, other = rows[VARMLAND], rows[OTHER_REGION]
    assert varmland.stated and other.stated
    assert "3 timmar per vecka" in varmland.quote and "5 timmar" not in varmland.answer
    assert varmland.citations[0].document == VARMLAND_DOC_ID
    assert "5 timmar per vecka" in other.quote and "3 timmar" not in other.answer
    assert other.citations[0].document == OTHER_DOC_ID
    assert varmland.requirement.startswith("3 timmar per vecka för 100")
    assert other.requirement.startswith("5 timmar per vecka för 100")


def test_a_region_without_the_rule_says_so_with_its_nearest_passage(service: Styrdok) -> None:
    comparison = service.compare("Hur stort vite kan regionen som högst ta ut per brist?",
                                 [OTHER_REGION, "jamtland"])
    other, jamtland = comparison.rows
    assert [other.region, jamtland.region] == [OTHER_REGION, "Region Jämtland Härjedalen"]
    assert not other.stated and other.answer == NOT_STATED and not other.citations
    assert other.nearest and other.nearest[0].document == OTHER_DOC_ID
    assert jamtland.stated and "50 000 kr/brist" in jamtland.quote
    assert jamtland.requirement == "upptill högst 50 000 kr/brist"


def test_every_requirement_is_cut_from_its_quote(service: Styrdok) -> None:
    questions = [BMM_QUESTION, "Hur mycket läkartid ska avsättas för boende på SÄBO i "
                 "alla regioner?", "Vilka åldrar erbjuds gynekologisk cellprovtagning i "
                 "regionerna?", "Vilka tider ska vårdcentralen vara tillgänglig per telefon "
                 "i de olika regionerna?"]
    stated = 0
    for question in questions:
        comparison = service.compare(question)
        assert_own_region_only(comparison)
        for row in comparison.rows:
            if row.stated:
                stated += 1
                assert normalize(row.requirement) in normalize(row.quote), row
                assert row.quote in {citation.quote for citation in row.citations}
    assert stated >= 5
    other = rows_by_region(service.compare(questions[1]))[OTHER_REGION]
    assert other.requirement.startswith("minst 2 timmar för 10 boende")


def test_a_question_naming_two_regions_is_routed_by_ask(service: Styrdok) -> None:
    answer = service.ask("Hur skiljer sig läkartiden på BMM mellan Värmland och Exempelmark?")
    assert answer.comparison is not None
    assert answer.comparison.regions == [VARMLAND, OTHER_REGION]
    assert "Värmland" not in answer.comparison.asked
    assert not answer.refused
    assert "3 timmar" in answer.answer and "5 timmar" in answer.answer
    assert [citation.n for citation in answer.citations] == list(
        range(1, len(answer.citations) + 1))
    assert {citation.region for citation in answer.citations} == {VARMLAND, OTHER_REGION}
    # The same answer through the stream the UI uses.
    streamed = list(service.ask_stream("Hur skiljer sig läkartiden på BMM mellan Värmland "
                                       "och Exempelmark?"))
    assert len(streamed) == 1 and isinstance(streamed[0], Answer)
    assert streamed[0].comparison is not None


def test_plain_questions_and_filtered_ones_are_not_routed(service: Styrdok) -> None:
    assert service.ask("Hur mycket läkartid ska finnas på BMM?").comparison is None
    filtered = service.ask(BMM_QUESTION, Filters(region=VARMLAND))
    assert filtered.comparison is None
    assert {citation.region for citation in filtered.citations} == {VARMLAND}


def test_one_rule_for_each_region_is_not_a_comparison(service: Styrdok) -> None:
    # "ska respektive region senast skicka in …" is the agreement's rule for every region:
    # no region's own documents answer it row by row, so it is answered as asked.
    answer = service.ask("När ska respektive region senast skicka in redovisning till SKL och "
                         "Socialstyrelsen för att ta del av medlen?")
    assert not answer.refused and answer.comparison is None
    assert "15 oktober 2019" in answer.answer
    assert answer.citations[0].document == "halland_god-och-nara-vard-nulagesrapport-2019"
    # A comparison that nothing answers stays a comparison, refused row by row.
    parking = service.ask("Vad kostar parkeringen i alla regioner?")
    assert parking.refused and parking.comparison is not None


def test_compared_with_the_law_adds_the_national_row(service: Styrdok) -> None:
    comparison = service.compare("Inom hur många dagar ska en fast läkarkontakt erbjudas i "
                                 "Värmland jämfört med lagen?")
    assert comparison.regions == [VARMLAND, "Nationell"]
    assert comparison.notice is None
    national = rows_by_region(comparison)["Nationell"]
    assert national.stated and national.citations[0].document == STATUTE_DOC_ID
    assert national.requirement == "senast inom 30 dagar från begäran"
    assert not rows_by_region(comparison)[VARMLAND].stated  # Värmland names no such deadline
    assert_own_region_only(comparison)
    everything = service.compare(BMM_QUESTION)
    assert everything.regions[-1] == "Nationell"  # statutes last, after the regions


def test_unknown_region_is_a_clear_error(service: Styrdok) -> None:
    with pytest.raises(ValueError, match=r"Atlantis.*Region Värmland"):
        service.compare(BMM_QUESTION, ["Atlantis"])
    with pytest.raises(ValueError, match="what to compare"):
        service.compare("Jämför Värmland och Halland")


# --- over HTTP ----------------------------------------------------------------------------


def test_api_compare_json(base_url: str) -> None:
    response = httpx.post(f"{base_url}/api/compare", json={
        "question": BMM_QUESTION, "regions": ["Värmland", "exempelmark"]}, timeout=60)
    assert response.status_code == 200, response.text
    body = Comparison.model_validate(response.json())
    assert body.regions == [VARMLAND, OTHER_REGION]
    assert [row.stated for row in body.rows] == [True, True]
    assert_own_region_only(body)


def test_api_compare_csv_and_markdown(base_url: str) -> None:
    request = {"question": BMM_QUESTION, "regions": [VARMLAND, OTHER_REGION, "Halland"]}
    as_csv = httpx.post(f"{base_url}/api/compare?format=csv", json=request, timeout=60)
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["region"] for row in rows] == [VARMLAND, OTHER_REGION, "Region Halland"]
    assert rows[0]["dokument"] == VARMLAND_DOC_ID and "3 timmar" in rows[0]["citat"]
    assert rows[1]["dokument"] == OTHER_DOC_ID and "5 timmar" in rows[1]["citat"]
    assert rows[2]["anges"] == "nej" and rows[2]["krav"] == NOT_STATED
    assert rows[2]["närmaste avsnitt"].startswith(("God och nära vård", "Återredovisning"))
    as_md = httpx.post(f"{base_url}/api/compare", json=request,
                       headers={"Accept": "text/markdown"}, timeout=60)
    assert as_md.headers["content-type"].startswith("text/markdown")
    table = [line for line in as_md.text.splitlines() if line.startswith("| Region")
             or line.startswith("| Re")]
    assert len(table) == 4  # header and three regions
    assert "3 timmar per vecka" in as_md.text and NOT_STATED in as_md.text


def test_api_compare_bad_input(base_url: str) -> None:
    unknown = httpx.post(f"{base_url}/api/compare",
                         json={"question": BMM_QUESTION, "regions": ["Atlantis"]}, timeout=60)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "invalid_request"
    assert "Atlantis" in unknown.json()["error"]["message"]
    blank = httpx.post(f"{base_url}/api/compare", json={"question": "   "}, timeout=60)
    assert blank.status_code == 422
    extra = httpx.post(f"{base_url}/api/compare", json={"question": "x", "as_of": "2020"},
                       timeout=60)
    assert extra.status_code == 422  # a date is YYYY-MM-DD


def test_every_row_is_answered_as_of_the_date_asked(service: Styrdok,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Filters] = []
    answer_one = service._answer_one

    def recording(question: str, filters: Filters) -> Answer:
        seen.append(filters)
        return answer_one(question, filters)

    monkeypatch.setattr(service, "_answer_one", recording)
    comparison = service.compare(BMM_QUESTION, as_of=date(2025, 6, 1))
    assert len(seen) == len(comparison.rows) >= 2
    assert {filters.as_of for filters in seen} == {date(2025, 6, 1)}
    assert {filters.region for filters in seen} == {row.region for row in comparison.rows}


def test_api_ask_carries_the_table_when_routed(base_url: str) -> None:
    response = httpx.post(f"{base_url}/api/ask", json={
        "question": "Hur skiljer sig läkartiden på BMM mellan Värmland och Exempelmark?"},
        timeout=60)
    assert response.status_code == 200
    answer = Answer.model_validate(response.json())
    assert answer.comparison is not None
    assert [row.region for row in answer.comparison.rows] == [VARMLAND, OTHER_REGION]


def test_cli_compare(service: Styrdok, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYRDOK_DATA_DIR", str(service.settings.data_dir))
    runner = CliRunner()
    result = runner.invoke(cli_app, ["compare", BMM_QUESTION, "--regions",
                                     f"{VARMLAND},Exempelmark"])
    assert result.exit_code == 0, result.output
    assert "| Region Värmland | 3 timmar per vecka för 100" in result.output
    assert "| Region Exempelmark | 5 timmar per vecka för 100" in result.output
    as_json = runner.invoke(cli_app, ["compare", BMM_QUESTION, "--regions", "Atlantis"])
    assert as_json.exit_code == 2 and "Atlantis" in as_json.output
    parsed = runner.invoke(cli_app, ["compare", BMM_QUESTION, "--json", "--regions", "halland"])
    assert json.loads(parsed.output)["rows"][0]["region"] == "Region Halland"
    routed = runner.invoke(cli_app, ["ask", "Hur skiljer sig läkartiden på BMM mellan Värmland "
                                            "och Exempelmark?"])
    assert routed.exit_code == 0
    assert "| Region Exempelmark | 5 timmar per vecka för 100" in routed.output


# --- the pieces, without an index ---------------------------------------------------------


REGIONS = [Region("Region Norrland", False, frozenset({"norrland"})),
           Region("Region Söder", False, frozenset({"soder"})),
           Region("Västra Exempelregionen", False, frozenset({"vastra", "exempelregionen"}),
                  frozenset({"vastra"})),
           Region("Nationell", True, frozenset({"nationell"}))]


@pytest.mark.parametrize(("question", "regions"), [
    ("Vilka krav på läkartid gäller i alla regioner?",
     ["Region Norrland", "Region Söder", "Västra Exempelregionen", "Nationell"]),
    ("Hur skiljer sig läkartiden mellan Söder och Norrland?", ["Region Söder",
                                                               "Region Norrland"]),
    ("vite i norrlands och exempelregionens avtal", ["Region Norrland",
                                                     "Västra Exempelregionen"]),
    ("Läkartid i Norrland jämfört med lagen?", ["Region Norrland", "Nationell"]),
    ("Hur mycket läkartid ska finnas i Norrland?", None),
    ("Vad gäller i västra delen av Norrland?", None),
    ("När skulle regionerna senast skicka in redovisningen?", None),
    ("Vilka nationella riktlinjer gäller i Söder?", None),
    ("Jämför regionerna", None),  # nothing to compare: an ordinary question
    ("How much doctor time is required in Region Norrland?", None),  # one region, in English
    ("How much doctor time is required in all regions?",
     ["Region Norrland", "Region Söder", "Västra Exempelregionen", "Nationell"]),
])
def test_routing_from_region_metadata(question: str, regions: list[str] | None) -> None:
    request = comparison_request(question, REGIONS)
    assert (request.regions if request else None) == regions


def test_regions_come_from_chunk_metadata(service: Styrdok) -> None:
    regions = corpus_regions(service.store.snapshot().chunks)
    names = [region.name for region in regions]
    assert OTHER_REGION in names and VARMLAND in names
    national = [region.name for region in regions if region.national]
    assert national == ["Nationell"] and regions[-1].name == "Nationell"
    assert all("region" not in region.terms for region in regions)


def test_requirement_phrase_never_invents() -> None:
    assert requirement_phrase("Vitet bestäms upptill högst 50 000 kr/brist.") == \
        "upptill högst 50 000 kr/brist"
    assert requirement_phrase("Kvinnor mellan 23 och 64 års ålder erbjuds provtagning.") \
        .startswith("mellan 23 och 64 års ålder")
    assert requirement_phrase("Telefon ska besvaras mellan 08.00 – 17.00. Om stängt …") == \
        "mellan 08.00 – 17.00"
    assert requirement_phrase("Landsting som förbättrar sig med mer än 5 procentenheter får "
                              "dela på 0,1 miljard.") == \
        "mer än 5 procentenheter får dela på 0,1 miljard"
    assert requirement_phrase("Akuttelefon ska finnas under hela öppettiden.") == \
        "Akuttelefon ska finnas under hela öppettiden."
    long_rule = "Vårdgivaren ska medverka i utvecklingen av behandlingsrutiner, kunskapsstöd " \
        "och vårdprogram samt följa de som är beslutade nationellt och i regionen."
    assert requirement_phrase(long_rule) == ""


def _citation(region: str, document: str, quote: str) -> Citation:
    return Citation(n=1, document=document, title="T", region=region, section="1", page=None,
                    quote=quote, chunk_id="c", score=1.0)


def test_scoring_catches_a_number_from_another_region() -> None:
    case = CompareCase.model_validate({
        "id": "t", "fact": "t", "question": "q", "cells": {
            VARMLAND: {"facts": ["3 timmar"], "document": VARMLAND_DOC_ID},
            OTHER_REGION: "not-stated"}})
    borrowed = _citation(OTHER_REGION, OTHER_DOC_ID, "5 timmar per vecka")
    comparison = Comparison(question="q", asked="q", regions=[VARMLAND, OTHER_REGION], rows=[
        CompareRow(region=VARMLAND, stated=True, answer="5 timmar per vecka [1]",
                   quote=borrowed.quote, citations=[borrowed]),
        CompareRow(region=OTHER_REGION, stated=False, answer=NOT_STATED,
                   nearest=[_citation(OTHER_REGION, OTHER_DOC_ID, "…")])])
    varmland, other = score_cells(case, comparison)
    assert not varmland.correct and varmland.wrong_region
    assert other.correct and not other.wrong_region


def test_exports_escape_what_a_spreadsheet_or_markdown_would_run() -> None:
    quote = "=HYPERLINK(\"x\") | *fet*"
    comparison = Comparison(question="q", asked="q", regions=[VARMLAND], rows=[
        CompareRow(region=VARMLAND, stated=True, requirement="-1 timme", answer=quote,
                   quote=quote, citations=[_citation(VARMLAND, VARMLAND_DOC_ID, quote)])])
    row = next(csv.DictReader(io.StringIO(to_csv(comparison))))
    assert row["citat"].startswith("'=") and row["krav"] == "'-1 timme"
    markdown = to_markdown(comparison)
    assert "\\| \\*fet\\*" in markdown and markdown.count("\n| ") == 2


def test_compare_cases_load_and_split_by_fact() -> None:
    cases = load_compare_cases()
    assert len(cases) >= 30
    assert {case.split for case in cases} == {"dev", "test"}
    by_fact: dict[str, set[str]] = {}
    for case in cases:
        by_fact.setdefault(case.fact, set()).add(case.split)
        assert case.split == split_of(case.fact)
    assert all(len(splits) == 1 for splits in by_fact.values())


def test_every_stated_fact_is_in_its_document() -> None:
    corpus = Path(__file__).resolve().parents[1] / "corpus"
    from evals.cases import matches
    from evals.compare import StatedCell

    for case in load_compare_cases():
        for cell in case.cells.values():
            if isinstance(cell, StatedCell) and cell.document:
                text = (corpus / f"{cell.document}.txt").read_text(encoding="utf-8")
                for fact in cell.facts:
                    assert matches(fact, text), (case.id, fact)
