"""Plain text and Markdown: decoded (UTF-8 or Windows-1252), paged on form feeds."""

from __future__ import annotations

import codecs
from pathlib import Path

from ingest.readers.base import Extracted, Line, ReadError


def read_text(path: Path) -> Extracted:
    text = decode_text(path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n")
    if "\f" not in text:
        return Extracted([Line(raw) for raw in text.split("\n")])
    return Extracted([Line(raw, number)
                      for number, page in enumerate(text.split("\f"), start=1)
                      for raw in page.split("\n")])


def decode_text(raw: bytes) -> str:
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
