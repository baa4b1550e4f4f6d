"""Requirement tables, in a LibreOffice PDF (running over a page break) and in a Word file:
each row is a passage of its own with its column headers, the answer quotes the row, and no
row's number answers another row's question."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from document_fixtures import (
    SPLIT_ROW,
    TABLE_HEADER,
    TABLE_QUESTIONS,
    TABLE_ROWS,
    page_count,
    pdftotext_page,
    split_row_pdf,
    table_body,
    table_docx,
    write_pdf,
)
from helpers import shared_embedder

from ingest.readers import read_lines
from ingest.service import Styrdok
from rag.models import DocumentMeta, Filters
from rag.settings import Settings

pytestmark = pytest.mark.slow

DOCUMENTS = {
    "testland_lakarinsatser-pdf": "pdf",
    "testland_lakarinsatser-docx": "docx",
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Styrdok]:
    folder = tmp_path_factory.mktemp("tables")
    files = {"pdf": write_pdf(table_body(), folder / "tabell.pdf"),
             "docx": table_docx(folder / "tabell.docx")}
    service = Styrdok(Settings(data_dir=folder / "data"), shared_embedder())
    for document, kind in DOCUMENTS.items():
        meta = DocumentMeta(document=document, title=f"Läkarinsatser ({kind})",
                            region="Region Testland", doc_type="förfrågningsunderlag")
        report = service.ingest([files[kind]], metadata=meta)
        assert report.ok, report.failed
    yield service


@pytest.mark.parametrize("document", list(DOCUMENTS))
def test_every_row_question_is_answered_from_its_own_row(service: Styrdok,
                                                         document: str) -> None:
    right = 0
    problems: list[str] = []
    for question, index in TABLE_QUESTIONS:
        row = TABLE_ROWS[index]
        answer = service.ask(question, Filters(document=document))
        others = [other.time for other in TABLE_ROWS if other is not row]
        borrowed = [time for time in others if time in answer.answer]
        quoted_row = bool(answer.citations) and row.area in answer.citations[0].quote
        if not answer.refused and row.time in answer.answer and quoted_row and not borrowed:
            right += 1
        else:
            problems.append(f"{question} -> {answer.answer[:160]!r}")
        assert not borrowed, f"{question}: another row's number {borrowed} in {answer.answer}"
    print(f"\n{document}: {right}/{len(TABLE_QUESTIONS)} row questions right")
    assert right == len(TABLE_QUESTIONS), problems


@pytest.mark.parametrize("document", list(DOCUMENTS))
def test_the_answer_quotes_the_whole_row_with_its_headers(service: Styrdok,
                                                          document: str) -> None:
    answer = service.ask("Hur mycket läkartid ska ungdomsmottagningen ha?",
                         Filters(document=document))
    assert answer.citations[0].quote == ("Område: Ungdomsmottagning (UMM) · Krav: "
                                         "Läkarbemanning på mottagningen · Tid: 10 timmar per "
                                         "3 500 ungdomar")
    citation = answer.citations[0]
    if document.endswith("pdf"):
        assert citation.page == 1 and citation.section == "1"
    else:
        assert citation.section == "1.1" and citation.heading == "Tider"
        assert citation.paragraph == 3 and citation.lines == ""


def test_the_pdf_row_after_the_page_break_keeps_its_header_and_page(service: Styrdok) -> None:
    answer = service.ask("Inom hur lång tid ska ett akut läkarbesök i hemmet ske?",
                         Filters(document="testland_lakarinsatser-pdf"))
    citation = answer.citations[0]
    assert citation.quote.startswith("Område: Hembesök · Krav: ")
    assert citation.page == 2


def test_a_row_cut_by_a_page_break_is_one_passage(tmp_path: Path) -> None:
    pdf = split_row_pdf(tmp_path / "delad.pdf")
    assert page_count(pdf) == 2
    assert SPLIT_ROW[0] in pdftotext_page(pdf, 1) and "kommunerna i länet" in \
        pdftotext_page(pdf, 2)  # the row really is cut by the break
    rows = [line for line in read_lines(pdf) if line.role == "row"]
    assert len(rows) == 3
    assert rows[-1].text == " · ".join(f"{name}: {cell}"
                                       for name, cell in zip(TABLE_HEADER, SPLIT_ROW,
                                                             strict=True))
    assert rows[-1].page == 1
