"""BERT inference in plain torch, so a parsing process never imports transformers.

Why this exists: importing transformers costs 2.7 s and ~150 MB on the 2-core machine, which alone
breaks the parser's budget (load ≤ 3 s, ≤ 400 MB). Training keeps using transformers' `BertModel`
(`Encoder.load(backend="transformers")`); the modules here carry the same names, so the package's
weights and the tagger's fine-tuned layers load into either, and
tests/pipeline/understanding/test_lightbert.py holds the two forward passes equal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


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


class _SelfAttention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.heads = config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        batch, seq, width = hidden.shape

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.view(batch, seq, self.heads, width // self.heads).transpose(1, 2)

        context = F.scaled_dot_product_attention(
            heads(self.query(hidden)), heads(self.key(hidden)), heads(self.value(hidden)), attn_mask=mask
        )
        return context.transpose(1, 2).reshape(batch, seq, width)


class _Residual(nn.Module):
    """dense → (dropout) → LayerNorm(x + residual): BERT's 'output' blocks."""

    def __init__(self, width_in: int, width_out: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(width_in, width_out)
        self.LayerNorm = nn.LayerNorm(width_out, eps=eps)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class _Attention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = _SelfAttention(config)
        self.output = _Residual(config.hidden_size, config.hidden_size, config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.output(self.self(hidden, mask), hidden)


class _Intermediate(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(hidden))  # exact (erf) GELU, as BERT's "gelu"


class BertLayer(nn.Module):
    """One encoder layer; `forward(hidden, attention_mask=additive_mask)` like transformers' BertLayer."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = _Attention(config)
        self.intermediate = _Intermediate(config)
        self.output = _Residual(config.intermediate_size, config.hidden_size, config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        attended = self.attention(hidden, attention_mask)
        return self.output(self.intermediate(attended), attended)


class _Embeddings(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=0)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        summed = (
            self.word_embeddings(input_ids)
            + self.position_embeddings(positions)[None]
            + self.token_type_embeddings.weight[0]  # single-segment input: token type 0 throughout
        )
        return self.LayerNorm(summed)


class _Stack(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))


class LightBert(nn.Module):
    """Embeddings + encoder layers, named as in transformers so the same weights load."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Stack(config)

    @classmethod
    def from_pretrained(cls, folder: Path) -> LightBert:
        from safetensors.torch import load_file

        model = cls(BertConfig.from_file(folder / "config.json"))
        state = load_file(str(folder / "model.safetensors"))
        wanted = model.state_dict()
        missing = [name for name in wanted if name not in state]
        if missing:
            raise ValueError(f"{folder}: weights missing for {missing[:3]}…")
        model.load_state_dict({name: state[name] for name in wanted}, strict=True)
        return model.eval()


class Batch(dict):
    """What `Encoder.encode` returns: tensors by name, plus `word_ids(row)` as a fast tokenizer gives."""

    def __init__(self, encodings: list[Any], offsets: bool) -> None:
        super().__init__(
            input_ids=torch.tensor([e.ids for e in encodings], dtype=torch.long),
            attention_mask=torch.tensor([e.attention_mask for e in encodings], dtype=torch.long),
        )
        if offsets:
            self["offset_mapping"] = torch.tensor([e.offsets for e in encodings], dtype=torch.long)
        self._encodings = encodings

    def word_ids(self, row: int) -> list[int | None]:
        return list(self._encodings[row].word_ids)


class FastTokenizer:
    """The package's tokenizer.json through the `tokenizers` library: pad to the longest, cut at max_length."""

    def __init__(self, folder: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_length)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def __call__(self, texts: list[str], *, return_offsets_mapping: bool = False, **_: Any) -> Batch:
        return Batch(self._tokenizer.encode_batch(texts), offsets=return_offsets_mapping)
