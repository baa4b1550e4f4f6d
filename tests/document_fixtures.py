"""Real documents made at test time by real writers.

LibreOffice (`soffice --headless`) turns a flat ODT written here into PDF: heading styles,
a running header, a "Sida N (M)" footer, automatic Swedish hyphenation and a table with a
repeated header row across a page break. python-docx writes DOCX with Word numbering.
Scanned pages are page images (pdftoppm) wrapped in an image-only PDF (Pillow).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from ingest.clean import clean_blocks
from ingest.readers import read_lines

REPO = Path(__file__).resolve().parents[1]
VARMLAND_TXT = REPO / "corpus" / "varmland_forfragningsunderlag-vardval-vardcentral-del2.txt"
RUNNING_HEADER = "Region Värmland – Förfrågningsunderlag Vårdval vårdcentral, del 2"


@dataclass(frozen=True)
class Row:
    area: str
    requirement: str
    time: str


# The table of row questions: each row's number is its own, so a wrong row shows.
TABLE_HEADER = ("Område", "Krav", "Tid")
TABLE_ROWS = (
    Row("Barnmorskemottagning (BMM)", "Läkarinsats av specialist i allmänmedicin eller "
        "gynekologi", "3 timmar per vecka för 100 inskrivna gravida kvinnor"),
    Row("Barnavårdscentral (BVC)", "Läkarinsats av specialist i allmänmedicin eller pediatrik",
        "4 timmar per vecka för 100 inskrivna barn"),
    Row("Ungdomsmottagning (UMM)", "Läkarbemanning på mottagningen",
        "10 timmar per 3 500 ungdomar"),
    Row("Särskilt boende (SÄBO)", "Planerade läkarbesök hos de boende",
        "1,5 timmar per vecka för 10 boendeplatser"),
    Row("Familjecentral", "Samordnare för familjecentralens verksamhet",
        "20 procent av en heltidstjänst"),
    Row("Jourcentral", "Öppen för besök på helger och helgdagar",
        "7 timmar per dag"),
    Row("Medicinsk fotvård", "Bedömning av fotsjukvårdsbehov vid diabetes",
        "2 besök per patient och år"),
    Row("Hembesök", "Akut läkarbesök i hemmet under dagtid",
        "inom 4 timmar från kontakt"),
)
TABLE_QUESTIONS = (
    ("Hur mycket läkartid ska barnmorskemottagningen ha enligt tabellen?", 0),
    ("Hur många timmar läkarinsats behöver barnavårdscentralen?", 1),
    ("Hur mycket läkartid ska ungdomsmottagningen ha?", 2),
    ("Hur mycket tid ska läkare ha för planerade besök på särskilt boende?", 3),
    ("Hur stor tjänst ska samordnaren på familjecentralen ha?", 4),
    ("Hur många timmar per dag ska jourcentralen vara öppen på helger?", 5),
    ("Hur många besök per år ger medicinsk fotvård en patient med diabetes?", 6),
    ("Inom hur lång tid ska ett akut läkarbesök i hemmet ske?", 7),
)

_STYLES = """
 <office:font-face-decls>
  <style:font-face style:name="DejaVu Sans" svg:font-family="'DejaVu Sans'"/>
 </office:font-face-decls>
 <office:styles>
  <style:default-style style:family="paragraph">
   <style:text-properties style:font-name="DejaVu Sans" fo:font-size="11pt" fo:language="sv"
     fo:country="SE" fo:hyphenate="true" fo:hyphenation-remain-char-count="3"
     fo:hyphenation-push-char-count="3"/>
  </style:default-style>
  <style:style style:name="Standard" style:family="paragraph" style:class="text"/>
  <style:style style:name="Text_20_body" style:display-name="Text body" style:family="paragraph"
    style:parent-style-name="Standard">
   <style:paragraph-properties fo:margin-top="0cm" fo:margin-bottom="0.3cm"
     fo:line-height="120%" fo:text-align="justify"/>
  </style:style>
  <style:style style:name="List_20_Bullet" style:display-name="List Bullet"
    style:family="paragraph" style:parent-style-name="Text_20_body">
   <style:paragraph-properties fo:margin-bottom="0.1cm"/>
  </style:style>
  <style:style style:name="Table_20_Contents" style:display-name="Table Contents"
    style:family="paragraph" style:parent-style-name="Standard">
   <style:text-properties fo:font-size="10pt"/>
  </style:style>
  <style:style style:name="Table_20_Heading" style:display-name="Table Heading"
    style:family="paragraph" style:parent-style-name="Table_20_Contents">
   <style:text-properties fo:font-weight="bold"/>
  </style:style>
  <style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family="paragraph"
    style:parent-style-name="Standard" style:next-style-name="Text_20_body"
    style:default-outline-level="1" style:class="text">
   <style:paragraph-properties fo:margin-top="0.6cm" fo:margin-bottom="0.3cm"
     fo:keep-with-next="always"/>
   <style:text-properties fo:font-size="16pt" fo:font-weight="bold" fo:hyphenate="false"/>
  </style:style>
  <style:style style:name="Heading_20_2" style:display-name="Heading 2" style:family="paragraph"
    style:parent-style-name="Standard" style:next-style-name="Text_20_body"
    style:default-outline-level="2" style:class="text">
   <style:paragraph-properties fo:margin-top="0.5cm" fo:margin-bottom="0.25cm"
     fo:keep-with-next="always"/>
   <style:text-properties fo:font-size="14pt" fo:font-weight="bold" fo:hyphenate="false"/>
  </style:style>
  <style:style style:name="Heading_20_3" style:display-name="Heading 3" style:family="paragraph"
    style:parent-style-name="Standard" style:next-style-name="Text_20_body"
    style:default-outline-level="3" style:class="text">
   <style:paragraph-properties fo:margin-top="0.4cm" fo:margin-bottom="0.2cm"
     fo:keep-with-next="always"/>
   <style:text-properties fo:font-size="12.5pt" fo:font-weight="bold" fo:hyphenate="false"/>
  </style:style>
  <style:style style:name="Header" style:family="paragraph" style:parent-style-name="Standard">
   <style:text-properties fo:font-size="9pt" fo:hyphenate="false"/>
  </style:style>
  <style:style style:name="Footer" style:family="paragraph" style:parent-style-name="Standard">
   <style:paragraph-properties fo:text-align="center"/>
   <style:text-properties fo:font-size="9pt"/>
  </style:style>
  <text:list-style style:name="Bullets">
   <text:list-level-style-bullet text:level="1" text:bullet-char="•">
    <style:list-level-properties text:list-level-position-and-space-mode="label-alignment">
     <style:list-level-label-alignment text:label-followed-by="listtab"
       text:list-tab-stop-position="0.7cm" fo:text-indent="-0.5cm" fo:margin-left="0.7cm"/>
    </style:list-level-properties>
   </text:list-level-style-bullet>
  </text:list-style>
 </office:styles>
 <office:automatic-styles>
  <style:page-layout style:name="pm1">
   <style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm"
     fo:margin-top="1.5cm" fo:margin-bottom="1.5cm" fo:margin-left="2.5cm"
     fo:margin-right="2.5cm"/>
   <style:header-style><style:header-footer-properties fo:min-height="0.6cm"
     fo:margin-bottom="0.5cm"/></style:header-style>
   <style:footer-style><style:header-footer-properties fo:min-height="0.6cm"
     fo:margin-top="0.5cm"/></style:footer-style>
  </style:page-layout>
  <style:style style:name="Krav" style:family="table">
   <style:table-properties style:width="16cm" table:align="margins"
     style:may-break-between-rows="true"/>
  </style:style>
  <style:style style:name="Krav.A" style:family="table-column">
   <style:table-column-properties style:column-width="4.5cm"/></style:style>
  <style:style style:name="Krav.B" style:family="table-column">
   <style:table-column-properties style:column-width="6.5cm"/></style:style>
  <style:style style:name="Krav.C" style:family="table-column">
   <style:table-column-properties style:column-width="5cm"/></style:style>
  <style:style style:name="Krav.row" style:family="table-row">
   <style:table-row-properties fo:keep-together="always"/></style:style>
  <style:style style:name="Krav.split" style:family="table-row">
   <style:table-row-properties fo:keep-together="auto"/></style:style>
  <style:style style:name="Krav.cell" style:family="table-cell">
   <style:table-cell-properties fo:padding="0.12cm" fo:border="0.5pt solid #000000"/>
  </style:style>
  <style:style style:name="PageBreak" style:family="paragraph"
    style:parent-style-name="Text_20_body">
   <style:paragraph-properties fo:break-before="page"/>
  </style:style>
 </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard" style:page-layout-name="pm1">
   <style:header><text:p text:style-name="Header">{header}</text:p></style:header>
   <style:footer><text:p text:style-name="Footer">Sida <text:page-number
     text:select-page="current">1</text:page-number> (<text:page-count>1</text:page-count>)</text:p>
   </style:footer>
  </style:master-page>
 </office:master-styles>
"""

_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"')


def flat_odt(body: str, header: str = RUNNING_HEADER, extra_styles: str = "") -> str:
    styles = _STYLES.replace("{header}", escape(header)).replace(
        " </office:automatic-styles>", f"{extra_styles} </office:automatic-styles>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document {_NAMESPACES} '
            'office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">'
            f"{styles}"
            f"<office:body><office:text>{body}</office:text></office:body></office:document>")


def heading(text: str, level: int) -> str:
    return (f'<text:h text:style-name="Heading_20_{level}" text:outline-level="{level}">'
            f"{escape(text)}</text:h>")


def paragraph(text: str, style: str = "Text_20_body") -> str:
    return f'<text:p text:style-name="{style}">{escape(text)}</text:p>'


def bullets(items: list[str]) -> str:
    inner = "".join(f"<text:list-item>{paragraph(item, 'List_20_Bullet')}</text:list-item>"
                    for item in items)
    return f'<text:list text:style-name="Bullets">{inner}</text:list>'


def table(header: tuple[str, ...], rows: list[tuple[str, ...]], row_style: str = "Krav.row") -> str:
    def cells(values: tuple[str, ...], style: str) -> str:
        return "".join(f'<table:table-cell table:style-name="Krav.cell" office:value-type="string">'
                       f"{paragraph(value, style)}</table:table-cell>" for value in values)

    columns = "".join(f'<table:table-column table:style-name="Krav.{c}"/>' for c in "ABC")
    head = (f'<table:table-header-rows><table:table-row table:style-name="Krav.row">'
            f'{cells(header, "Table_20_Heading")}</table:table-row></table:table-header-rows>')
    body = "".join(f'<table:table-row table:style-name="{row_style}">'
                   f'{cells(row, "Table_20_Contents")}</table:table-row>' for row in rows)
    return f'<table:table table:name="Krav" table:style-name="Krav">{columns}{head}{body}' \
           "</table:table>"


def requirements_table() -> str:
    return table(TABLE_HEADER, [(row.area, row.requirement, row.time) for row in TABLE_ROWS])


# Section 1.2.3 of the Värmland document in sammandrag, in its own words (true facts only).
VARMLAND_TABLE = (
    ("Verksamhet", "Läkarens uppdrag", "Läkarinsats"),
    [("Barnhälsovård (BVC)", "Förebyggande läkarinsatser till de listade barnen 0–6 år; "
      "läkarbesöken förläggs till BVC-mottagningen",
      "4 timmar per vecka för 50 inskrivna barn i åldern 0–1 år"),
     ("Barnmorskemottagning (BMM)", "Graviditetshälsovård; läkaren ska vara specialist inom "
      "allmänmedicin, obstetrik eller gynekologi",
      "3 timmar per vecka för 100 inskrivna gravida kvinnor")],
)
TABLE_INTRO = "Läkarinsatserna i sammandrag:"


def varmland_body(table_space_cm: float = 0.0) -> str:
    """The Värmland document as Styrdok reads its text version, written with heading styles
    and bullet lists; a summary table closes section 1.2.3, `table_space_cm` above it."""
    lines = read_lines(VARMLAND_TXT)
    blocks = clean_blocks(lines)
    parts: list[str] = []
    pending_items: list[str] = []
    for index, block in enumerate(blocks):
        if block.kind != "item" and pending_items:
            parts.append(bullets(pending_items))
            pending_items = []
        if block.kind == "heading":
            raw = " ".join(line.text.strip() for line in lines[block.line_start - 1:block.line_end]
                           if line.text.strip())
            level = min(len(block.section.split(".")), 3) if block.section and \
                raw.startswith(block.section) else (1 if not block.section else 3)
            parts.append(heading(raw, level))
        elif block.kind == "item" and not block.text[:1].isdigit():
            pending_items.append(block.text)
        else:
            parts.append(paragraph(block.text))
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if block.section == "1.2.3" and (following is None or following.section != "1.2.3"):
            if pending_items:
                parts.append(bullets(pending_items))
                pending_items = []
            parts.append(f'<text:p text:style-name="Spaced{int(table_space_cm * 100)}">'
                         f"{escape(TABLE_INTRO)}</text:p>")
            parts.append(table(*VARMLAND_TABLE))
    if pending_items:
        parts.append(bullets(pending_items))
    return "".join(parts)


def spacer_style(table_space_cm: float) -> str:
    return (f'<style:style style:name="Spaced{int(table_space_cm * 100)}" '
            'style:family="paragraph" style:parent-style-name="Text_20_body">'
            f'<style:paragraph-properties fo:margin-top="{table_space_cm:.2f}cm"/></style:style>')


def varmland_pdf(path: Path) -> Path:
    """The ≥ 20-page Värmland PDF whose summary table runs over a page break: built once,
    then the space above the table set so that its second row lands on the next page."""
    pdf = write_pdf(varmland_body(), path, extra_styles=spacer_style(0.0))
    space = _space_to_split_table(pdf, TABLE_INTRO)
    if space:
        pdf = write_pdf(varmland_body(space), path, extra_styles=spacer_style(space))
    return pdf


def _space_to_split_table(pdf: Path, intro: str, share_of_last_row: float = 0.6) -> float:
    """Centimetres of space above `intro` that push the table's last row to the next page."""
    import pdfplumber

    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            hits = page.search(intro)
            if not hits:
                continue
            below = [found for found in page.find_tables() if found.bbox[1] > hits[0]["top"]]
            # No table below the intro on its page: it starts on the next page, move it up
            # by nothing (a rebuild cannot help); else push its last row over the break.
            return _fit(page, below[0], share_of_last_row) if below else 0.0
    raise RuntimeError(f"{intro!r} not found in {pdf}")


# A row long enough to be split by a page break (rows may break across pages in Writer).
SPLIT_ROW = ("Hemsjukvård", "Läkaren ska delta i vårdplanering, genomföra hembesök vid "
             "behov, medverka i läkemedelsgenomgångar för patienter i ordinärt boende, ge "
             "råd till kommunens sjuksköterskor dygnet runt via beredskapsläkare, dokumentera "
             "i den gemensamma journalen, delta i samordnad individuell plan när patienten "
             "eller kommunen begär det och följa upp att planerade insatser genomförs enligt "
             "överenskommelsen mellan regionen och kommunerna i länet.",
             "2 timmar per vecka för 25 inskrivna patienter")


def split_row_pdf(path: Path) -> Path:
    """A table whose last, long row is cut in two by a page break."""
    rows = [(row.area, row.requirement, row.time) for row in TABLE_ROWS[:2]] + [SPLIT_ROW]

    def body(space: float) -> str:
        return (heading("1 Hemsjukvård", 1)
                + f'<text:p text:style-name="Spaced{int(space * 100)}">'
                  f"{escape(TABLE_INTRO)}</text:p>"
                + table(TABLE_HEADER, rows, row_style="Krav.split")
                + paragraph("Uppföljningen sker årligen."))

    pdf = write_pdf(body(0.0), path, extra_styles=spacer_style(0.0))
    space = _space_to_split_table(pdf, TABLE_INTRO, share_of_last_row=0.5)
    return write_pdf(body(space), path, extra_styles=spacer_style(space))


def _fit(page: object, found: object, share_of_last_row: float = 0.6) -> float:
    bottom = found.bbox[3]  # type: ignore[attr-defined]
    rows = found.rows  # type: ignore[attr-defined]
    last_row_height = rows[-1].bbox[3] - rows[-1].bbox[1]
    footer_top = max(char["top"] for char in page.chars)  # type: ignore[attr-defined]
    body_bottom = footer_top - 30  # the footer's own band
    if bottom > body_bottom:
        return 0.0
    # Push the table down until its last row no longer fits above the footer.
    points = body_bottom - bottom + last_row_height * share_of_last_row
    return round(points / 72 * 2.54, 2)


def table_body() -> str:
    """A short document whose table starts low on page 1 and runs on to page 2."""
    filler = [
        "Tabellen nedan sammanfattar de läkarinsatser och tider som gäller för "
        "vårdcentralens tilläggsuppdrag. Varje rad gäller sitt eget område.",
        "Vårdcentralen ska dokumentera hur tiden fördelas och på begäran redovisa "
        "fördelningen för regionen. Avvikelser ska anmälas till beställaren utan dröjsmål.",
    ] * 5
    return (heading("1 Läkarinsatser per område", 1) + "".join(map(paragraph, filler))
            + requirements_table()
            + heading("2 Uppföljning", 1)
            + paragraph("Uppföljningen sker årligen i dialog med vårdcentralen."))


def soffice_convert(source: Path, target_format: str, outdir: Path) -> Path:
    """LibreOffice headless, with its own throwaway profile (others may run soffice too)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise RuntimeError("soffice is missing: apt-get install -y libreoffice-writer-nogui")
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--norestore", "--convert-to", target_format, "--outdir", str(outdir),
                        str(source)], check=True, capture_output=True, timeout=300)
    result = outdir / f"{source.stem}.{target_format.split(':')[0]}"
    if not result.is_file():
        raise RuntimeError(f"soffice wrote no {result.name}")
    return result


def write_pdf(body: str, path: Path, header: str = RUNNING_HEADER,
              extra_styles: str = "") -> Path:
    source = path.with_suffix(".fodt")
    source.write_text(flat_odt(body, header, extra_styles), encoding="utf-8")
    return soffice_convert(source, "pdf", path.parent)


def pdftotext_page(pdf: Path, page: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf),
                           "-"], check=True, capture_output=True, text=True).stdout


def page_count(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def scanned(pdf: Path, pages: list[int], out: Path, dpi: int = 200) -> Path:
    """`pdf` with the given pages replaced by images of themselves (no text layer)."""
    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    work = Path(tempfile.mkdtemp(prefix="scan-", dir=out.parent))
    writer = PdfWriter()
    reader = PdfReader(pdf)
    for number, page in enumerate(reader.pages, start=1):
        if number not in pages:
            writer.add_page(page)
            continue
        stem = work / f"p{number}"
        subprocess.run(["pdftoppm", "-f", str(number), "-l", str(number), "-r", str(dpi),
                        "-gray", "-png", "-singlefile", str(pdf), str(stem)], check=True,
                       capture_output=True, timeout=120)
        image_pdf = work / f"p{number}.pdf"
        with Image.open(stem.with_suffix(".png")) as image:
            image.convert("L").save(image_pdf, "PDF", resolution=dpi)
        writer.add_page(PdfReader(image_pdf).pages[0])
    with out.open("wb") as handle:
        writer.write(handle)
    return out


_W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
OUTLINE_NUM_ID = 90


def add_outline_numbering(document: object) -> None:
    """Word's multilevel list linked to Heading 1–3 ("1", "1.1", "1.1.1"), as Word writes it
    when headings are numbered: the numbering lives in numbering.xml, not in the text."""
    from docx.oxml import parse_xml

    levels = "".join(
        f'<w:lvl w:ilvl="{level}"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        f'<w:lvlText w:val="{".".join(f"%{n}" for n in range(1, level + 2))}"/>'
        f'<w:lvlJc w:val="left"/></w:lvl>' for level in range(3))
    numbering = document.part.numbering_part.element  # type: ignore[attr-defined]
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {_W_NS} w:abstractNumId="{OUTLINE_NUM_ID}">'
        f'<w:multiLevelType w:val="multilevel"/>{levels}</w:abstractNum>'))
    numbering.append(parse_xml(
        f'<w:num {_W_NS} w:numId="{OUTLINE_NUM_ID}">'
        f'<w:abstractNumId w:val="{OUTLINE_NUM_ID}"/></w:num>'))
    for level in range(3):
        style = document.styles[f"Heading {level + 1}"]  # type: ignore[attr-defined]
        style.element.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {_W_NS}><w:ilvl w:val="{level}"/>'
            f'<w:numId w:val="{OUTLINE_NUM_ID}"/></w:numPr>'))


def table_docx(path: Path) -> Path:
    """A Word document: numbered headings (Word numbering), paragraphs, the requirements
    table in its place between them, and a numbered list."""
    import docx

    document = docx.Document()
    add_outline_numbering(document)
    document.add_heading("Läkarinsatser per område", level=1)
    document.add_heading("Tider", level=2)
    document.add_paragraph("Tabellen nedan sammanfattar de läkarinsatser och tider som gäller "
                           "för vårdcentralens tilläggsuppdrag.")
    document.add_paragraph("Varje rad gäller sitt eget område.")
    grid = document.add_table(rows=1, cols=3)
    grid.style = "Table Grid"
    for cell, name in zip(grid.rows[0].cells, TABLE_HEADER, strict=True):
        cell.text = name
    for row in TABLE_ROWS:
        cells = grid.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = row.area, row.requirement, row.time
    document.add_paragraph("Vårdcentralen ska dokumentera hur tiden fördelas.")
    document.add_heading("Undantag", level=2)
    document.add_paragraph("Vid vakans ska vårdcentralen meddela regionen inom 14 dagar.")
    document.add_paragraph("Tillfällig nedsättning av läkartiden får pågå högst 3 månader.")
    document.add_heading("Uppföljning", level=1)
    document.add_paragraph("Uppföljningen omfattar:")
    document.add_paragraph("läkartid per område", style="List Number")
    document.add_paragraph("antal inskrivna patienter", style="List Number")
    document.save(str(path))
    return path
