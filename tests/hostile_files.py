"""Hostile documents for the security tests: zip bombs, entity bombs, a flate-bomb PDF.

Each is built the way an attacker would (small on the wire, huge once inflated), in streaming
fashion so the test process itself never holds the inflated bytes.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import docx

GIB = 1 << 30
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_HEAD = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {_W}><w:body>'
_TAIL = "<w:p><w:r><w:t>Slut</w:t></w:r></w:p></w:body></w:document>"


def _template_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Mall")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_with_body(target: Path, body: Iterator[bytes]) -> Path:
    """A real DOCX whose word/document.xml is replaced by the streamed `body`."""
    template = zipfile.ZipFile(io.BytesIO(_template_docx()))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for item in template.infolist():
            if item.filename == "word/document.xml":
                info = zipfile.ZipInfo(item.filename)
                info.compress_type = zipfile.ZIP_DEFLATED
                with out.open(info, "w", force_zip64=True) as part:
                    for block in body:
                        part.write(block)
            else:
                out.writestr(item, template.read(item.filename))
    return target


def _repeat(unit: bytes, total: int) -> Iterator[bytes]:
    block = unit * ((1 << 20) // len(unit))
    written = 0
    while written < total:
        yield block
        written += len(block)


def paragraph_bomb(target: Path, size: int = GIB) -> Path:
    """word/document.xml = 1 GiB of empty paragraphs (`<w:p/>`), about 1 MB zipped."""
    return docx_with_body(target, iter([_HEAD.encode(), *_repeat(b"<w:p/>", size),
                                        _TAIL.encode()]))


def whitespace_bomb(target: Path, size: int = GIB) -> Path:
    """word/document.xml = 1 GiB of whitespace inside a paragraph."""
    return docx_with_body(target, iter([(_HEAD + "<w:p><w:r><w:t>").encode(),
                                        *_repeat(b" \n\t ", size),
                                        ("</w:t></w:r></w:p>" + _TAIL).encode()]))


def billion_laughs(target: Path) -> Path:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    xml = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [' + "".join(levels) + "]>"
           f"<w:document {_W}><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>"
           "</w:body></w:document>")
    return docx_with_body(target, iter([xml.encode()]))


def malformed_xml(target: Path) -> Path:
    return docx_with_body(target, iter([(_HEAD + "<w:p><w:r><w:t>Öppen <w:p></w:body>").encode()]))


def flate_bomb_pdf(target: Path, size: int = GIB) -> Path:
    """A one-page PDF whose content stream inflates to `size` bytes of text operators."""
    packer = zlib.compressobj(9)
    stream = b"".join(packer.compress(block) for block in _repeat(b"BT (a) Tj ET\n", size))
    stream += packer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    target.write_bytes(bytes(out))
    return target
