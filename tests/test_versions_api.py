"""Editions over real HTTP: an owner uploads a new edition with a giltig från, the old one is
kept as superseded, answers follow `as_of`, the changes endpoint shows the changed number, and
removing an edition is explicit. Plus the source card and the CLI faces of the same."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from web_fixtures import API_KEY, make_service, running_server

from cli import app
from ingest.service import Styrdok
from web.render import sources_html

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {API_KEY}"}
TODAY = date(2026, 12, 1)
DOC = "testland_rutin-bmm"
QUESTION = "Hur många timmar läkarinsats per vecka krävs för BMM?"
TEXT = """Rutin för barnmorskemottagning

1.1 Läkarinsats på BMM

Behovet av läkarinsats beräknas till {hours} timmar per vecka för 100 inskrivna gravida
kvinnor.

1.2 Hembesök

Vårdcentralen ska erbjuda hembesök till patienter som inte kan ta sig till mottagningen.
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Styrdok]]:
    service = make_service(tmp_path_factory.mktemp("versions-api") / "data", today=TODAY)
    with running_server(service) as base, httpx.Client(base_url=f"{base}/api",
                                                       timeout=120) as http:
        yield http, service


def upload(http: httpx.Client, hours: int, **form: str) -> httpx.Response:
    return http.post("/documents", headers=AUTH, data=form,
                     files={"file": (f"{DOC}.txt", TEXT.format(hours=hours).encode(),
                                     "text/plain")})


def test_a_new_edition_supersedes_the_old_one_and_answers_follow_as_of(
        served: tuple[httpx.Client, Styrdok]) -> None:
    http, service = served
    assert upload(http, 3).json()["status"] == "added"
    second = upload(http, 4, valid_from="2026-01-01")
    assert second.status_code == 201, second.text
    assert second.json()["stored_as"] == f"{DOC}--2026-01-01.txt"
    editions = http.get(f"/documents/{DOC}/editions").json()
    assert [(e["edition"], e["valid_from"], e["valid_to"], e["superseded_by"])
            for e in editions] == [("", None, "2026-01-01", "2026-01-01"),
                                   ("2026-01-01", "2026-01-01", None, None)]

    today = http.post("/ask", json={"question": QUESTION}).json()
    assert "4 timmar" in today["answer"] and today["as_of"] == "2026-12-01"
    assert {k: today["citations"][0][k] for k in ("edition", "validity", "current")} == {
        "edition": "2026-01-01", "validity": "gäller från 2026-01-01", "current": True}
    earlier = http.post("/ask", json={"question": QUESTION, "as_of": "2025-06-01"}).json()
    assert "3 timmar" in earlier["answer"]
    assert earlier["citations"][0]["validity"] == "upphör 2026-01-01"
    found = http.get("/search", params={"q": "läkarinsats BMM", "as_of": "2025-06-01"}).json()
    assert {hit["edition"] for hit in found["results"]} == {""}

    changes = http.get(f"/documents/{DOC}/changes").json()
    assert [(s["kind"], s["new_section"]) for s in changes["sections"]] == [
        ("changed", "1.1")]
    assert changes["sections"][0]["changes"][0]["words"] == [
        {"old": "3 timmar", "new": "4 timmar"}]
    assert http.get(f"/documents/{DOC}/changes", params={"from": "1999"}).status_code == 404
    assert http.post("/ask", json={"question": QUESTION, "as_of": "2026-13-01"}
                     ).status_code == 422

    removed = http.delete(f"/documents/{DOC}", params={"edition": "2026-01-01"}, headers=AUTH)
    assert removed.json() == {"document": DOC, "removed": True, "edition": "2026-01-01"}
    assert [e.edition for e in service.editions(DOC)] == [""]
    uploads = service.settings.data_dir / "uploads"
    assert not (uploads / f"{DOC}--2026-01-01.txt").exists() and (uploads / f"{DOC}.txt").exists()
    assert "3 timmar" in http.post("/ask", json={"question": QUESTION}).json()["answer"]


def test_the_source_card_states_validity_and_marks_superseded_text(
        served: tuple[httpx.Client, Styrdok]) -> None:
    _, service = served
    answer = service.ask(QUESTION, as_of=date(2025, 6, 1))
    card = sources_html(answer, {})
    assert f'class="sd-validity">{answer.citations[0].validity}</span>' in card
    old = answer.model_copy(update={"citations": [answer.citations[0].model_copy(update={
        "current": False, "validity": "upphörde 2026-01-01"})]})
    assert 'class="sd-validity sd-superseded">upphörde 2026-01-01' in sources_html(old, {})


def test_the_cli_answers_as_of_and_refuses_a_bad_date(
        served: tuple[httpx.Client, Styrdok], monkeypatch: pytest.MonkeyPatch) -> None:
    _, service = served
    monkeypatch.setenv("STYRDOK_DATA_DIR", str(service.settings.data_dir))
    monkeypatch.setenv("STYRDOK_TODAY", TODAY.isoformat())
    runner = CliRunner()
    result = runner.invoke(app, ["ask", QUESTION, "--as-of", "2025-06-01"])
    assert result.exit_code == 0, result.output
    assert "3 timmar" in result.stdout and "[gäller tills vidare]" in result.stdout
    assert "Svaret gäller per 2025-06-01." in result.stdout
    bad = runner.invoke(app, ["ask", QUESTION, "--as-of", "igår"])
    assert bad.exit_code == 2 and "not a date" in bad.output
    assert runner.invoke(app, ["diff", "finns-inte"]).exit_code == 1
    assert "en utgåva" in runner.invoke(app, ["diff", DOC]).stdout


def test_editions_without_a_manifest_entry_keep_working(tmp_path: Path) -> None:
    """A folder without editions in its manifest behaves as before: a changed file replaces
    its only edition."""
    service = make_service(tmp_path / "data", today=TODAY)
    folder = tmp_path / "docs"
    folder.mkdir()
    path = folder / f"{DOC}.txt"
    path.write_text(TEXT.format(hours=3), encoding="utf-8")
    assert service.ingest([folder]).added == [DOC]
    path.write_text(TEXT.format(hours=5), encoding="utf-8")
    assert service.ingest([folder]).updated == [DOC]
    assert [e.edition for e in service.editions(DOC)] == [""]
    assert "5 timmar" in service.ask(QUESTION).answer
