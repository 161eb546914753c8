"""The spec as a text prompt for a neural model: genre, mood, instruments, tempo, key, meter.

Text-to-audio models are trained on captions ("Lo-fi hip hop, chill, piano, 85 BPM, A minor"), so
the prompt is a caption in that order: what it is, how it feels, what plays, then the numbers.
Excluded instruments are stated as "no X" at the end: the models do not honour negation reliably,
but naming them as absent works better than silence, and ampa does not add them anywhere else.
"""

from __future__ import annotations

from pipeline.spec import Spec
from pipeline.vocabulary import UNRENDERABLE_INSTRUMENTS

# How the vocabulary's slugs read in a caption.
_GENRE_WORDS = {
    "lofi-hiphop": "lo-fi hip hop",
    "hip-hop": "hip hop",
    "drum-and-bass": "drum and bass",
    "rnb": "R&B",
}
_INSTRUMENT_WORDS = {
    "electric-piano": "electric piano",
    "acoustic-guitar": "acoustic guitar",
    "electric-guitar": "electric guitar",
    "synth-bass": "synth bass",
    "synth-lead": "synth lead",
    "synth-pad": "synth pad",
}


def words(slug: str) -> str:
    return _GENRE_WORDS.get(slug) or _INSTRUMENT_WORDS.get(slug) or slug.replace("-", " ")


def text_prompt(spec: Spec, *, max_chars: int = 10_000) -> str:
    """One caption for a resolved spec, e.g.
    'Synthwave, dark, atmospheric, with synth bass, drums and synth pad, 128 BPM, F minor, 4/4, instrumental'."""
    parts: list[str] = []
    genres = [words(g.value) for g in spec.genres]
    if genres:
        parts.append(" and ".join(genres).capitalize())
    parts += spec.mood_values
    instruments = [words(i) for i in spec.instrument_values if i not in UNRENDERABLE_INSTRUMENTS]
    if instruments:
        parts.append("with " + _listed(instruments))
    if spec.tempo_bpm is not None:
        parts.append(f"{spec.tempo_bpm.value:g} BPM")
    if spec.key is not None:
        parts.append(spec.key.value)
    if spec.time_signature is not None:
        parts.append(f"{spec.time_signature.value} time")
    if spec.energy is not None:
        parts.append("high energy" if spec.energy.value >= 0.7 else "low energy" if spec.energy.value <= 0.35 else "")
    parts.append("instrumental")
    excluded = [words(e) for e in spec.exclude_values]
    if excluded:
        parts.append("no " + ", no ".join(excluded))
    return ", ".join(p for p in parts if p)[:max_chars]


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
