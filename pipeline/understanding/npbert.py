"""BERT inference in numpy, so a parsing process imports neither torch nor transformers.

Why this exists: importing torch alone costs ~1.3 s and 250-340 MB in every `ampa generate`
process, bot and worker, which breaks the end-to-end speed and memory budgets. The encoder here is
small (all-MiniLM-L6-v2: 6 layers, width 384) and prompts are short, so a few float32 matrix
products per layer are all it takes. Training keeps transformers' `BertModel`
(`Encoder.load(backend="transformers")`); tensors carry the same names in both, so the package's
weights and the tagger's fine-tuned layers load into either, and
tests/pipeline/understanding/test_npbert.py holds the two forward passes equal.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import erf

Array = np.ndarray


@dataclass(frozen=True)
class BertConfig:
    hidden_size: int
    num_attention_heads: int
    intermediate_size: int
    num_hidden_layers: int
    vocab_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float

    @classmethod
    def from_file(cls, path: Path) -> BertConfig:
        raw = json.loads(path.read_text())
        if raw.get("hidden_act", "gelu") != "gelu" or raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{path}: only absolute-position, GELU BERT encoders are supported")
        return cls(**{name: raw[name] for name in cls.__dataclass_fields__})


# One layer's tensors, named as under transformers' `encoder.layer.{i}.` (and the tagger's `top.{i}.`).
LAYER_PARAMS: tuple[str, ...] = tuple(
    f"{block}.{part}"
    for block in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                  "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm")
    for part in ("weight", "bias")
)
EMBEDDING_PARAMS: tuple[str, ...] = (
    "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
    "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
)


def take(state: Mapping[str, Array], names: list[str], source: str) -> dict[str, Array]:
    """The named tensors as float32 (the tagger's are stored float16: the cast is exact); a missing one is an error."""
    missing = [name for name in names if name not in state]
    if missing:
        raise ValueError(f"{source}: weights missing for {missing[:3]}…")
    return {name: np.asarray(state[name], dtype=np.float32) for name in names}


def _dense(state: Mapping[str, Array], name: str, shape: tuple[int, int], source: str) -> tuple[Array, Array]:
    """A torch Linear ([out, in] weight) as (weight [in, out], bias): `x @ weight` on a contiguous
    [in, out] matrix is ~1.5x faster in BLAS than on the transposed view (measured at 5-20 tokens)."""
    weight, bias = state[f"{name}.weight"], state[f"{name}.bias"]
    if weight.shape != shape or bias.shape != shape[:1]:
        raise ValueError(f"{source}: {name} is {weight.shape}/{bias.shape}, expected {shape}")
    return np.ascontiguousarray(weight.T), bias


def _norm(state: Mapping[str, Array], name: str, width: int, source: str) -> tuple[Array, Array]:
    weight, bias = state[f"{name}.weight"], state[f"{name}.bias"]
    if weight.shape != (width,) or bias.shape != (width,):
        raise ValueError(f"{source}: {name} is {weight.shape}/{bias.shape}, expected ({width},)")
    return weight, bias


@dataclass(frozen=True, eq=False)
class Layer:
    """One encoder layer (BertLayer): self-attention, then the feed-forward block, each with a
    residual LayerNorm. Weights are float32, [in, out]."""

    qkv: tuple[Array, Array]  # query, key and value side by side: one product instead of three
    attention_out: tuple[Array, Array]
    attention_norm: tuple[Array, Array]
    intermediate: tuple[Array, Array]
    output: tuple[Array, Array]
    output_norm: tuple[Array, Array]
    heads: int
    eps: float

    @classmethod
    def from_state(cls, state: Mapping[str, Array], prefix: str, config: BertConfig, source: str) -> Layer:
        """The layer stored under `prefix` ("encoder.layer.3.", "top.0."); wrong shapes are an error."""
        w = take(state, [prefix + name for name in LAYER_PARAMS], source)
        width, inner = config.hidden_size, config.intermediate_size
        q, k, v = (_dense(w, f"{prefix}attention.self.{n}", (width, width), source) for n in ("query", "key", "value"))
        return cls(
            qkv=(np.concatenate([q[0], k[0], v[0]], axis=1), np.concatenate([q[1], k[1], v[1]])),
            attention_out=_dense(w, f"{prefix}attention.output.dense", (width, width), source),
            attention_norm=_norm(w, f"{prefix}attention.output.LayerNorm", width, source),
            intermediate=_dense(w, f"{prefix}intermediate.dense", (inner, width), source),
            output=_dense(w, f"{prefix}output.dense", (width, inner), source),
            output_norm=_norm(w, f"{prefix}output.LayerNorm", width, source),
            heads=config.num_attention_heads, eps=config.layer_norm_eps,
        )

    def __call__(self, hidden: Array, mask: Array) -> Array:
        """hidden [batch, seq, width], mask [batch, 1, 1, seq] additive -> [batch, seq, width]."""
        attended = layer_norm(_linear(self._attend(hidden, mask), self.attention_out) + hidden,
                              self.attention_norm, self.eps)
        inner = gelu(_linear(attended, self.intermediate))
        return layer_norm(_linear(inner, self.output) + attended, self.output_norm, self.eps)

    def _attend(self, hidden: Array, mask: Array) -> Array:
        batch, seq, width = hidden.shape
        size = width // self.heads
        # [batch, seq, 3 * width] -> 3 x [batch, heads, seq, size]
        query, key, value = _linear(hidden, self.qkv).reshape(batch, seq, 3, self.heads, size).transpose(2, 0, 3, 1, 4)
        scores = query @ key.transpose(0, 1, 3, 2) * np.float32(1 / np.sqrt(size)) + mask
        context = softmax(scores) @ value
        return context.transpose(0, 2, 1, 3).reshape(batch, seq, width)


def _linear(x: Array, dense: tuple[Array, Array]) -> Array:
    """x [..., in] @ weight + bias as ONE matrix product: numpy runs a stacked [batch, seq, in] @ [in, out]
    as one BLAS call per batch row, each reading the whole weight matrix from memory again (the weights,
    not the arithmetic, are what a small batch waits for: 5 spans cost ~5x one span that way)."""
    weight, bias = dense
    return (x.reshape(-1, x.shape[-1]) @ weight + bias).reshape(*x.shape[:-1], weight.shape[1])


def layer_norm(x: Array, norm: tuple[Array, Array], eps: float) -> Array:
    weight, bias = norm
    centred = x - x.mean(-1, keepdims=True)
    variance = (centred * centred).mean(-1, keepdims=True)  # biased, as torch's LayerNorm
    return centred / np.sqrt(variance + np.float32(eps)) * weight + bias


def gelu(x: Array) -> Array:
    """BERT's "gelu" is the exact, erf form (not the tanh approximation)."""
    return np.float32(0.5) * x * (np.float32(1.0) + erf(x * np.float32(1 / np.sqrt(2))))


def softmax(x: Array) -> Array:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def additive_mask(attention_mask: Array) -> Array:
    """[batch, seq] 1/0 -> [batch, 1, 1, seq]: 0 where a token is real, float32's lowest where it is padding
    (what transformers adds, so a padded row gives what it gives alone)."""
    return (1.0 - attention_mask[:, None, None, :].astype(np.float32)) * np.finfo(np.float32).min


class NumpyBert:
    """Embeddings + encoder layers of a BERT checkpoint (transformers' names), float32."""

    def __init__(self, config: BertConfig, embeddings: dict[str, Array], layers: list[Layer]) -> None:
        self.config, self.embeddings, self.layers = config, embeddings, layers

    @classmethod
    def from_pretrained(cls, folder: Path) -> NumpyBert:
        from safetensors import safe_open

        config = BertConfig.from_file(folder / "config.json")
        source = str(folder / "model.safetensors")
        # Read layer by layer (~87 MB float32 in all; the pooler and position_ids are skipped), so
        # only one layer's untransposed tensors are held beside the finished ones while loading.
        with safe_open(source, framework="np") as f:
            stored = set(f.keys())  # noqa: SIM118 -- safe_open is not a dict

            def read(prefix: str, names: tuple[str, ...]) -> dict[str, Array]:
                return {prefix + n: f.get_tensor(prefix + n) for n in names if prefix + n in stored}

            embeddings = take(read("", EMBEDDING_PARAMS), list(EMBEDDING_PARAMS), source)
            layers = [Layer.from_state(read(f"encoder.layer.{i}.", LAYER_PARAMS), f"encoder.layer.{i}.", config, source)
                      for i in range(config.num_hidden_layers)]
        return cls(config, embeddings, layers)

    def embed(self, input_ids: Array) -> Array:
        e = self.embeddings
        summed = (
            e["embeddings.word_embeddings.weight"][input_ids]
            + e["embeddings.position_embeddings.weight"][: input_ids.shape[1]][None]
            + e["embeddings.token_type_embeddings.weight"][0]  # single-segment input: token type 0 throughout
        )
        norm = (e["embeddings.LayerNorm.weight"], e["embeddings.LayerNorm.bias"])
        return layer_norm(summed, norm, self.config.layer_norm_eps)

    @staticmethod
    def run_layers(hidden: Array, attention_mask: Array, layers: list[Layer]) -> Array:
        mask = additive_mask(attention_mask)
        with one_blas_thread():
            for layer in layers:
                hidden = layer(hidden, mask)
        return hidden


# ---------------------------------------------------------------------------- BLAS threads
# Multi-threaded BLAS on these small products is slightly faster on an idle machine and ~10x slower
# on a busy one (measured on 2 cores with both busy: 500 ms vs 50 ms per tag), the same trap
# torch's thread pool had. The thread count is process-wide, so parses take turns under a lock
# and the count is restored after. threadpoolctl (installed with librosa's scikit-learn) sets it;
# without it the BLAS default stays.
_BLAS_LOCK = threading.RLock()
_controller: Any = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    controller = _blas_controller()
    if controller is None:
        yield
        return
    with _BLAS_LOCK, controller.limit(limits=1, user_api="blas"):
        yield


def _blas_controller() -> Any:
    global _controller
    if _controller is None:
        with _BLAS_LOCK:
            if _controller is None:
                try:
                    from threadpoolctl import ThreadpoolController

                    _controller = ThreadpoolController()  # finds the BLAS numpy loaded (~2 ms, once)
                except Exception:  # noqa: BLE001 -- not installed or unusable: keep the BLAS default
                    _controller = False
    return _controller or None
