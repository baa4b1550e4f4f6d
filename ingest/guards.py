"""Checks that bound what one document may cost to parse, made before any parser sees it.

A DOCX is a zip: its members' declared sizes are what `zipfile` will inflate at most (it
stops at the declared size and fails the CRC check if the data goes on), so checking them
bounds decompression before python-docx opens the file. Office XML never carries a DTD, so
any `<!DOCTYPE`/`<!ENTITY` (billion laughs, external entities) is refused outright. What
these checks cannot see (a PDF's flate streams, an XML tree that is large but under the
caps) is bounded by the child process in `ingest.sandbox`.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.readers import ReadError

_MB = 1024 * 1024
_SCAN_BLOCK = 1 << 20
_DTD = re.compile(rb"<!\s*(?:doctype|entity)", re.IGNORECASE)
_XML_SUFFIXES = (".xml", ".rels", ".vml")


@dataclass(frozen=True)
class ParseLimits:
    """What one document may cost; the defaults suit documents of a few hundred pages."""

    max_unpacked_mb: int = 256  # all members of a DOCX, inflated
    max_xml_mb: int = 48  # all XML members of a DOCX, inflated (a 500-page one is ~15 MB)
    max_xml_ratio: int = 200  # inflated/compressed for an XML member over 4 MB
    max_members: int = 5000
    max_pdf_pages: int = 3000
    memory_mb: int = 1024  # address space of the parsing child process
    timeout_s: float = 60.0


def check_docx_archive(path: Path, limits: ParseLimits) -> None:
    """Refuse a DOCX whose zip would inflate past the limits or whose XML declares entities."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_members(members, limits)
            for member in members:
                if member.filename.lower().endswith(_XML_SUFFIXES):
                    _scan_for_dtd(archive, member)
    except zipfile.BadZipFile as error:
        raise ReadError(f"corrupt or unreadable DOCX (not a valid zip: {error})") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError) as error:
        raise ReadError(f"corrupt or unreadable DOCX ({type(error).__name__})") from None


def _check_members(members: list[zipfile.ZipInfo], limits: ParseLimits) -> None:
    if len(members) > limits.max_members:
        raise ReadError(f"DOCX has {len(members)} parts (limit {limits.max_members}): "
                        "not an ordinary Word document")
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.max_unpacked_mb * _MB:
        raise ReadError(f"DOCX unpacks to {unpacked / _MB:.0f} MB (limit "
                        f"{limits.max_unpacked_mb} MB): a zip bomb or far too large")
    xml = [member for member in members if member.filename.lower().endswith(_XML_SUFFIXES)]
    xml_size = sum(member.file_size for member in xml)
    if xml_size > limits.max_xml_mb * _MB:
        raise ReadError(f"DOCX text parts unpack to {xml_size / _MB:.0f} MB (limit "
                        f"{limits.max_xml_mb} MB): a zip bomb or far too large")
    for member in xml:
        if member.file_size > 4 * _MB and \
                member.file_size > limits.max_xml_ratio * max(member.compress_size, 1):
            raise ReadError(f"DOCX part {member.filename} inflates "
                            f"{member.file_size // max(member.compress_size, 1)}-fold: "
                            "a zip bomb, not a document")


def _scan_for_dtd(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    tail = b""
    with archive.open(member) as stream:
        while block := stream.read(_SCAN_BLOCK):
            if _DTD.search(tail + block):
                raise ReadError(f"DOCX part {member.filename} declares a DTD or entities "
                                "(never in a Word document; refused as unsafe)")
            tail = block[-16:]


def check_pdf_pages(page_count: int, limits: ParseLimits) -> None:
    if page_count > limits.max_pdf_pages:
        raise ReadError(f"PDF has {page_count} pages (limit {limits.max_pdf_pages})")
