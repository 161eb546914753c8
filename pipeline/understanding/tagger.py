"""The span tagger: all-MiniLM-L6-v2 with its top layer(s) fine-tuned for token classification.

Storage (pipeline/understanding/model/): `tagger.safetensors` holds only the trained tensors
(the top `n_top` encoder layers as "top.{i}.<name>" and the classifier as "head.weight/bias"),
in float16 to keep the committed file small; `tagger.json` holds the labels and how it was
trained. Loading builds the package's encoder, deep-copies its top layers, overwrites them with
the stored tensors, and runs: embeddings -> frozen lower layers -> tuned top -> head.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.understanding.encoder import Encoder, torch_threads

MODEL_DIR = Path(__file__).resolve().parent / "model"
WEIGHTS_FILE = "tagger.safetensors"
CONFIG_FILE = "tagger.json"

# Span types. ERA and ENERGY are tagged so they are not mistaken for genres or moods.
SPAN_TYPES: tuple[str, ...] = ("GENRE", "MOOD", "INST", "EXCL", "ERA", "ENERGY")
LABELS: tuple[str, ...] = ("O", *(f"{p}-{t}" for t in SPAN_TYPES for p in ("B", "I")))


@dataclass(frozen=True)
class Span:
    label: str  # one of SPAN_TYPES
    start: int  # character offsets in the text given to tag()
    end: int
    text: str
    score: float  # mean probability of the span's tokens


def build_head(encoder: Encoder, n_top: int, n_labels: int = len(LABELS)) -> Any:
    """The trainable part: copies of the encoder's top n_top layers + a linear classifier."""
    import torch

    class TaggerTop(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.top = torch.nn.ModuleList(copy.deepcopy(layer) for layer in encoder.layers[-n_top:])
            for parameter in self.top.parameters():
                parameter.requires_grad_(True)  # the copies start frozen like the encoder
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(encoder.model.config.hidden_size, n_labels)

        def forward(self, hidden: Any, attention_mask: Any) -> Any:
            hidden = encoder.run_layers(hidden, attention_mask, list(self.top))
            return self.head(self.dropout(hidden))

    return TaggerTop()


def frozen_states(encoder: Encoder, input_ids: Any, attention_mask: Any, n_top: int) -> Any:
    """Hidden states after the frozen lower layers (what the trainable top receives)."""
    import torch

    with torch.inference_mode():
        hidden = encoder.embed_tokens(input_ids)
        return encoder.run_layers(hidden, attention_mask, encoder.layers[:-n_top]).clone()


class SpanTagger:
    """Tags genre / mood / instrument / exclusion / era / energy spans in a prompt."""

    def __init__(self, encoder: Encoder, top: Any, labels: tuple[str, ...], n_top: int, info: dict) -> None:
        self.encoder, self.top, self.labels, self.n_top, self.info = encoder, top, labels, n_top, info
        self.top.eval()

    @classmethod
    def load(cls, encoder: Encoder, model_dir: Path = MODEL_DIR) -> SpanTagger:
        import torch
        from safetensors.torch import load_file

        info = json.loads((model_dir / CONFIG_FILE).read_text())
        labels = tuple(info["labels"])
        top = build_head(encoder, info["n_top"], len(labels))
        state = {k: v.to(torch.float32) for k, v in load_file(str(model_dir / WEIGHTS_FILE)).items()}
        top.load_state_dict(state, strict=True)
        return cls(encoder, top, labels, info["n_top"], info)

    def tag(self, text: str) -> list[Span]:
        return self.tag_batch([text])[0]

    def tag_batch(self, texts: list[str]) -> list[list[Span]]:
        import torch

        if not texts:
            return []
        batch = self.encoder.encode(texts, offsets=True)
        with torch.inference_mode(), torch_threads(1):
            hidden = frozen_states(self.encoder, batch["input_ids"], batch["attention_mask"], self.n_top)
            probs = torch.softmax(self.top(hidden, batch["attention_mask"]), dim=-1)
        scores, ids = probs.max(dim=-1)
        return [self._spans(text, batch["offset_mapping"][row].tolist(), batch.word_ids(row), ids[row].tolist(),
                            scores[row].tolist())
                for row, text in enumerate(texts)]

    def _spans(self, text: str, offsets: list[list[int]], word_ids: list[int | None], ids: list[int],
               scores: list[float]) -> list[Span]:
        """BIO tokens -> character spans; a word takes the label of its first sub-token."""
        spans: list[Span] = []
        current: list[Any] | None = None  # [type, start, end, scores]
        previous_word = None
        for (start, end), word, label_id, score in zip(offsets, word_ids, ids, scores):
            if word is None:  # special tokens, padding
                continue
            continues_word = word == previous_word
            previous_word = word
            if continues_word and current is None:
                continue
            if continues_word:
                current[2] = end
                continue
            label = self.labels[label_id]
            kind = label[2:] if label != "O" else None
            if kind and (label.startswith("B-") or current is None or current[0] != kind):
                if current:
                    spans.append(self._span(text, current))
                current = [kind, start, end, [score]]
            elif kind and current is not None and current[0] == kind:
                current[2] = end
                current[3].append(score)
            else:
                if current:
                    spans.append(self._span(text, current))
                current = None
        if current:
            spans.append(self._span(text, current))
        return spans

    @staticmethod
    def _span(text: str, current: list[Any]) -> Span:
        kind, start, end, scores = current
        return Span(kind, start, end, text[start:end], sum(scores) / len(scores))
