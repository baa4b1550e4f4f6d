"""The original file of an ingested document, for `GET /api/documents/{id}/file`.

The id is only ever looked up in the catalog, never joined into a path, so no id can reach a
file the catalog does not name; the catalog's path must still be a regular file of a type
Styrdok reads.
"""

from __future__ import annotations

from pathlib import Path

from ingest.readers import reader_for
from ingest.service import Styrdok
from web.errors import ApiError

MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}


def original_file(service: Styrdok, document: str) -> tuple[Path, str]:
    """(path, media type) of the document's original; ApiError 404 when there is none."""
    info = next((doc for doc in service.documents() if doc.document == document), None)
    if info is None:
        raise ApiError(404, "not_found", f"no document with id '{document}'")
    path = Path(info.path)
    if not path.is_absolute():
        path = Path.cwd() / path
    if path.is_symlink() or not path.is_file() or reader_for(path) is None:
        raise ApiError(404, "not_found", f"the original file of '{document}' is not available")
    media_type = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return path, media_type
