"""Read a file into numbered source lines (with page numbers where the format has pages)."""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".docx")
_PAGE_COUNTER = re.compile(
    r"^\s*(?:sida\s+)?(\d{1,4})\s*(?:\(\s*\d{1,4}\s*\)|av\s+\d{1,4}|/\s*\d{1,4})\s*$",
    re.IGNORECASE)


class ReadError(Exception):
    """A file that cannot be ingested; the message is one line a person can act on."""


@dataclass(frozen=True)
class SourceLine:
    text: str
    lineno: int  # 1-based line number in the extracted text
    page: int | None
    offset: int  # character offset of the line in the extracted text


def read_lines(path: Path) -> list[SourceLine]:
    """Return the lines of a document; raises ReadError with a clear reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ReadError(f"unsupported file type '{suffix or path.name}' "
                        f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    if not path.is_file():
        raise ReadError("not a file")
    if path.stat().st_size == 0:
        raise ReadError("empty file (0 bytes)")
    if suffix == ".pdf":
        pages: list[tuple[int | None, str]] = [
            (number, text) for number, text in enumerate(_pdf_pages(path), start=1)]
    elif suffix == ".docx":
        pages = [(None, _docx_text(path))]
    else:
        pages = _text_pages(_decode_text(path.read_bytes()))
    lines = _number_lines(pages)
    if not any(line.text.strip() for line in lines):
        raise ReadError("no text found")
    return lines


def _pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                reader.decrypt("")  # owner-password-only PDFs open with an empty user password
            except Exception as error:
                raise ReadError("encrypted PDF: remove the password and upload again") from error
        pages = [page.extract_text() or "" for page in reader.pages]
    except ReadError:
        raise
    except FileNotDecryptedError as error:
        raise ReadError("encrypted PDF: remove the password and upload again") from error
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AssertionError) as error:
        raise ReadError(f"corrupt or unreadable PDF ({type(error).__name__})") from error
    if not pages:
        raise ReadError("corrupt or unreadable PDF (no pages)")
    if not any(text.strip() for text in pages):
        raise ReadError("PDF has no text layer (scanned image?): it needs OCR before ingest")
    return pages


def _docx_text(path: Path) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as error:
        raise ReadError(f"corrupt or unreadable DOCX ({type(error).__name__})") from error
    lines: list[str] = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        text = paragraph.text
        if style.lower().startswith("heading") and text.strip():
            level = "".join(ch for ch in style if ch.isdigit()) or "1"
            text = "#" * min(int(level), 6) + " " + text.strip()
        elif style.lower().startswith("list") and text.strip():
            text = "• " + text.strip()
        lines.extend([text, ""])
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
        lines.append("")
    return "\n".join(lines)


def _decode_text(raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: same start
        raw = _transcode(raw, "utf-32")
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Notepad's "Unicode"
        raw = _transcode(raw, "utf-16")
    if b"\x00" in raw[:4096]:
        raise ReadError("binary data, not text (is the file extension right?)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Swedish documents are often Windows-1252 / Latin-1.
        text = raw.decode("cp1252", errors="strict") if _is_cp1252(raw) else ""
        if not text:
            raise ReadError("undecodable text (neither UTF-8 nor Windows-1252)") from None
    control = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if control > max(20, len(text[:20000]) // 50):
        raise ReadError("binary data, not text (is the file extension right?)")
    return text


def _transcode(raw: bytes, encoding: str) -> bytes:
    try:
        return raw.decode(encoding).encode("utf-8")
    except UnicodeDecodeError:
        raise ReadError(f"undecodable text (starts like {encoding.upper()} but is not)") from None


def _is_cp1252(raw: bytes) -> bool:
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _text_pages(text: str) -> list[tuple[int | None, str]]:
    """Split plain text into pages on form feeds (as pdftotext writes them)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\f" not in text:
        return [(None, text)]
    return [(number, page) for number, page in enumerate(text.split("\f"), start=1)]


def _number_lines(pages: list[tuple[int | None, str]]) -> list[SourceLine]:
    lines: list[SourceLine] = []
    offset = 0
    lineno = 0
    for page, text in pages:
        for raw in text.split("\n"):
            lineno += 1
            lines.append(SourceLine(raw, lineno, page, offset))
            offset += len(raw) + 1
    return _pages_from_counters(lines)


def _pages_from_counters(lines: list[SourceLine]) -> list[SourceLine]:
    """In text extracted from a PDF, a footer like '17 (20)' ends page 17: number what follows.

    Text before the first counter is paged only when that counter is page 1; otherwise it
    may span several pages and stays unpaged (cited by line span instead).
    """
    if any(line.page is not None for line in lines):
        return lines
    counters = {index: int(match.group(1)) for index, line in enumerate(lines)
                if (match := _PAGE_COUNTER.match(line.text))}
    if len(counters) < 2:
        return lines
    first_index = min(counters)
    page: int | None = 1 if counters[first_index] == 1 else None
    numbered: list[SourceLine] = []
    for index, line in enumerate(lines):
        numbered.append(SourceLine(line.text, line.lineno, page, line.offset))
        if index in counters:
            page = counters[index] + 1
    return numbered
