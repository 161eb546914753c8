"""The word table: each non-plain vocabulary word's nearest vocabulary phrase per field, computed ahead.

A tagged span the spelling check does not place is mapped by embedding similarity, which costs a whole
6-layer encoder pass (10-30 ms on a long prompt; the weights are read from memory for every call). Most
such spans are one word, and a word's own embedding never changes, so `ampa train-parser` stores, for
every whole alphabetic word of the tokenizer's vocabulary that is not plain (plain_words.py: the plain
ones never reach the normaliser), the index of its nearest phrase in each field and the cosine. The
normaliser then answers a one-word span from the table exactly as from the encoder (same argmax, same
rounding and thresholds) and embeds only the rest. Stored beside the tagger weights with the same
fingerprint of the vocabulary phrases as plain_words.txt; a stale or missing table is not used.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.understanding import plain_words

log = logging.getLogger(__name__)

TABLE_FILE = "word_table.json"

Entry = dict[str, tuple[int, float]]  # field -> (index of the nearest phrase in normaliser.table[field], cosine)


def build_for_vocabulary(encoder: Any, normaliser: Any, plain: frozenset[str] | list[str]) -> dict[str, Entry]:
    """The table for every whole vocabulary word that is not plain (a few hundred: seconds to embed)."""
    plain = frozenset(plain)
    words = [w for w in plain_words.vocabulary_words() if w not in plain]
    return build(words, encoder.sentence_embeddings(words), normaliser)


def build(words: list[str], vectors: np.ndarray, normaliser: Any) -> dict[str, Entry]:
    """word -> its nearest phrase per field, from the words' sentence embeddings (`vectors`, one row each)."""
    table: dict[str, Entry] = {word: {} for word in words}
    for field, matrix in normaliser.matrices.items():
        sims = vectors @ matrix.T
        best, index = sims.max(axis=-1), sims.argmax(axis=-1)  # argmax: the first of equal phrases, as nearest_many
        for word, score, j in zip(words, best.tolist(), index.tolist()):
            table[word][field] = (int(j), float(score))
    return table


def save(table: dict[str, Entry], model_dir: Path, normaliser: Any) -> Path:
    path = model_dir / TABLE_FILE
    path.write_text(json.dumps({"fingerprint": plain_words.fingerprint(normaliser), "words": table},
                               separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    return path


def load(model_dir: Path, normaliser: Any) -> dict[str, Entry]:
    """The stored table, or {} (every span is embedded) when missing, unreadable or built for other phrases:
    unlike the plain-word list, a stale table would give answers the encoder does not."""
    path = model_dir / TABLE_FILE
    if not path.exists():
        return {}
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("%s unreadable; embedding every span", path)
        return {}
    if stored.get("fingerprint") != plain_words.fingerprint(normaliser):
        log.info("%s was built for other vocabulary phrases; run `ampa train-parser` to refresh it", path)
        return {}
    return {word: {field: (int(j), float(s)) for field, (j, s) in entry.items()}
            for word, entry in stored["words"].items()}
