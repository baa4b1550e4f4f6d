"""Readers on real files: PDFs written with fpdf2, a DOCX written with python-docx, text files."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from document_fixtures import table_docx
from fpdf import FPDF
from PIL import Image

from ingest.chunking import chunk_blocks
from ingest.clean import clean_blocks
from ingest.readers import SUPPORTED_SUFFIXES, ReadError, read_lines
from rag.answer.extractive import citation
from rag.models import DocumentMeta, SearchHit
from web.render import location

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
HEADER = "Krav- och kvalitetsbok – REGION TEST"
PAGE_ONE = [
    "1.2.3 Barnmorskemottagning (BMM)",
    "",
    "Vårdcentralen ansvarar för läkarinsatser på barnmorskemottagningen. Behovet av läkarinsats",
    "beräknas till 3 timmar per vecka för 100 inskrivna gravida kvinnor.",
]
PAGE_TWO = [
    "1.2.4 Ungdomsmottagning (UMM)",
    "",
    "Kravet på läkarbemanning är satt till 10 timmar per 3 500 ungdomar i åldern",
    "13–25 år. Öppettiderna ska anpassas efter ungdomarnas behov.",
]
META = DocumentMeta(document="region-test", title="Krav- och kvalitetsbok", region="Region Test")


class SwedishPDF(FPDF):
    """DejaVu where the system has it (covers åäö and –); else the Latin-1 core font."""

    def __init__(self) -> None:
        super().__init__()
        self.body_font = "helvetica"
        if DEJAVU.is_file():
            self.add_font("dejavu", fname=str(DEJAVU))
            self.body_font = "dejavu"

    def fit(self, text: str) -> str:
        """Core fonts are Latin-1: åäö yes, the en dash no."""
        return text if self.body_font != "helvetica" else text.replace("–", "-")

    def write_lines(self, lines: list[str]) -> None:
        self.set_font(self.body_font, size=11)
        for line in lines:
            self.cell(0, 7, self.fit(line), new_x="LMARGIN", new_y="NEXT")


class RunningHeaderPDF(SwedishPDF):
    """A steering document with a running header and an 'n (2)' page counter on every page."""

    def header(self) -> None:
        self.set_font(self.body_font, size=9)
        self.cell(0, 8, self.fit(HEADER), new_x="LMARGIN", new_y="NEXT")

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(self.body_font, size=9)
        self.cell(0, 8, f"{self.page_no()} (2)", align="C")


def two_page_pdf(path: Path) -> Path:
    pdf = RunningHeaderPDF()
    pdf.add_page()
    pdf.write_lines(PAGE_ONE)
    pdf.add_page()
    pdf.write_lines(PAGE_TWO)
    pdf.output(str(path))
    return path


def one_page_pdf(path: Path, text: str = "Vårdcentralen ska ha öppet 45 timmar per vecka.",
                 owner_password: str | None = None, user_password: str | None = None) -> Path:
    pdf = SwedishPDF()
    pdf.add_page()
    pdf.write_lines([text])
    if owner_password:
        pdf.set_encryption(owner_password=owner_password, user_password=user_password)
    pdf.output(str(path))
    return path


# --- PDF ----------------------------------------------------------------------------------


def test_pdf_lines_keep_their_page_numbers_and_swedish_characters(tmp_path: Path) -> None:
    lines = read_lines(two_page_pdf(tmp_path / "krav.pdf"))
    pages = {line.text.strip(): line.page for line in lines if line.text.strip()}

    assert pages["1.2.3 Barnmorskemottagning (BMM)"] == 1
    assert pages["1.2.4 Ungdomsmottagning (UMM)"] == 2
    assert pages["beräknas till 3 timmar per vecka för 100 inskrivna gravida kvinnor."] == 1
    assert pages["13–25 år. Öppettiderna ska anpassas efter ungdomarnas behov."] == 2
    assert {line.page for line in lines} == {1, 2}
    # Line numbers run on across pages and offsets point at each line's text.
    assert [line.lineno for line in lines] == list(range(1, len(lines) + 1))
    extracted = "\n".join(line.text for line in lines)
    for line in lines:
        assert extracted[line.offset:line.offset + len(line.text)] == line.text


def test_pdf_cleaning_drops_running_header_and_page_counters(tmp_path: Path) -> None:
    blocks = clean_blocks(read_lines(two_page_pdf(tmp_path / "krav.pdf")))
    text = "\n".join(block.text for block in blocks)

    assert "kvalitetsbok" not in text
    assert "REGION TEST" not in text
    assert "(2)" not in text
    # The sentence broken over two lines is one paragraph again.
    assert ("Behovet av läkarinsats beräknas till 3 timmar per vecka för 100 inskrivna "
            "gravida kvinnor.") in text


def test_pdf_chunks_carry_section_heading_and_page(tmp_path: Path) -> None:
    chunks = chunk_blocks(clean_blocks(read_lines(two_page_pdf(tmp_path / "krav.pdf"))), META,
                          900)

    bmm = next(chunk for chunk in chunks if "3 timmar per vecka" in chunk.text)
    umm = next(chunk for chunk in chunks if "3 500 ungdomar" in chunk.text)
    assert (bmm.section, bmm.heading, bmm.page) == ("1.2.3", "Barnmorskemottagning (BMM)", 1)
    assert (umm.section, umm.heading, umm.page) == ("1.2.4", "Ungdomsmottagning (UMM)", 2)
    assert "ungdomar" not in bmm.text  # the chunk does not straddle the two sections
    for chunk in chunks:
        assert "kvalitetsbok" not in chunk.text
        assert chunk.document == "region-test" and chunk.region == "Region Test"


def test_truncated_pdf_is_reported_corrupt(tmp_path: Path) -> None:
    whole = one_page_pdf(tmp_path / "whole.pdf").read_bytes()
    truncated = tmp_path / "trasig.pdf"
    truncated.write_bytes(whole[: len(whole) // 3])

    with pytest.raises(ReadError, match="corrupt"):
        read_lines(truncated)


def test_password_protected_pdf_is_reported_encrypted(tmp_path: Path) -> None:
    path = one_page_pdf(tmp_path / "hemlig.pdf", owner_password="ägare", user_password="secret")
    assert b"/Encrypt" in path.read_bytes()

    with pytest.raises(ReadError, match="encrypted") as raised:
        read_lines(path)
    assert "\n" not in str(raised.value)


def test_owner_only_encrypted_pdf_still_reads(tmp_path: Path) -> None:
    """A PDF with only an owner password (printing/copy restrictions) opens without one."""
    path = one_page_pdf(tmp_path / "begransad.pdf", owner_password="ägare")

    lines = read_lines(path)
    assert any("45 timmar per vecka" in line.text for line in lines)


def test_blank_image_only_pdf_is_read_by_ocr_and_reported_empty(tmp_path: Path) -> None:
    picture = tmp_path / "skanning.png"
    Image.new("RGB", (400, 200), "white").save(picture)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(picture), x=10, y=10, w=150)
    path = tmp_path / "skannad.pdf"
    pdf.output(str(path))

    with pytest.raises(ReadError, match="OCR"):
        read_lines(path)


# --- DOCX, text and unknown types ------------------------------------------------------------


def test_docx_heading_and_list_become_heading_and_items(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Hembesök", level=1)
    document.add_paragraph("Vårdcentralen ska erbjuda hembesök till:")
    document.add_paragraph("patienter som inte kan ta sig till mottagningen", style="List Bullet")
    document.add_paragraph("patienter i särskilt boende", style="List Bullet")
    path = tmp_path / "rutin.docx"
    document.save(str(path))

    lines = read_lines(path)
    texts = [line.text for line in lines if line.text.strip()]
    assert texts[0] == "Hembesök" and lines[0].heading_level == 1
    assert "• patienter i särskilt boende" in texts
    assert all(line.page is None for line in lines)

    blocks = clean_blocks(lines)
    assert [block.kind for block in blocks] == ["heading", "para", "item", "item"]
    assert blocks[1].lead_in and blocks[2].heading == "Hembesök"
    chunks = chunk_blocks(blocks, META, 900)
    assert len(chunks) == 1
    assert chunks[0].heading == "Hembesök"
    assert chunks[0].text == ("Vårdcentralen ska erbjuda hembesök till:\n"
                              "• patienter som inte kan ta sig till mottagningen\n"
                              "• patienter i särskilt boende")


def test_latin1_text_decodes(tmp_path: Path) -> None:
    path = tmp_path / "gammal.txt"
    path.write_bytes("Vårdcentralen ska ha öppet måndag–fredag.\nÄldre patienter får förtur.\n"
                     .replace("–", "-").encode("latin-1"))

    texts = [line.text for line in read_lines(path)]
    assert texts[:2] == ["Vårdcentralen ska ha öppet måndag-fredag.",
                         "Äldre patienter får förtur."]


def test_utf8_text_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "ny.md"
    path.write_bytes("\ufeff# Rubrik\r\nÅtgärder för vårdgaranti\r\n".encode())

    assert [line.text for line in read_lines(path)][:2] == ["# Rubrik", "Åtgärder för vårdgaranti"]


@pytest.mark.parametrize("name", ["tabell.xlsx", "bild.png", "README"])
def test_unknown_suffix_is_rejected(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("Vårdcentralen ska ha öppet.", encoding="utf-8")

    with pytest.raises(ReadError, match="unsupported") as raised:
        read_lines(path)
    assert all(suffix in str(raised.value) for suffix in SUPPORTED_SUFFIXES)


def test_binary_data_with_text_suffix_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "inte-text.txt"
    path.write_bytes(bytes(range(256)) * 20)

    with pytest.raises(ReadError, match="binary"):
        read_lines(path)


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "tom.txt"
    path.write_bytes(b"")

    with pytest.raises(ReadError, match="empty"):
        read_lines(path)


def test_docx_word_numbering_gives_sections_and_citations_name_the_paragraph(
        tmp_path: Path) -> None:
    """Headings numbered by Word's own list numbering (numbering.xml, not typed), a table in
    its place between paragraphs, and citations by section and paragraph (stycke)."""
    chunks = chunk_blocks(clean_blocks(read_lines(table_docx(tmp_path / "tabell.docx"))),
                          META, 900)
    sections = [(chunk.section, chunk.heading, chunk.passage) for chunk in chunks]
    assert sections[0] == ("1.1", "Tider", "text")
    assert sections[1:9] == [("1.1", "Tider", "table-row")] * 8  # the table where it stands
    assert sections[9:] == [("1.1", "Tider", "text"), ("1.2", "Undantag", "text"),
                            ("2", "Uppföljning", "text")]
    assert chunks[-1].text.endswith("• 2. antal inskrivna patienter")  # List Number items

    exceptions = chunks[10]
    quote = "Tillfällig nedsättning av läkartiden får pågå högst 3 månader."
    cited = citation(1, SearchHit(chunk=exceptions, score=1.0), quote)
    assert (cited.section, cited.paragraph, cited.lines, cited.page) == ("1.2", 2, "", None)
    assert location(cited) == "avsnitt 1.2 Undantag · stycke 2"
