"""Fill what the prompt left unsaid from genre and mood, and clamp what is out of range.

`resolve(spec)` returns a spec on which every field the composer needs is set; every value
it adds is marked `source="default"`, and every clamp is written into `spec.notes`.
"""

from __future__ import annotations

import hashlib
import random

from pipeline.spec import (
    MAX_DURATION_S,
    MAX_MIX_OFFSET_DB,
    MAX_TEMPO_BPM,
    MIN_DURATION_S,
    MIN_TEMPO_BPM,
    Key,
    Sourced,
    Spec,
)
from pipeline.styles import (
    DEFAULT_GENRE,
    MOOD_DEFAULT_GENRE,
    MOOD_ENERGY_SHIFT,
    MOOD_MODE,
    MOOD_TEMPO_FACTOR,
    ROLES,
    style_for,
)
from pipeline.vocabulary import GENRES, TONICS

DEFAULT_DURATION_S = 90.0

# Instruments that, when asked for without a genre, suggest one.
_INSTRUMENT_GENRE = {
    "saxophone": "jazz",
    "trumpet": "jazz",
    "electric-guitar": "rock",
    "acoustic-guitar": "folk",
    "violin": "classical",
    "cello": "classical",
    "harp": "classical",
    "strings": "cinematic",
    "choir": "cinematic",
    "brass": "cinematic",
    "synth-lead": "synthwave",
    "synth-pad": "ambient",
    "synth-bass": "synthwave",
    "organ": "blues",
    "electric-piano": "lofi-hiphop",
    "piano": "classical",
    "marimba": "latin",
}


def default_seed(text: str) -> int:
    """A stable seed from text, so the same prompt without a seed is still reproducible."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") % 2**31


def resolve(spec: Spec, *, seed_text: str = "") -> Spec:
    notes = list(spec.notes)
    moods = spec.mood_values
    genres = list(spec.genres)
    if not genres:
        genre = next((MOOD_DEFAULT_GENRE[m] for m in moods if m in MOOD_DEFAULT_GENRE), None)
        if genre is None:
            genre = next((_INSTRUMENT_GENRE[i] for i in spec.instrument_values if i in _INSTRUMENT_GENRE), DEFAULT_GENRE)
        genres = [Sourced[str](value=genre, source="default", confidence=0.5)]
    genres = [g for g in genres if g.value in GENRES] or [Sourced[str](value=DEFAULT_GENRE, source="default", confidence=0.5)]
    style = style_for(genres[0].value)

    seed = spec.seed or Sourced[int](value=default_seed(seed_text or spec.summary()), source="default")
    rng = random.Random(seed.value)

    tempo = spec.tempo_bpm
    if tempo is None:
        factor = 1.0
        for mood in moods:
            factor *= MOOD_TEMPO_FACTOR.get(mood, 1.0)
        lo, hi = style.tempo_range
        tempo = Sourced[float](value=float(round(min(hi, max(lo, style.default_tempo * factor)))), source="default")
    if not MIN_TEMPO_BPM <= tempo.value <= MAX_TEMPO_BPM:
        clamped = min(MAX_TEMPO_BPM, max(MIN_TEMPO_BPM, tempo.value))
        notes.append(f"tempo {tempo.value:g} BPM is outside {MIN_TEMPO_BPM:g}–{MAX_TEMPO_BPM:g}; using {clamped:g} BPM")
        tempo = Sourced[float](value=clamped, source=tempo.source, confidence=tempo.confidence)

    key = spec.key
    if key is None:
        mode = next((MOOD_MODE[m] for m in moods if m in MOOD_MODE), style.modes[0])
        if mode not in style.modes and mode in ("major", "minor") and style.modes[0] not in ("major", "minor"):
            mode = style.modes[0]
        tonic = rng.choice(("C", "D", "E", "F", "G", "A") if mode == "major" else ("A", "D", "E", "C", "G", "F#", "B"))
        key = Sourced[str](value=str(Key(tonic=tonic, mode=mode)), source="default")
    assert Key.parse(key.value).tonic in TONICS

    duration = spec.duration_s or Sourced[float](value=DEFAULT_DURATION_S, source="default")
    if not MIN_DURATION_S <= duration.value <= MAX_DURATION_S:
        clamped = min(MAX_DURATION_S, max(MIN_DURATION_S, duration.value))
        notes.append(f"duration {duration.value:g} s is outside {MIN_DURATION_S:g}–{MAX_DURATION_S:g} s; using {clamped:g} s")
        duration = Sourced[float](value=clamped, source=duration.source, confidence=duration.confidence)

    meter = spec.time_signature or Sourced[str](value=style.meter, source="default")

    energy = spec.energy
    if energy is None:
        value = style.energy + sum(MOOD_ENERGY_SHIFT.get(m, 0.0) for m in moods)
        energy = Sourced[float](value=round(min(1.0, max(0.05, value)), 2), source="default")

    excluded = set(spec.exclude_values)
    instruments = [i for i in spec.instruments if i.value not in excluded]  # an exclusion always wins
    if not instruments:
        present = {i for i in style.band.values()}
        instruments = [Sourced[str](value=i, source="default") for i in sorted(present) if i not in excluded]

    mix: dict[str, float] = {}
    for stem, db in spec.mix.items():
        if abs(db) > MAX_MIX_OFFSET_DB:
            notes.append(f"mix offset {stem} {db:+g} dB is beyond ±{MAX_MIX_OFFSET_DB:g} dB; clamped")
            db = max(-MAX_MIX_OFFSET_DB, min(MAX_MIX_OFFSET_DB, db))
        mix[stem] = db

    duration = _length_of_form(spec, duration, tempo.value, meter.value, notes)
    sections = spec.sections  # the composer plans sections when the prompt did not

    return spec.with_updates(
        genres=[g.model_dump() for g in genres],
        tempo_bpm=tempo.model_dump(),
        key=key.model_dump(),
        duration_s=duration.model_dump(),
        time_signature=meter.model_dump(),
        energy=energy.model_dump(),
        seed=seed.model_dump(),
        instruments=[i.model_dump() for i in instruments],
        sections=sections.model_dump() if sections else None,
        mix=mix,
        notes=notes,
    )



def _length_of_form(spec: Spec, duration: Sourced[float], tempo: float, meter: str, notes: list[str]) -> Sourced[float]:
    """A form to follow sets the length unless the prompt named one (then the composer fits the form to it)."""
    if spec.form is None or (spec.sections is not None and spec.sections.source == "prompt"):
        return duration
    from pipeline.compose.structure import bar_count, read_form  # lazily: pipeline.compose imports this module
    from pipeline.errors import BadInput
    from pipeline.score import RELEASE_TAIL_S

    try:
        form_bars = sum(s.bars for s in read_form(spec.form.value))
    except ValueError as exc:
        raise BadInput(f"cannot follow the song form: {exc}") from exc
    numerator, denominator = (int(x) for x in meter.split("/"))
    bar_s = numerator * 4.0 / denominator * 60.0 / tempo
    if duration.source == "prompt":
        asked = bar_count(duration.value - RELEASE_TAIL_S, bar_s)
        note = f"the {spec.form.source} form ({form_bars} bars) was fitted to the asked length ({asked} bars)"
        if asked != form_bars and note not in notes:
            notes.append(note)
        return duration
    seconds = min(MAX_DURATION_S, max(MIN_DURATION_S, form_bars * bar_s + RELEASE_TAIL_S))
    if seconds != form_bars * bar_s + RELEASE_TAIL_S:
        note = (
            f"the {spec.form.source} form ({form_bars} bars) does not fit {MIN_DURATION_S:g}–{MAX_DURATION_S:g} s;"
            f" fitted to {seconds:g} s"
        )
        if note not in notes:
            notes.append(note)
    return Sourced[float](value=round(seconds, 3), source=spec.form.source, confidence=spec.form.confidence)


__all__ = ["resolve", "default_seed", "DEFAULT_DURATION_S", "ROLES"]
