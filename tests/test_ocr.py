"""Scanned pages: a page without a text layer is read with Tesseract (Swedish model), its
citations say "OCR"; without Tesseract the skipped pages are reported, never lost in silence.

The scans are real page images (pdftoppm of a LibreOffice PDF) wrapped in image-only pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from document_fixtures import (
    RUNNING_HEADER,
    page_count,
    pdftotext_page,
    scanned,
    varmland_pdf,
)
from helpers import shared_embedder
from pypdf import PdfReader, PdfWriter

from ingest.manifest import load_manifest
from ingest.readers import ReadError, read_document
from ingest.service import Styrdok
from rag.models import DocumentMeta, Filters, IngestReport
from rag.settings import Settings
from web.render import location

pytestmark = pytest.mark.slow

VARMLAND = "varmland_forfragningsunderlag-vardval-vardcentral-del2"
JOUR_FACT = "Jourcentral ska finnas 8 timmar"
JOUR_QUESTION = "Hur många timmar ska jourcentralen vara öppen på helger?"
BMM_QUESTION = "Hur mycket läkartid ska finnas på BMM?"


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | int]:
    """A mixed PDF (the Värmland PDF with the jour page scanned) and a fully scanned PDF (that
    page and the next, both images)."""
    folder = tmp_path_factory.mktemp("scans")
    pdf = varmland_pdf(folder / "varmland.pdf")
    jour_page = next(number for number in range(1, page_count(pdf) + 1)
                     if JOUR_FACT in pdftotext_page(pdf, number).replace("\n", " "))
    mixed = scanned(pdf, [jour_page], folder / "blandad.pdf")
    excerpt = folder / "utdrag.pdf"
    writer = PdfWriter()
    for page in PdfReader(pdf).pages[jour_page - 1:jour_page + 1]:
        writer.add_page(page)
    with excerpt.open("wb") as handle:
        writer.write(handle)
    full = scanned(excerpt, [1, 2], folder / "skannad.pdf")
    return {"mixed": mixed, "full": full, "jour_page": jour_page, "original": pdf}


@pytest.fixture(scope="module")
def indexed(scans: dict[str, Path | int],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Styrdok, IngestReport]]:
    service = Styrdok(Settings(data_dir=tmp_path_factory.mktemp("ocr-index") / "data"),
                      shared_embedder())
    meta = load_manifest(Path(__file__).resolve().parents[1] / "corpus")[VARMLAND]
    mixed, full = scans["mixed"], scans["full"]
    assert isinstance(mixed, Path) and isinstance(full, Path)
    report = service.ingest([mixed], metadata=meta)
    scanned_meta = DocumentMeta(document="varmland-skannad", title="Jouråtagande (skannad)",
                                region="Region Värmland")
    second = service.ingest([full], metadata=scanned_meta)
    assert report.ok and second.ok, (report.failed, second.failed)
    report.ocr_pages.update(second.ocr_pages)
    yield service, report


def test_the_scans_have_no_text_layer(scans: dict[str, Path | int]) -> None:
    full, mixed, page = scans["full"], scans["mixed"], scans["jour_page"]
    assert isinstance(full, Path) and isinstance(mixed, Path) and isinstance(page, int)
    assert pdftotext_page(full, 1).strip() == "" and pdftotext_page(full, 2).strip() == ""
    assert pdftotext_page(mixed, page).strip() == ""
    assert pdftotext_page(mixed, page + 1).strip() != ""


def test_the_scanned_page_reads_like_its_text_layer_without_header_or_footer(
        scans: dict[str, Path | int], indexed: tuple[Styrdok, IngestReport]) -> None:
    mixed, original, page = scans["mixed"], scans["original"], scans["jour_page"]
    assert isinstance(mixed, Path) and isinstance(original, Path) and isinstance(page, int)
    ocr_text = " ".join(line.text for line in read_document(mixed).lines if line.ocr)
    assert RUNNING_HEADER.split(" – ")[1] not in ocr_text and "Sida" not in ocr_text
    body = pdftotext_page(original, page).replace(RUNNING_HEADER, "")
    words = [word.strip(".,:;()") for word in body.split()
             if len(word) > 3 and not word.endswith("-") and not word.startswith("Sida")]
    found = sum(1 for word in words if word in ocr_text)
    assert found >= 0.95 * len(words), f"{found}/{len(words)} words read"


def test_ingest_reports_the_pages_read_by_ocr(indexed: tuple[Styrdok, IngestReport],
                                              scans: dict[str, Path | int]) -> None:
    _service, report = indexed
    assert report.ocr_pages == {VARMLAND: [scans["jour_page"]], "varmland-skannad": [1, 2]}
    assert report.skipped_pages == {}


def test_a_rule_on_the_scanned_page_of_a_mixed_pdf_is_answered_with_ocr(
        indexed: tuple[Styrdok, IngestReport], scans: dict[str, Path | int]) -> None:
    service, _report = indexed
    answer = service.ask(JOUR_QUESTION, _only(VARMLAND))
    assert not answer.refused and "8 timmar" in answer.answer
    citation = answer.citations[0]
    assert citation.page == scans["jour_page"] and citation.ocr
    assert f"s. {scans['jour_page']}, OCR" in location(citation)


def test_text_pages_of_the_mixed_pdf_are_not_marked_ocr(
        indexed: tuple[Styrdok, IngestReport]) -> None:
    service, _report = indexed
    answer = service.ask(BMM_QUESTION, _only(VARMLAND))
    assert "3 timmar per vecka" in answer.answer
    assert not answer.citations[0].ocr and "OCR" not in location(answer.citations[0])


def test_a_fully_scanned_pdf_is_ingested_and_answers(
        indexed: tuple[Styrdok, IngestReport]) -> None:
    service, _report = indexed
    answer = service.ask(JOUR_QUESTION, _only("varmland-skannad"))
    assert not answer.refused and "8 timmar" in answer.answer and "12 timmar" in answer.answer
    citation = answer.citations[0]
    assert citation.page == 1 and citation.ocr and location(citation).endswith("s. 1, OCR")
    assert citation.section == "1.2.12"  # the heading was read from the image too


def test_without_tesseract_the_skipped_pages_are_reported(
        scans: dict[str, Path | int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYRDOK_TESSERACT", "/nonexistent/tesseract")
    mixed, full, page = scans["mixed"], scans["full"], scans["jour_page"]
    assert isinstance(mixed, Path) and isinstance(full, Path)
    read = read_document(mixed)
    assert read.skipped_pages == [page] and read.ocr_pages == []
    assert any(note.startswith(f"s. {page}: no text layer") and "Tesseract" in note
               for note in read.notes)
    with pytest.raises(ReadError, match=r"no text layer.*OCR"):
        read_document(full)


def test_without_tesseract_ingest_names_the_skipped_page(
        scans: dict[str, Path | int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STYRDOK_TESSERACT", "/nonexistent/tesseract")
    service = Styrdok(Settings(data_dir=tmp_path / "data"), shared_embedder())
    mixed, full, page = scans["mixed"], scans["full"], scans["jour_page"]
    assert isinstance(mixed, Path) and isinstance(full, Path)
    report = service.ingest([mixed, full])
    assert report.added == [mixed.stem]  # the mixed PDF goes in without its scanned page...
    assert report.skipped_pages == {mixed.stem: [page]}  # ...and says which page is missing
    assert any(f"s. {page}: no text layer" in note for note in report.notes)
    assert [Path(failure.path).name for failure in report.failed] == [full.name]
    assert "OCR" in report.failed[0].reason


def _only(document: str) -> Filters:
    return Filters(document=document)
