"""The span tagger: all-MiniLM-L6-v2 with its top layer(s) fine-tuned for token classification.

Storage (pipeline/understanding/model/): `tagger.safetensors` holds only the trained tensors
(the top `n_top` encoder layers as "top.{i}.<name>" and the classifier as "head.weight/bias"),
in float16 to keep the committed file small; `tagger.json` holds the labels and how it was
trained. Training (torch): `build_head` copies the encoder's top layers + a linear head and
`frozen_states` runs the layers below. Parsing (numpy, no torch): `SpanTagger.load` reads the
stored tensors as float32 and runs embeddings -> frozen lower layers -> tuned top -> head -> softmax.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.understanding.encoder import Batch, Encoder
from pipeline.understanding.npbert import LAYER_PARAMS, Layer, softmax, take

if TYPE_CHECKING:
    from pipeline.understanding.torch_encoder import TorchEncoder

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


# ----------------------------------------------------------------------------- training (torch)
def build_head(encoder: TorchEncoder, n_top: int, n_labels: int = len(LABELS)) -> Any:
    """The trainable part: copies of the (torch) encoder's top n_top layers + a linear classifier.
    Its state_dict names ("top.{i}.…", "head.…") are what SpanTagger.load reads."""
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


def frozen_states(encoder: TorchEncoder, input_ids: Any, attention_mask: Any, n_top: int) -> Any:
    """Hidden states after the (torch) encoder's frozen lower layers (what the trainable top receives)."""
    import torch

    with torch.inference_mode():
        hidden = encoder.embed_tokens(input_ids)
        return encoder.run_layers(hidden, attention_mask, encoder.layers[:-n_top]).clone()


# ----------------------------------------------------------------------------- parsing (numpy)
class SpanTagger:
    """Tags genre / mood / instrument / exclusion / era / energy spans in a prompt."""

    def __init__(self, encoder: Encoder, top: list[Layer], head: dict[str, np.ndarray], labels: tuple[str, ...],
                 n_top: int, info: dict) -> None:
        self.encoder, self.top, self.head, self.labels, self.n_top, self.info = encoder, top, head, labels, n_top, info

    @classmethod
    def load(cls, encoder: Encoder, model_dir: Path = MODEL_DIR) -> SpanTagger:
        """Strict, as torch's load_state_dict(strict=True) was: a missing, extra or misshapen tensor is an error
        (the loader then falls back to the lexicon and embeddings)."""
        from safetensors.numpy import load_file

        if not isinstance(encoder, Encoder):
            raise TypeError("SpanTagger runs on the numpy Encoder; training's TorchEncoder goes with build_head")
        info = json.loads((model_dir / CONFIG_FILE).read_text())
        labels, n_top = tuple(info["labels"]), int(info["n_top"])
        config = encoder.model.config
        if not 1 <= n_top <= config.num_hidden_layers:
            raise ValueError(f"n_top={n_top} outside 1..{config.num_hidden_layers}")
        source = str(model_dir / WEIGHTS_FILE)
        state = load_file(source)  # float16 on disk; `take` casts to float32 (exactly, as torch's .to did)
        expected = {f"top.{i}.{name}" for i in range(n_top) for name in LAYER_PARAMS} | {"head.weight", "head.bias"}
        if set(state) - expected:
            raise ValueError(f"{source}: unexpected tensors {sorted(set(state) - expected)[:3]}")
        top = [Layer.from_state(state, f"top.{i}.", config, source) for i in range(n_top)]
        head = take(state, ["head.weight", "head.bias"], source)
        if head["head.weight"].shape != (len(labels), config.hidden_size) or head["head.bias"].shape != (len(labels),):
            raise ValueError(f"{source}: the head does not fit {len(labels)} labels x {config.hidden_size}")
        return cls(encoder, top, head, labels, n_top, info)

    def probabilities(self, batch: Batch) -> np.ndarray:
        """[batch, seq, labels] label probabilities for an encoded batch."""
        hidden = self.encoder.embed_tokens(batch["input_ids"])
        hidden = self.encoder.run_layers(hidden, batch["attention_mask"], self.encoder.layers[:-self.n_top] + self.top)
        return softmax(hidden @ self.head["head.weight"].T + self.head["head.bias"])

    def tag(self, text: str) -> list[Span]:
        return self.tag_batch([text])[0]

    def tag_batch(self, texts: list[str]) -> list[list[Span]]:
        if not texts:
            return []
        batch = self.encoder.encode(texts, offsets=True)
        probs = self.probabilities(batch)
        scores, ids = probs.max(axis=-1), probs.argmax(axis=-1)
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
