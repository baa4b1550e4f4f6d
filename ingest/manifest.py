"""Document metadata: from `manifest.yaml` beside the documents, else derived from the name."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml
from pydantic import ValidationError

from rag.models import DocumentMeta

MANIFEST_NAME = "manifest.yaml"
_REGIONS = {
    "varmland": "Region Värmland",
    "halland": "Region Halland",
    "jamtland-harjedalen": "Region Jämtland Härjedalen",
    "vgr": "Västra Götalandsregionen",
    "skane": "Region Skåne",
    "stockholm": "Region Stockholm",
    "uppsala": "Region Uppsala",
    "orebro": "Region Örebro län",
    "ostergotland": "Region Östergötland",
}


class ManifestError(Exception):
    pass


def document_id(path: Path) -> str:
    """A stable, URL-safe id from a file name: lowercase ASCII, digits, '-', '_'."""
    stem = unicodedata.normalize("NFKD", path.stem)
    stem = "".join(ch for ch in stem if not unicodedata.combining(ch)).lower()
    stem = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_")
    return stem[:120] or "dokument"


def load_manifest(folder: Path) -> dict[str, DocumentMeta]:
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ManifestError(f"{path}: invalid YAML ({error})") from error
    entries = raw.get("documents", {}) if isinstance(raw, dict) else {}
    if not isinstance(entries, dict):
        raise ManifestError(f"{path}: 'documents' must be a mapping of id to metadata")
    metas: dict[str, DocumentMeta] = {}
    for doc_id, fields in entries.items():
        try:
            metas[str(doc_id)] = DocumentMeta(document=str(doc_id), **(fields or {}))
        except (ValidationError, TypeError) as error:
            raise ManifestError(f"{path}: entry '{doc_id}': {error}") from error
    return _link_editions(metas, path)


def _link_editions(metas: dict[str, DocumentMeta], path: Path) -> dict[str, DocumentMeta]:
    """An entry with `supersedes: <older file stem>` is a new edition of that document: it
    takes the older one's document id, and both are labelled (their `edition`, else stem)."""
    superseded = {meta.supersedes for meta in metas.values() if meta.supersedes}
    linked: dict[str, DocumentMeta] = {}
    for stem, meta in metas.items():
        if not (meta.supersedes or stem in superseded):
            linked[stem] = meta
            continue
        root, seen = stem, {stem}
        while metas.get(root) is not None and metas[root].supersedes:
            root = metas[root].supersedes
            if root in seen:
                raise ManifestError(f"{path}: entry '{stem}': 'supersedes' goes round in a "
                                    "circle")
            seen.add(root)
        linked[stem] = meta.model_copy(update={"document": root, "edition": meta.edition or stem})
    return linked


def metadata_for(path: Path, manifest: dict[str, DocumentMeta]) -> DocumentMeta:
    doc_id = document_id(path)
    if doc_id in manifest:
        return manifest[doc_id]
    return derive_metadata(path)


def derive_metadata(path: Path) -> DocumentMeta:
    doc_id = document_id(path)
    prefix, _, rest = doc_id.partition("_")
    region = _REGIONS.get(prefix, "")
    words = (rest if region and rest else doc_id).replace("_", " ").replace("-", " ")
    year_match = re.search(r"(19|20)\d{2}", doc_id)
    return DocumentMeta(
        document=doc_id,
        title=words.strip().capitalize() or doc_id,
        region=region,
        doc_type="",
        year=int(year_match.group(0)) if year_match else None,
        source=path.name,
    )
