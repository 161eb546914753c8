"""The encoder in torch + transformers' BertModel: what training fine-tunes on.

Only training (`ampa train-parser`) and the parity tests import this; parsing uses the numpy
Encoder in encoder.py. The methods mirror it on torch tensors, so `build_head` and
`frozen_states` (tagger.py) run the same layers the numpy tagger runs at parse time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.understanding.encoder import MAX_TOKENS, base_model_path

_THREADS_LOCK = threading.RLock()


@contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run torch on n threads, then restore. One thread is fastest for a short prompt, and far
    faster than two on a shared, busy machine (measured: 30 ms vs 495 ms per tag under load)."""
    with _THREADS_LOCK:  # the thread count is process-wide: callers from several threads take turns
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)


@dataclass
class TorchEncoder:
    """Tokenizer + transformers' BertModel (frozen), with helpers to run some of its layers by hand."""

    tokenizer: Any  # BertTokenizerFast
    model: Any  # transformers BertModel

    @classmethod
    def load(cls, path: Path | None = None) -> TorchEncoder:
        from transformers import BertModel, BertTokenizerFast
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        path = path or base_model_path()
        tokenizer = BertTokenizerFast.from_pretrained(str(path), local_files_only=True)
        model = BertModel.from_pretrained(str(path), local_files_only=True, add_pooling_layer=False)
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

    def sentence_embeddings(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings as a float32 array, like the numpy Encoder's."""
        chunks = [torch.zeros(0, self.model.config.hidden_size)]
        with torch.inference_mode(), torch_threads(1):
            for i in range(0, len(texts), batch_size):
                batch = self.encode(texts[i:i + batch_size])
                hidden = self.run_layers(self.embed_tokens(batch["input_ids"]), batch["attention_mask"], self.layers)
                weights = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                chunks.append(torch.nn.functional.normalize(pooled, dim=-1))
            return torch.cat(chunks).numpy().astype(np.float32)
