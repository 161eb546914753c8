"""Map a free-text span onto the canonical vocabulary by sentence-embedding similarity.

Each slug is described by phrases (its lexicon surface forms plus a plain description); their
mean-pooled all-MiniLM-L6-v2 embeddings are computed once and cached next to the tagger weights
(keyed by a hash of the phrases, so an edited lexicon recomputes them). A span maps to the slug
of its nearest phrase when the cosine similarity clears the field's threshold; otherwise it is
unknown and the caller reports it instead of forcing it onto a near slug. A one-word span found in the
word table (word_table.py, loaded by the loader) is answered from it without an encoder pass, and the
spelling check runs difflib only on the forms that can pass its bounds (spelling.py): same answers.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.understanding import lexicon as lx
from pipeline.understanding.spelling import CloseMatcher
from pipeline.vocabulary import GENRES, INSTRUMENTS, MOODS

log = logging.getLogger(__name__)

CACHE_FILE = "vocab_embeddings.safetensors"
# Tuned on the generator's held-apart paraphrases: below these, a span is "unknown", not a slug.
THRESHOLDS = {"genres": 0.62, "moods": 0.62, "instruments": 0.62}
FUZZY_CUTOFF = 0.88  # "tecno"/"techno" 0.91, "nostalgik" 0.89; "swingin"/"singing" 0.86 must not match

_DESCRIPTIONS: dict[str, str] = {
    "lofi-hiphop": "lo-fi hip hop beats to study and relax to", "hip-hop": "hip hop rap instrumental beat",
    "trap": "trap beat with 808s and hi-hat rolls", "synthwave": "80s retro synthwave night drive",
    "house": "house music four on the floor dance", "techno": "techno warehouse rave music",
    "trance": "trance music with euphoric supersaws", "drum-and-bass": "drum and bass fast breakbeats",
    "dubstep": "dubstep wobble bass drops", "ambient": "ambient drone soundscape",
    "cinematic": "cinematic orchestral film score", "classical": "classical music composer piece",
    "pop": "pop song", "rock": "rock band with guitars", "metal": "heavy metal music",
    "jazz": "jazz music", "blues": "blues music", "funk": "funk groove music", "disco": "disco dance music",
    "reggae": "reggae music", "latin": "latin music dance rhythm", "folk": "folk acoustic music",
    "country": "country and western music", "rnb": "r&b soul music", "chiptune": "8-bit video game chiptune",
    "happy": "happy cheerful", "sad": "sad sorrowful", "dark": "dark sinister ominous", "calm": "calm peaceful",
    "energetic": "energetic lively", "epic": "epic heroic grand", "romantic": "romantic sensual",
    "mysterious": "mysterious enigmatic", "dreamy": "dreamy ethereal", "aggressive": "aggressive angry",
    "uplifting": "uplifting hopeful", "melancholic": "melancholic wistful", "nostalgic": "nostalgic memories",
    "tense": "tense suspense", "playful": "playful whimsical", "chill": "chill laid-back mellow",
    "piano": "piano", "electric-piano": "electric piano rhodes", "organ": "organ", "acoustic-guitar": "acoustic guitar",
    "electric-guitar": "electric guitar", "bass": "bass guitar", "synth-bass": "synth bass", "drums": "drums",
    "strings": "string section", "violin": "violin", "cello": "cello", "brass": "brass section", "trumpet": "trumpet",
    "saxophone": "saxophone", "flute": "flute", "choir": "choir", "synth-lead": "lead synth", "synth-pad": "synth pad",
    "bells": "bells", "harp": "harp", "marimba": "marimba", "vocals": "vocals singing",
}


def phrases() -> dict[str, list[tuple[str, str]]]:
    """field -> [(slug, phrase)] describing every slug."""
    table: dict[str, list[tuple[str, str]]] = {}
    for field, slugs, forms in (("genres", GENRES, lx.GENRE_FORMS), ("moods", MOODS, lx.MOOD_FORMS),
                                ("instruments", INSTRUMENTS, lx.INSTRUMENT_FORMS)):
        rows: list[tuple[str, str]] = []
        for slug in slugs:
            rows.append((slug, _DESCRIPTIONS.get(slug, slug.replace("-", " "))))
            rows += [(slug, form) for form in forms.get(slug, ()) if form.isascii()]
        table[field] = rows
    return table


def _fingerprint(table: dict[str, list[tuple[str, str]]]) -> str:
    return hashlib.sha256(json.dumps(table, sort_keys=True).encode()).hexdigest()[:16]


class Normaliser:
    """nearest(text, field) -> (slug, similarity) or None."""

    def __init__(self, encoder: Any, table: dict[str, list[tuple[str, str]]], matrices: dict[str, np.ndarray]) -> None:
        self.encoder, self.table, self.matrices = encoder, table, matrices
        self._forms: dict[str, dict[str, str]] = {}
        self._matchers: dict[str, CloseMatcher] = {}
        self._spelled: dict[tuple[str, str, float], tuple[str, float] | None] = {}
        self._embedded: dict[str, np.ndarray] = {}  # span text -> its sentence embedding (spans recur)
        self.word_table: dict[str, dict[str, tuple[int, float]]] = {}  # word_table.py: one-word spans, no encoder

    @classmethod
    def load(cls, encoder: Any, cache_dir: Path | None = None) -> Normaliser:
        """`encoder`: the numpy Encoder (parsing) or training's TorchEncoder; both give float32 arrays."""
        table = phrases()
        fingerprint = _fingerprint(table)
        matrices = _read_cache(cache_dir, fingerprint) if cache_dir else None
        if matrices is None:
            matrices = {field: encoder.sentence_embeddings([p for _, p in rows]) for field, rows in table.items()}
            if cache_dir:
                _write_cache(cache_dir, fingerprint, matrices)
        return cls(encoder, table, matrices)

    def nearest(self, text: str, field: str) -> tuple[str, float] | None:
        found = self.nearest_many([text], field)[0]
        return found

    def nearest_many(self, texts: list[str], field: str) -> list[tuple[str, float] | None]:
        """Misspellings of a known form first ("agressive", "tecno"), then embedding similarity: a one-word
        text the word table holds is answered from it (the encoder's own figures, computed ahead), the rest
        from one encoder call."""
        if not texts:
            return []
        out: list[tuple[str, float] | None] = [self.spelled_like(t, field) for t in texts]
        todo = [i for i, found in enumerate(out) if found is None]
        if not todo:
            return out
        nearest: dict[int, tuple[int, float]] = {}  # text index -> (phrase index, cosine)
        for i in todo:
            entry = self.word_table.get(texts[i].strip().lower())
            if entry is not None and field in entry:
                nearest[i] = entry[field]
        embedded = [i for i in todo if i not in nearest]
        if embedded:
            self.embed([texts[i] for i in embedded])
            vectors = np.stack([self._embedded[texts[i].strip().lower()] for i in embedded])
            sims = vectors @ self.matrices[field].T
            best, index = sims.max(axis=-1), sims.argmax(axis=-1)  # argmax: the first of equal phrases, as torch
            nearest.update((i, (j, score)) for i, score, j in zip(embedded, best.tolist(), index.tolist()))
        for i in todo:
            j, score = nearest[i]
            slug = self.table[field][j][0]
            out[i] = (slug, round(score, 3)) if score >= THRESHOLDS[field] else None
        return out

    def embed(self, texts: list[str]) -> None:
        """Embed (in one encoder call) the texts not embedded yet and not in the word table. One call costs
        about the same for one span or ten (reading the weights dominates), so the parser asks for all its
        spans at once."""
        wanted = list(dict.fromkeys(t.strip().lower() for t in texts
                                    if t.strip().lower() not in self._embedded and t.strip().lower() not in self.word_table))
        if wanted:
            if len(self._embedded) > 20_000:  # bounded, as the spelling cache
                self._embedded.clear()
            self._embedded.update(zip(wanted, self.encoder.sentence_embeddings(wanted)))

    def spelled_like(self, text: str, field: str, cutoff: float = 0.0) -> tuple[str, float] | None:
        """A typo of a lexicon form (difflib ratio >= FUZZY_CUTOFF on words of 5+ letters): its slug."""
        words = lx.fold(text.strip().lower())
        if len(words) < 5:
            return None
        key = (words, field, cutoff)
        if key not in self._spelled:
            if len(self._spelled) > 20_000:  # bounded: a paste of random words must not grow it forever
                self._spelled.clear()
            self._spelled[key] = self._spell(words, field, cutoff)
        return self._spelled[key]

    def _spell(self, words: str, field: str, cutoff: float) -> tuple[str, float] | None:
        forms = self._forms.get(field)
        if forms is None:
            forms = self._forms[field] = {lx.fold(p): slug for slug, p in self.table[field] if len(p) >= 4}
            self._matchers[field] = CloseMatcher(list(forms))
        close = self._matchers[field].best(words, max(cutoff, FUZZY_CUTOFF))  # difflib's own answer (spelling.py)
        if close is None:
            return None
        return forms[close], round(difflib.SequenceMatcher(None, words, close).ratio(), 3)


def _read_cache(cache_dir: Path, fingerprint: str) -> dict[str, np.ndarray] | None:
    path = cache_dir / CACHE_FILE
    if not path.exists():
        return None
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="np") as f:
            if (f.metadata() or {}).get("fingerprint") != fingerprint:
                return None
            return {name: f.get_tensor(name).astype(np.float32) for name in f.keys()}  # noqa: SIM118 -- safe_open is not a dict
    except Exception:  # noqa: BLE001 -- a damaged cache is recomputed, never fatal
        log.warning("vocabulary embedding cache %s unreadable; recomputing", path)
        return None


def _write_cache(cache_dir: Path, fingerprint: str, matrices: dict[str, np.ndarray]) -> None:
    try:
        from safetensors.numpy import save_file

        cache_dir.mkdir(parents=True, exist_ok=True)
        # float16 halves the file; the same round-to-nearest-even torch's .to(float16) did
        save_file({k: np.ascontiguousarray(v, dtype=np.float16) for k, v in matrices.items()},
                  str(cache_dir / CACHE_FILE), metadata={"fingerprint": fingerprint})
    except OSError:  # read-only install: keep them in memory only
        log.info("could not cache vocabulary embeddings in %s", cache_dir)
