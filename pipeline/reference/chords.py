"""The reference's chords, one per bar: beat-synchronous CQT chroma, triad templates, Viterbi.

    chords = bar_chords(features, bar_beats, key)   # ["A:min", "F:maj", "C:maj", "G:maj", ...]
    loop = repeating_loop(chords)                    # the progression the spec loops, if one repeats

Each beat's chroma (treble, C2–C7) is compared with the 24 major and minor triads (cosine), with
the bass chroma (C1–C3) voting for the chord's root; a bar's score for a chord is the sum over its
beats. librosa's Viterbi decoder then smooths the bars with a transition matrix that favours
staying on a chord a little and the key's diatonic chords a little more, so one smeared bar does
not flip a loop. Chord names are "ROOT:QUALITY" with the vocabulary's tonic spellings.
"""

from __future__ import annotations

import numpy as np

from pipeline.vocabulary import TONICS

QUALITIES = ("maj", "min")
CHORDS: tuple[str, ...] = tuple(f"{root}:{q}" for q in QUALITIES for root in TONICS)
_INTERVALS = {"maj": (0, 4, 7), "min": (0, 3, 7)}
_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
_SHARPNESS = 12.0  # how decisively a better template match wins, per beat
_BASS_WEIGHT = 0.5
_STAY = 0.3  # prior probability of keeping the chord into the next bar
_DIATONIC_WEIGHT = 4.0


def _templates() -> np.ndarray:
    rows = []
    for name in CHORDS:
        root, quality = name.split(":")
        row = np.zeros(12)
        for interval in _INTERVALS[quality]:
            row[(TONICS.index(root) + interval) % 12] = 1.0
        rows.append(row / np.linalg.norm(row))
    return np.array(rows)


_TEMPLATES = _templates()
_ROOTS = np.array([TONICS.index(name.split(":")[0]) for name in CHORDS])


def diatonic_chords(key: str) -> list[str]:
    """The key's seven triads as names, e.g. 'A minor' -> A:min, B:min (for the dim ii), C:maj, ..."""
    tonic, mode = key.split()
    scale = _MAJOR_SCALE if mode in ("major", "mixolydian", "lydian") else _MINOR_SCALE
    pc = TONICS.index(tonic)
    names = []
    for degree in range(7):
        root = scale[degree]
        third = (scale[(degree + 2) % 7] - root) % 12
        names.append(f"{TONICS[(pc + root) % 12]}:{'maj' if third == 4 else 'min'}")
    return names


def beat_scores(treble: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """(24, beats): how well each beat's chroma (12, beats) fits each chord."""
    treble = treble / np.maximum(np.linalg.norm(treble, axis=0, keepdims=True), 1e-9)
    bass = bass / np.maximum(bass.max(axis=0, keepdims=True), 1e-9)
    return _TEMPLATES @ treble + _BASS_WEIGHT * bass[_ROOTS]


def bar_chords(treble: np.ndarray, bass: np.ndarray, beats_per_bar: int, key: str | None) -> tuple[list[str], float]:
    """One chord per whole bar of beat-synchronous chroma, and the mean posterior of the decoded path (0..1)."""
    import librosa

    bars = treble.shape[1] // beats_per_bar
    if bars == 0:
        return [], 0.0
    scores = beat_scores(treble[:, : bars * beats_per_bar], bass[:, : bars * beats_per_bar])
    per_bar = scores.reshape(len(CHORDS), bars, beats_per_bar).sum(axis=2) * _SHARPNESS
    probs = np.exp(per_bar - per_bar.max(axis=0, keepdims=True))
    probs /= probs.sum(axis=0, keepdims=True)
    prior = np.ones(len(CHORDS))
    if key:
        for name in diatonic_chords(key):
            prior[CHORDS.index(name)] = _DIATONIC_WEIGHT
    prior /= prior.sum()
    transition = _STAY * np.eye(len(CHORDS)) + (1 - _STAY) * prior[None, :]
    path = librosa.sequence.viterbi(probs, transition / transition.sum(axis=1, keepdims=True), p_init=prior)
    certainty = float(np.mean(probs[path, np.arange(bars)]))
    return [CHORDS[i] for i in path], certainty


def repeating_loop(chords: list[str], periods: tuple[int, ...] = (4, 8, 2, 1, 16)) -> tuple[list[str], float]:
    """The shortest loop (of the usual lengths) that the bars repeat, and the share of bars it fits.

    Each position of the loop takes its most common chord over the repeats; a loop is accepted once
    it fits ≥ 75 % of the bars, trying 4 bars first (the commonest), then 8, 2, 1 and 16.
    """
    best: tuple[list[str], float] = ([], 0.0)
    for period in periods:
        if len(chords) < period * 2 and not (period == 1 and chords):
            continue
        loop = []
        for position in range(period):
            seen = chords[position::period]
            loop.append(max(set(seen), key=lambda c: (seen.count(c), -seen.index(c))))
        fit = float(np.mean([c == loop[i % period] for i, c in enumerate(chords)]))
        if fit >= 0.75:
            return loop, fit
        if fit > best[1]:
            best = (loop, fit)
    return best


def transpose(chords: list[str], from_key: str, to_key: str) -> list[str]:
    """The progression moved into another key.

    Same mode family: every chord moves by the interval between the tonics. Another mode family
    (a minor reference, a major request): each diatonic chord keeps its scale degree and takes the
    new key's quality for it (A minor's i–VI–III–VII becomes C major's I–vi–iii–vii, spelled with
    a minor vii), so the new key's tonic stays the tonic; chords outside the key move by the tonics'
    interval and keep their quality.
    """
    source_tonic, source_mode = from_key.split()
    target_tonic, target_mode = to_key.split()
    shift = (TONICS.index(target_tonic) - TONICS.index(source_tonic)) % 12
    same_family = _family(source_mode) == _family(target_mode)
    source_degrees = diatonic_chords(from_key)
    target_degrees = diatonic_chords(to_key)
    out = []
    for name in chords:
        if not same_family and name in source_degrees:
            out.append(target_degrees[source_degrees.index(name)])
            continue
        root, quality = name.split(":")
        out.append(f"{TONICS[(TONICS.index(root) + shift) % 12]}:{quality}")
    return out


def _family(mode: str) -> str:
    return "major" if mode in ("major", "mixolydian", "lydian") else "minor"
