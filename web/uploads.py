"""Owner uploads: a safe file name, size and type limits, and nothing kept unless it ingests.

An upload is streamed to a hidden staging file, parsed there (a bad file is rejected with the
reader's reason and deleted), then moved to `uploads/<document id><suffix>` and ingested. A
document's previous upload is kept aside until the new one is in, so a failure changes nothing.

Names never merge in silence: a file whose name has no letters or digits left gets an id
from a hash of its name, and an upload whose id is already indexed (a corpus document, or a
file whose name differs only in å/ä/ö) is refused with 409 unless sent with `replace`, and
even then only when it carries that document's own file name. `on_existing` is the hook for
"new edition" uploads (the versions issue).
"""

from __future__ import annotations

import hashlib
import logging
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
from ingest.pipeline import parse_document, parse_limits
from ingest.readers import SUPPORTED_SUFFIXES, ReadError
from ingest.service import Styrdok
from rag.models import DocumentMeta
from web.errors import ApiError

log = logging.getLogger(__name__)
_COPY_BLOCK = 1 << 20
# What an upload whose document id exists does: refused (409), replaces the document, or is
# kept as a new edition of it (the old one superseded from the new one's giltig från).
OnExisting = Literal["refuse", "replace", "edition"]
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


def upload_document_id(original_name: str) -> str:
    """The document id for an uploaded file name: `document_id` of its safe name, or, when
    nothing of the name survives ("....txt", "💉.txt"), one from a hash of the name."""
    name = safe_filename(original_name)
    stem = Path(name).stem if Path(name).suffix else name
    if stem == "dokument" and not _has_word_characters(original_name, "dokument"):
        digest = hashlib.sha256(unicodedata.normalize("NFC", original_name).encode())
        return f"dokument-{digest.hexdigest()[:10]}"
    return document_id(Path(name))


def _has_word_characters(original_name: str, word: str) -> bool:
    base = unicodedata.normalize("NFC", original_name).replace("\\", "/").rsplit("/", 1)[-1]
    return word in base.lower()


def uploads_dir(service: Styrdok) -> Path:
    return service.settings.data_dir / "uploads"


def clear_staging(service: Styrdok) -> int:
    """Remove staging files a crash left behind (call on start); returns how many."""
    staging = uploads_dir(service) / ".incoming"
    removed = 0
    if staging.is_dir():
        for leftover in staging.iterdir():
            if leftover.is_file() or leftover.is_symlink():
                leftover.unlink(missing_ok=True)
                removed += 1
    return removed


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


def on_existing(replace: bool, meta: DocumentMeta) -> OnExisting:
    """An upload naming an edition or a giltig från is a new edition; else replace or refuse."""
    if meta.edition or meta.valid_from:
        return "edition"
    return "replace" if replace else "refuse"


def edition_for_upload(service: Styrdok, meta: DocumentMeta) -> DocumentMeta:
    """A changed upload of a document already here is a new edition (the old one is kept,
    superseded from the new one's giltig från): labelled by that day unless named."""
    editions = service.editions(meta.document)
    if not editions or meta.edition:
        return meta
    day = meta.valid_from or service.retriever.searcher.clock.today()
    return meta.model_copy(update={"edition": day.isoformat(), "valid_from": day})


def _stored_name(meta: DocumentMeta, suffix: str) -> str:
    label = re.sub(r"[^0-9A-Za-z._-]+", "-", meta.edition).strip("-.")
    return f"{meta.document}--{label}{suffix}" if label else f"{meta.document}{suffix}"


def store_upload(service: Styrdok, filename: str, data: BinaryIO,
                 meta: DocumentMeta | None = None, *,
                 on_existing: OnExisting = "refuse") -> UploadResult:
    """Validate, keep and ingest one uploaded file; raises ApiError (400, 409, 413, 415).

    `filename` is the client's name as sent (it decides the document id)."""
    name = safe_filename(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ApiError(415, "unsupported_media_type", f"file type '{suffix or name}' is not "
                       f"accepted (accepted: {', '.join(SUPPORTED_SUFFIXES)})")
    meta = meta or upload_metadata(name)
    meta = meta.model_copy(update={"document": upload_document_id(filename)})
    if on_existing == "edition":
        meta = edition_for_upload(service, meta)
    _check_existing(service, meta.document, name, on_existing)
    folder = uploads_dir(service)
    staging = folder / ".incoming"
    staging.mkdir(parents=True, exist_ok=True)
    incoming = staging / f"{uuid.uuid4().hex}{suffix}"
    try:
        _receive(data, incoming, service.settings.max_upload_mb)
        _check_readable(service, incoming, meta, name)
        with _lock:
            _check_existing(service, meta.document, name, on_existing)
            return _swap_in(service, incoming, folder / _stored_name(meta, suffix), meta)
    finally:
        incoming.unlink(missing_ok=True)


def _check_existing(service: Styrdok, document: str, name: str,
                    on_existing: OnExisting) -> None:
    info = next((doc for doc in service.documents() if doc.document == document), None)
    if info is None:
        return
    if on_existing == "refuse":
        raise ApiError(409, "document_exists", f"a document with id '{document}' already "
                       f"exists ({info.title}, from {Path(info.path).name}); send "
                       "replace=true to replace it, an edition or valid_from to add a new "
                       "edition, or rename the file")
    own_names = {unicodedata.normalize("NFC", known).casefold()
                 for known in (Path(info.path).name, info.source)}
    if name.casefold() not in own_names:
        raise ApiError(409, "name_conflict", f"'{name}' would replace document '{document}', "
                       f"which came from a different file ({Path(info.path).name}): rename "
                       "the file, or upload it under that document's own name")


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


def _check_readable(service: Styrdok, path: Path, meta: DocumentMeta, name: str) -> None:
    settings = service.settings
    try:
        parse_document(path, meta, settings.chunk_max_chars, parse_limits(settings))
    except ReadError as error:
        raise ApiError(400, "unreadable_document", f"{name}: {error}") from None
    except OSError:
        raise ApiError(400, "unreadable_document", f"{name}: cannot read the file") from None
    except Exception as error:  # whatever a parser throws, the file is what was wrong
        log.exception("parsing upload %s failed", name)
        raise ApiError(400, "unreadable_document", f"{name}: the file could not be read "
                       f"({type(error).__name__})") from None


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
