"""Plain words: English words that cannot name a genre, mood or instrument, so the tagger need not read them.

The tagger is the parser's costliest step (~0.4 ms per token per process on one core), and long prompts
(a 60-word description) are mostly words like "recording", "features", "playing". A tagged span only
counts when it is close to a vocabulary phrase (cosine >= 0.75) or a misspelling of one; a word whose own
embedding is far from every vocabulary phrase (< the normaliser's 0.62) cannot give a slug by itself.
So a sentence made only of such plain words, words the lexicon already read, and numbers is skipped, and
the tagger reads the other sentences only. The list is built from the encoder's own word-piece vocabulary
(every whole alphabetic word in it), not from any evaluation set, and stored beside the tagger weights
with a fingerprint of the vocabulary phrases, so an edited lexicon rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.understanding import lexicon as lx

log = logging.getLogger(__name__)

PLAIN_FILE = "plain_words.txt"
PLAIN_SIMILARITY = 0.75  # the parser keeps a tagged span only at >= 0.75 (TAGGER_MIN_SIMILARITY) or as a misspelling
_WORD = re.compile(r"[a-z]+")


def fingerprint(normaliser: Any) -> str:
    return hashlib.sha256(json.dumps(normaliser.table, sort_keys=True).encode()).hexdigest()[:16]


def vocabulary_words() -> list[str]:
    """Every whole alphabetic word of the tokenizer's vocabulary, sorted."""
    from pipeline.understanding.encoder import base_model_path

    vocab = json.loads((base_model_path() / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    return sorted(w for w in vocab if w.isascii() and w.isalpha() and w.islower())


def build(encoder: Any, normaliser: Any) -> list[str]:
    """Every whole alphabetic word of the tokenizer's vocabulary that maps to no vocabulary phrase."""
    return plain_among(vocabulary_words(), encoder, normaliser)


def plain_among(words: list[str], encoder: Any, normaliser: Any) -> list[str]:
    """The words whose own embedding is far from every vocabulary phrase (a lexicon form is near itself)."""
    vectors = encoder.sentence_embeddings(words, batch_size=256)
    best = np.max(np.stack([(vectors @ m.T).max(axis=-1) for m in normaliser.matrices.values()]), axis=0)
    return [w for w, sim in zip(words, best.tolist()) if sim < PLAIN_SIMILARITY]


def save(words: list[str], model_dir: Path, normaliser: Any) -> Path:
    path = model_dir / PLAIN_FILE
    path.write_text(f"# fingerprint {fingerprint(normaliser)}\n" + "\n".join(words) + "\n", encoding="utf-8")
    return path


def load(model_dir: Path, normaliser: Any) -> frozenset[str]:
    """The stored list, or an empty set (the tagger then reads everything) when missing.

    A list built before the lexicon last changed is still used (a word the lexicon now knows is read by
    the lexicon first anyway) and logged, so `ampa train-parser` can be run to refresh it."""
    path = model_dir / PLAIN_FILE
    if not path.exists():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != f"# fingerprint {fingerprint(normaliser)}":
        log.info("%s was built for other vocabulary phrases; run `ampa train-parser` to refresh it", path)
    return frozenset(line for line in lines[1:] if line and not line.startswith("#"))


def needs_tagger(sentence: str, known: list[tuple[int, int]], offset: int, plain: frozenset[str],
                 ignored: frozenset[str] = frozenset()) -> bool:
    """True when a sentence has a word that is neither plain, nor one the parser ignores in a tagged span
    (`ignored`: field names like "song", "tempo"), nor already read by the lexicon."""
    if not plain:
        return True
    for m in _WORD.finditer(sentence.lower()):
        start, end = offset + m.start(), offset + m.end()
        if m.group(0) in plain or m.group(0) in ignored or any(s <= start and end <= e for s, e in known):
            continue
        return True
    return False
