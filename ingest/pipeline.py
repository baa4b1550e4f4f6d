"""Ingest files into the store: incremental by file hash, one document swapped at a time."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tqdm import tqdm

from ingest.chunking import chunk_blocks
from ingest.clean import clean_blocks
from ingest.guards import ParseLimits
from ingest.manifest import MANIFEST_NAME, load_manifest, metadata_for
from ingest.readers import SUPPORTED_SUFFIXES, ReadError, ReadResult
from ingest.sandbox import read_document_bounded
from ingest.sfs import is_sfs_markdown, read_statute
from rag.models import Chunk, DocumentMeta, IngestFailure, IngestReport
from rag.settings import Settings
from rag.store.catalog import CatalogDetached
from rag.store.store import Store

log = logging.getLogger(__name__)

# Bump when cleaning or chunking changes, so unchanged files are re-chunked once.
PIPELINE_VERSION = "13"  # 9: instruction-like sentences flagged;
# 10: statute paragraphs record their new number (Chunk.renumbered_to)
# 11: "2 kap. 4 §" is not split into two sentences
# 12: a list item with an open parenthesis carries on after a blank line
# 13: chunks carry their document's English title (manifest title_en)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest: given files as they are, folders searched recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(
                candidate for candidate in path.rglob("*")
                if candidate.is_file() and candidate.name != MANIFEST_NAME
                and not any(part.startswith(".") for part in candidate.relative_to(path).parts)))
        else:
            found.append(path)
    return found


def file_fingerprint(path: Path, chunk_max_chars: int, meta: DocumentMeta) -> str:
    digest = hashlib.sha256()
    digest.update(f"{PIPELINE_VERSION}|{chunk_max_chars}|{meta.model_dump_json()}|".encode())
    digest.update(path.read_bytes())
    return digest.hexdigest()


def parse_limits(settings: Settings) -> ParseLimits:
    return ParseLimits(max_unpacked_mb=settings.max_unpacked_mb,
                       max_pdf_pages=settings.max_pdf_pages,
                       memory_mb=settings.parse_memory_mb, timeout_s=settings.parse_timeout_s)


def parse_document(path: Path, meta: DocumentMeta, max_chars: int,
                   limits: ParseLimits | None = None) -> list[Chunk]:
    """Chunks of one file; PDF and DOCX are parsed in a bounded child (ingest.sandbox)."""
    return read_chunks(path, meta, max_chars, limits)[0]


def read_chunks(path: Path, meta: DocumentMeta, max_chars: int,
                limits: ParseLimits | None = None) -> tuple[list[Chunk], ReadResult]:
    """The document's chunks and what its reader reports (pages read by OCR or skipped)."""
    if is_sfs_markdown(path):
        return read_statute(path, meta, max_chars), ReadResult([])
    read = read_document_bounded(path, limits)
    chunks = chunk_blocks(clean_blocks(read.lines), meta, max_chars)
    if not chunks:
        raise ReadError("no text found")
    return chunks, read


def ingest(store: Store, paths: Iterable[Path], *, progress: bool = False,
           metadata: DocumentMeta | None = None,
           on_document: Callable[[str], None] | None = None) -> IngestReport:
    """Ingest files; a bad file is reported and skipped, the rest goes on."""
    started = time.perf_counter()
    report = IngestReport()
    store.collect_garbage()
    files = discover(paths)
    seen: dict[tuple[str, str], Path] = {}
    manifests: dict[Path, dict[str, DocumentMeta]] = {}
    bar = tqdm(files, desc="Ingest", unit="fil", disable=not progress, leave=False)
    for path in bar:
        bar.set_postfix_str(path.name[:40])
        if metadata is None and path.parent not in manifests:
            manifests[path.parent] = load_manifest(path.parent)
        meta = metadata or metadata_for(path, manifests[path.parent])
        doc_id = meta.document
        if (doc_id, meta.edition) in seen:
            report.failed.append(IngestFailure(
                path=str(path), reason=f"same document id '{doc_id}' as "
                f"{seen[doc_id, meta.edition].name}"))
            continue
        seen[doc_id, meta.edition] = path
        try:
            _ingest_file(store, path, meta, report)
        except ReadError as error:
            report.failed.append(IngestFailure(path=str(path), reason=str(error)))
        except OSError as error:
            report.failed.append(IngestFailure(path=str(path), reason=f"cannot read: {error}"))
        except CatalogDetached:
            raise  # not this file's fault: no later write may be accepted either
        except Exception as error:  # a parser bug on one file must not cost the rest of the batch
            log.exception("ingest of %s failed", path)
            report.failed.append(IngestFailure(
                path=str(path), reason=f"unexpected error ({type(error).__name__}: {error})"))
        if on_document:
            on_document(doc_id)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _ingest_file(store: Store, path: Path, meta: DocumentMeta, report: IngestReport) -> None:
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ReadError(f"unsupported file type '{path.suffix or path.name}' "
                        f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    limit_mb, size = store.settings.max_upload_mb, path.stat().st_size
    if size > limit_mb * 1024 * 1024:
        raise ReadError(f"file too large ({size / 2**20:.1f} MB, "
                        f"limit {limit_mb} MB: STYRDOK_MAX_UPLOAD_MB)")
    fingerprint = file_fingerprint(path, store.settings.chunk_max_chars, meta)
    previous = store.catalog.file_hash(meta.document, meta.edition)
    if previous == fingerprint:
        report.unchanged.append(meta.document)
        return
    chunks, read = read_chunks(path, meta, store.settings.chunk_max_chars,
                               parse_limits(store.settings))
    if read.ocr_pages:
        report.ocr_pages[meta.document] = read.ocr_pages
    if read.skipped_pages:
        report.skipped_pages[meta.document] = read.skipped_pages
    report.notes += [f"{meta.document}: {note}" for note in read.notes]
    for note in read.notes:
        log.warning("%s: %s", meta.document, note)
    vectors, embedded = store.embed_chunks(chunks)
    store.sentence_vectors.embed_chunks(chunks)
    store.write_document(meta, str(path), fingerprint, chunks, vectors)
    (report.updated if previous else report.added).append(meta.document)
    report.chunks_written += len(chunks)
    report.embedded += embedded
    log.info("ingested %s: %d chunks (%d embedded)", meta.document, len(chunks), embedded)

