"""load_parser(): the encoder, tagger and normaliser, loaded once per process.

Degrades instead of dying: without the fine-tuned weights the parser runs on the lexicon and
the embeddings alone; without the encoder package (or numpy/scipy/safetensors/tokenizers) at all,
on the lexicon alone. Each fallback is logged as a warning once. Nothing here imports torch: the
encoder and tagger run in numpy (npbert.py).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_lock = threading.Lock()
_loaded: LoadedParser | None = None


@dataclass(frozen=True)
class LoadedParser:
    tagger: object | None  # SpanTagger
    normaliser: object | None  # Normaliser
    load_seconds: float
    mode: str  # "tagger" | "lexicon+embeddings" | "lexicon"
    plain_words: frozenset[str] = frozenset()  # words the tagger need not read (plain_words.py)


def load_parser(model_dir: Path | None = None, *, reload: bool = False) -> LoadedParser:
    """Load (once; cached per process) everything parse_prompt needs beyond the lexicon."""
    global _loaded
    with _lock:
        if _loaded is not None and not reload:
            return _loaded
        _loaded = _load(model_dir)
        return _loaded


def _load(model_dir: Path | None) -> LoadedParser:
    from pipeline.understanding.tagger import CONFIG_FILE, MODEL_DIR, WEIGHTS_FILE

    model_dir = model_dir or MODEL_DIR
    started = time.perf_counter()
    try:
        from pipeline.understanding.encoder import Encoder
        from pipeline.understanding.normalise import Normaliser

        encoder = Encoder.load()
        normaliser = Normaliser.load(encoder, cache_dir=model_dir)
    except Exception as exc:  # noqa: BLE001 -- no encoder package / numeric libraries: the lexicon still works
        log.warning("prompt parser: could not load the encoder (%s); using the lexicon only", exc)
        return LoadedParser(None, None, time.perf_counter() - started, "lexicon")
    if not (model_dir / WEIGHTS_FILE).exists() or not (model_dir / CONFIG_FILE).exists():
        log.warning("prompt parser: no tagger weights in %s; using the lexicon and embeddings only "
                    "(run `ampa train-parser` to make them)", model_dir)
        return LoadedParser(None, normaliser, time.perf_counter() - started, "lexicon+embeddings")
    try:
        from pipeline.understanding.tagger import SpanTagger

        tagger = SpanTagger.load(encoder, model_dir)
    except Exception as exc:  # noqa: BLE001 -- damaged weights must not stop the pipeline
        log.warning("prompt parser: tagger weights in %s unusable (%s); using the lexicon and embeddings only",
                    model_dir, exc)
        return LoadedParser(None, normaliser, time.perf_counter() - started, "lexicon+embeddings")
    from pipeline.understanding import plain_words, word_table

    plain = plain_words.load(model_dir, normaliser)
    normaliser.word_table = word_table.load(model_dir, normaliser)
    if not plain:
        log.info("prompt parser: no current %s in %s; the tagger reads every sentence", plain_words.PLAIN_FILE,
                 model_dir)
    return LoadedParser(tagger, normaliser, time.perf_counter() - started, "tagger", plain)
