"""The BM25 index files that several workers share in one data dir."""

from __future__ import annotations

import threading
from pathlib import Path

from rag.store.bm25 import LexicalIndex

TERMS = [["läkar", "tid", "bmm"], ["hembesök", "distriktssköterska"], ["vite", "avtal"]]


def test_workers_building_the_same_generation_at_once_all_get_an_index(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    sizes: list[int] = []
    start = threading.Barrier(6)

    def worker() -> None:
        try:
            start.wait()
            for _ in range(5):
                sizes.append(LexicalIndex.load_or_build(tmp_path, 7, TERMS).size)
        except BaseException as error:  # any error is the failure
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert sizes == [len(TERMS)] * 30
    assert [path.name for path in tmp_path.iterdir()] == ["g00000007"]  # no staging left


def test_a_newer_generation_replaces_older_ones_only(tmp_path: Path) -> None:
    LexicalIndex.load_or_build(tmp_path, 8, TERMS)
    LexicalIndex.load_or_build(tmp_path, 7, TERMS[:2])  # a lagging worker saves an old one
    assert sorted(path.name for path in tmp_path.iterdir()) == ["g00000007", "g00000008"]
    index = LexicalIndex.load_or_build(tmp_path, 9, TERMS)
    assert [path.name for path in tmp_path.iterdir()] == ["g00000009"]
    assert index.scores(["vite"]).argmax() == 2
