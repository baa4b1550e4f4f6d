"""The check a server makes before serving a catalog: intact, attached, and not gone back.

The catalog's generation only ever grows, and every write records it beside the catalog
(`catalog.sqlite3.highwater`). A catalog whose generation is below the recorded one lost
accepted writes (an old copy put back, or a WAL deleted under a live process), and serving
it would hide that; the server refuses instead and says what to do.
"""

from __future__ import annotations

from rag.store.catalog import Catalog


class CatalogIntegrityError(Exception):
    """The catalog must not be served; the message says why and what to do."""


def verify_catalog(catalog: Catalog) -> int:
    """Check the catalog on start; returns its generation or raises CatalogIntegrityError."""
    problems = [row for row in catalog.quick_check() if row != "ok"]
    if problems:
        raise CatalogIntegrityError(
            f"the catalog {catalog.path} is damaged (PRAGMA quick_check: "
            f"{'; '.join(problems[:3])}): restore it from a backup, then `styrdok reindex`")
    if not catalog.wal_path.exists():
        raise CatalogIntegrityError(
            f"the catalog {catalog.path} is open but has no WAL file: another program is "
            "interfering with the data dir; stop it and start again")
    catalog.check_attached()
    generation = catalog.generation()
    recorded = catalog.highwater()
    if generation < recorded:
        raise CatalogIntegrityError(
            f"the catalog {catalog.path} went backwards: generation {generation}, but "
            f"generation {recorded} was already served from it, so accepted writes are "
            "missing. Refusing to serve it. Put the newest copy back (and run `styrdok "
            "reindex`), or, to accept this catalog as it is, delete "
            f"{catalog.highwater_path}")
    catalog.record_highwater(generation)
    return generation
