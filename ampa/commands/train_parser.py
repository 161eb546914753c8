"""`ampa train-parser`: fine-tune the span tagger (top layer + head of all-MiniLM-L6-v2) on this CPU."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-parser",
        help="fine-tune the prompt tagger (minutes on a CPU; reproducible from --seed)",
        description="Train the span tagger on the generated + hand-written data and save its small weights.",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed -> same weights)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="where to write the weights (default: the package)")
    parser.add_argument("--examples", type=int, default=3000, help="how many generated examples")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--top-layers", type=int, default=1, help="how many top encoder layers to fine-tune")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps (smoke tests)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.understanding.tagger import MODEL_DIR
    from pipeline.understanding.training.train import TrainConfig, train

    if args.examples < 1 or args.epochs < 1 or args.top_layers not in range(1, 7):
        print("--examples and --epochs must be positive, --top-layers between 1 and 6")
        return 2
    config = TrainConfig(seed=args.seed, n_generated=args.examples, epochs=args.epochs, n_top=args.top_layers,
                         max_steps=args.max_steps)
    out = args.out or MODEL_DIR
    figures = train(config, out)
    figures["plain_words"] = _refresh_plain_words(out)
    print(json.dumps({"out": str(out), **figures}, indent=2))
    return 0


def _refresh_plain_words(out: Path) -> int:
    """Rebuild the tagger's plain-word list and the normaliser's word table for the current lexicon
    (pipeline/understanding/plain_words.py, word_table.py)."""
    from pipeline.understanding import plain_words, word_table
    from pipeline.understanding.encoder import Encoder
    from pipeline.understanding.normalise import Normaliser

    encoder = Encoder.load()
    normaliser = Normaliser.load(encoder, cache_dir=out)
    words = plain_words.build(encoder, normaliser)
    plain_words.save(words, out, normaliser)
    word_table.save(word_table.build_for_vocabulary(encoder, normaliser, words), out, normaliser)
    return len(words)
