"""What keeps a search fast at 1000x: the validity mask from bounds computed once per
snapshot list (and right for a new list), and Chroma counted only while it may be empty."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from rag.models import Chunk, Filters
from rag.retrieve.as_of import validity_mask
from rag.settings import Settings
from rag.store.vectors import VectorStore
from tests.helpers import shared_embedder


def chunk(index: int, valid_from: date | None = None, valid_to: date | None = None) -> Chunk:
    return Chunk(chunk_id=f"c{index}", document=f"d{index % 3}", title="T",
                 text=f"Vårdcentralen ska erbjuda hembesök inom {index} dygn.",
                 content_hash=f"h{index}", valid_from=valid_from, valid_to=valid_to)


def expected(chunks: list[Chunk], day: date, versions: str) -> np.ndarray:
    if versions == "as_of":
        return np.array([c.valid_on(day) for c in chunks], dtype=np.float32)
    return np.array([c.valid_to is not None and c.valid_to <= day for c in chunks],
                    dtype=np.float32)


def test_the_validity_mask_is_the_per_chunk_rule_and_follows_a_new_list() -> None:
    start = date(2025, 1, 1)
    chunks = [chunk(i, start + timedelta(days=30 * (i % 4)) if i % 3 else None,
                    start + timedelta(days=90 + 30 * (i % 5)) if i % 2 else None)
              for i in range(40)]
    for day in (date(2024, 6, 1), start, date(2025, 3, 15), date(2025, 5, 1), date(2027, 1, 1)):
        for versions in ("as_of", "superseded"):
            mask = validity_mask(chunks, day, versions)  # type: ignore[arg-type]
            want = expected(chunks, day, versions)
            if mask is None:
                assert versions == "as_of" and want.all()
            else:
                np.testing.assert_array_equal(mask, want)
    assert validity_mask([chunk(i) for i in range(5)], start) is None  # all in force
    # The next generation is a new list: its own bounds, not the cached ones.
    changed = [*chunks[:-1], chunk(99, valid_to=date(2025, 2, 1))]
    mask = validity_mask(changed, date(2025, 3, 1))
    assert mask is not None and mask[-1] == 0.0
    np.testing.assert_array_equal(mask, expected(changed, date(2025, 3, 1), "as_of"))


def test_a_query_after_every_vector_is_deleted_finds_nothing(tmp_path: Path) -> None:
    embedder = shared_embedder()
    store = VectorStore(Settings(data_dir=tmp_path), embedder)
    try:
        assert store.query(embedder.embed_query("hembesök"), 5, Filters()) == []
        chunks = [chunk(i) for i in range(3)]
        store.upsert(chunks, embedder.embed_passages([c.text for c in chunks]))
        hits = store.query(embedder.embed_query("hembesök"), 5, Filters())
        assert {chunk_id for chunk_id, _ in hits} == {"c0", "c1", "c2"}
        store.delete(["c0", "c1", "c2"])
        assert store.query(embedder.embed_query("hembesök"), 5, Filters()) == []
    finally:
        store.close()


def test_a_changed_snapshot_carries_the_validity_bounds_forward() -> None:
    from rag.store.store import Snapshot
    from rag.store.validity import validity_bounds

    start = date(2025, 1, 1)
    chunks = [chunk(i, start + timedelta(days=i) if i % 2 else None,
                    start + timedelta(days=100 + i) if i % 3 == 0 else None)
              for i in range(12)]
    chunks.sort(key=lambda item: item.document)  # a document's chunks next to each other
    snapshot = Snapshot.build(1, chunks, [[f"t{i}"] for i in range(len(chunks))])
    snapshot.validity_bounds()
    replacement = [chunk(50 + i, valid_to=date(2025, 2, i + 1)) for i in range(2)]
    replacement = [item.model_copy(update={"document": "d1"}) for item in replacement]
    changed = snapshot.changed(2, {"d1"}, replacement, [["x"], ["y"]])
    assert changed._bounds is not None  # carried, not rebuilt
    for carried, fresh in zip(changed.validity_bounds(), validity_bounds(changed.chunks),
                              strict=True):
        np.testing.assert_array_equal(carried, fresh)
    assert [item.document for item in changed.chunks].count("d1") == 2
