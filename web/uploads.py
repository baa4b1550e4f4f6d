"""Owner uploads: a safe file name, size and type limits, and nothing kept unless it ingests.

An upload is streamed to a hidden staging file, parsed there (a bad file is rejected with the
reader's reason and deleted), then moved to `uploads/<document id><suffix>` and ingested. A
document's previous upload is kept aside until the new one is in, so a failure changes nothing.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO, Literal

from ingest.manifest import derive_metadata, document_id
from ingest.pipeline import parse_document
from ingest.readers import SUPPORTED_SUFFIXES, ReadError
from ingest.service import Styrdok
from rag.models import DocumentMeta
from web.errors import ApiError

_COPY_BLOCK = 1 << 20
_UNSAFE = re.compile(r"[^\w .()+,-]")
_lock = threading.Lock()  # one upload or removal at a time: they touch the same files


@dataclass(frozen=True)
class UploadResult:
    document: str
    status: Literal["added", "updated", "unchanged"]
    title: str
    chunks: int
    stored_as: str


def safe_filename(name: str) -> str:
    """The last path component, NFC, without control characters or shell/path specials."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = re.sub(r"\s+", " ", _UNSAFE.sub(" ", name)).strip()
    stem, dot, suffix = name.rpartition(".")
    if not dot or not re.fullmatch(r"[0-9A-Za-z]{1,10}", suffix):
        stem, suffix = name, ""
    stem = stem.strip(" ._")[:120] or "dokument"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def uploads_dir(service: Styrdok) -> Path:
    return service.settings.data_dir / "uploads"


def upload_metadata(filename: str, *, title: str = "", region: str = "", doc_type: str = "",
                    year: int | None = None, edition: str = "", valid_from: date | None = None,
                    valid_to: date | None = None) -> DocumentMeta:
    derived = derive_metadata(Path(filename))
    return derived.model_copy(update={
        "title": title.strip() or Path(filename).stem,
        "region": region.strip() or derived.region,
        "doc_type": doc_type.strip() or derived.doc_type,
        "year": year or derived.year,
        "source": filename,
        "edition": edition.strip(),
        "valid_from": valid_from,
        "valid_to": valid_to,
    })


def edition_for_upload(service: Styrdok, meta: DocumentMeta) -> DocumentMeta:
    """A changed upload of a document already here is a new edition (the old one is kept,
    superseded from the new one's giltig från): labelled by that day unless named."""
    editions = service.editions(meta.document)
    if not editions or meta.edition:
        return meta
    day = meta.valid_from or service.searcher.clock.today()
    return meta.model_copy(update={"edition": day.isoformat(), "valid_from": day})


def _stored_name(meta: DocumentMeta, suffix: str) -> str:
    label = re.sub(r"[^0-9A-Za-z._-]+", "-", meta.edition).strip("-.")
    return f"{meta.document}--{label}{suffix}" if label else f"{meta.document}{suffix}"


def store_upload(service: Styrdok, filename: str, data: BinaryIO,
                 meta: DocumentMeta | None = None) -> UploadResult:
    """Validate, keep and ingest one uploaded file; raises ApiError (400, 413, 415)."""
    name = safe_filename(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ApiError(415, "unsupported_media_type", f"file type '{suffix or name}' is not "
                       f"accepted (accepted: {', '.join(SUPPORTED_SUFFIXES)})")
    meta = meta or upload_metadata(name)
    meta = edition_for_upload(service, meta.model_copy(update={
        "document": document_id(Path(name))}))
    folder = uploads_dir(service)
    staging = folder / ".incoming"
    staging.mkdir(parents=True, exist_ok=True)
    incoming = staging / f"{uuid.uuid4().hex}{suffix}"
    try:
        _receive(data, incoming, service.settings.max_upload_mb)
        _check_readable(incoming, meta, name, service.settings.chunk_max_chars)
        with _lock:
            return _swap_in(service, incoming, folder / _stored_name(meta, suffix), meta)
    finally:
        incoming.unlink(missing_ok=True)


def remove_document(service: Styrdok, document: str, edition: str | None = None) -> bool:
    """Remove a document (or one edition) from the index, and the uploaded files of what was
    removed if they were uploaded here."""
    with _lock:
        removed = [e for e in service.editions(document)
                   if edition is None or e.edition == edition]
        if not removed or not service.remove(document, edition):
            return False
        for info in removed:
            path = Path(info.path)
            if path.parent.resolve() == uploads_dir(service).resolve():
                path.unlink(missing_ok=True)
        return True


def _receive(data: BinaryIO, target: Path, max_mb: int) -> None:
    limit = max_mb * 1024 * 1024
    size = 0
    with target.open("wb") as out:
        while block := data.read(_COPY_BLOCK):
            size += len(block)
            if size > limit:
                raise ApiError(413, "payload_too_large", f"file larger than {max_mb} MB")
            out.write(block)
    if size == 0:
        raise ApiError(400, "empty_file", "the file is empty (0 bytes)")


def _check_readable(path: Path, meta: DocumentMeta, name: str, max_chars: int) -> None:
    try:
        parse_document(path, meta, max_chars)
    except ReadError as error:
        raise ApiError(400, "unreadable_document", f"{name}: {error}") from None
    except OSError:
        raise ApiError(400, "unreadable_document", f"{name}: cannot read the file") from None


def _swap_in(service: Styrdok, incoming: Path, final: Path, meta: DocumentMeta) -> UploadResult:
    backup = incoming.with_name(f"{incoming.stem}.previous{final.suffix}")
    had_previous = final.exists()
    if had_previous:
        os.replace(final, backup)
    os.replace(incoming, final)
    report = service.ingest([final], metadata=meta)
    if not report.ok:
        final.unlink(missing_ok=True)
        if had_previous:
            os.replace(backup, final)
        reason = report.failed[0].reason
        raise ApiError(400, "unreadable_document", f"{final.name}: {reason}")
    backup.unlink(missing_ok=True)
    for other in final.parent.glob(f"{final.stem}.*"):
        if other != final and other.suffix.lower() in SUPPORTED_SUFFIXES:
            other.unlink(missing_ok=True)
    status: Literal["added", "updated", "unchanged"] = (
        "added" if report.added else "updated" if report.updated else "unchanged")
    chunks = next((doc.chunks for doc in service.documents()
                   if doc.document == meta.document), 0)
    return UploadResult(document=meta.document, status=status, title=meta.title,
                        chunks=chunks, stored_as=final.name)
