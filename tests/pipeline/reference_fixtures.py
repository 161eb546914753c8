"""Synthetic references with known truth: drum grooves, chord loops and pieces with a known form.

Each maker returns (audio, truth): float32 channels-first audio at SR and a dict of what a perfect
analysis would find (tempo, first downbeat, chords per bar, section boundaries in bars). They are
deterministic (seeded) and cheap (numpy only), so the tests and `benchmarks/reference_bench.py`
make as many as they need.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SR = 44100
PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)


# ----- drum sounds -----
def _kick(sr: int = SR) -> np.ndarray:
    t = np.arange(int(0.3 * sr)) / sr
    freq = 48 + 110 * np.exp(-t * 35)
    return (np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t * 10)).astype(np.float32)


def _snare(rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    t = np.arange(int(0.2 * sr)) / sr
    body = np.sin(2 * np.pi * 190 * t) * np.exp(-t * 30)
    return (0.5 * body + 0.6 * rng.standard_normal(t.size) * np.exp(-t * 22)).astype(np.float32)


def _hat(rng: np.random.Generator, sr: int = SR, open_: bool = False) -> np.ndarray:
    t = np.arange(int((0.25 if open_ else 0.05) * sr)) / sr
    noise = np.diff(rng.standard_normal(t.size + 1))  # tilted up: a hat, not a snare
    return (0.25 * noise * np.exp(-t * (12 if open_ else 90))).astype(np.float32)


def _place(out: np.ndarray, sound: np.ndarray, at_s: float, gain: float, sr: int = SR) -> None:
    start = int(round(at_s * sr))
    if start >= out.size or start < 0:
        return
    end = min(out.size, start + sound.size)
    out[start:end] += gain * sound[: end - start]


# Patterns in 16th steps of one bar: (step, instrument, gain). Swing moves the off-8ths later.
_PATTERNS: dict[str, list[tuple[float, str, float]]] = {
    "rock": [(0, "k", 1), (8, "k", 0.9), (4, "s", 1), (12, "s", 1)] + [(s, "h", 0.7) for s in range(0, 16, 2)],
    "four": [(s, "k", 1) for s in (0, 4, 8, 12)]
    + [(s, "s", 0.8) for s in (4, 12)]
    + [(s, "o", 0.5) for s in (2, 6, 10, 14)],
    "funk": [(0, "k", 1), (3, "k", 0.7), (10, "k", 0.9), (4, "s", 1), (12, "s", 1), (7, "s", 0.25), (9, "s", 0.25)]
    + [(s, "h", 0.6 if s % 2 else 0.8) for s in range(16)],
    "swing": [(0, "k", 0.8), (8, "k", 0.6), (4, "s", 0.6), (12, "s", 0.6)]
    + [(s, "r", 0.8) for s in (0, 4, 8, 12)]
    + [(s, "r", 0.5) for s in (6, 14)],  # ride: ding, ding-da ding-da (the "da" swung late)
    "halftime": [(0, "k", 1), (10, "k", 0.8), (8, "s", 1)] + [(s, "h", 0.6) for s in range(0, 16, 2)],
    "bossa": [(0, "k", 0.9), (6, "k", 0.6), (8, "k", 0.9), (14, "k", 0.6)]
    + [(s, "s", 0.5) for s in (0, 6, 12, 3, 10)]
    + [(s, "h", 0.5) for s in range(0, 16, 2)],
}


def drums(bpm: float, bars: int, feel: str = "rock", *, swing: float = 0.0, seed: int = 0, sr: int = SR) -> np.ndarray:
    """Mono drum track of whole bars; `swing` 0..1 delays the off-8th/16th (1 = full triplet feel)."""
    rng = np.random.default_rng(seed)
    step_s = 60.0 / bpm / 4
    out = np.zeros(int(bars * 16 * step_s * sr) + sr // 2, np.float32)
    sounds = {
        "k": _kick(sr),
        "s": _snare(rng, sr),
        "h": _hat(rng, sr),
        "o": _hat(rng, sr, True),
        "r": _hat(rng, sr, True),
    }
    if feel == "swing":
        swing = max(swing, 1.0)
    for bar in range(bars):
        for step, name, gain in _PATTERNS[feel]:
            late = 0.0
            if swing and step % 4 == 2:  # the off-8th: straight at 2/4 of the beat, swung at 2/3
                late = swing * (2 / 3 - 1 / 2) * 4
            elif swing and feel != "swing" and step % 2 == 1:
                late = swing * (2 / 3 - 1 / 2) * 2
            jitter = rng.normal(0, 0.004)  # a human drummer, ±4 ms
            velocity = gain * rng.uniform(0.85, 1.0)
            _place(out, sounds[name], (bar * 16 + step + late) * step_s + jitter, velocity, sr)
    return out[: int(bars * 16 * step_s * sr)]


# ----- harmony -----
def chord_pitches(name: str, octave: int = 4) -> list[int]:
    root, quality = name.split(":")
    pc = PITCH_CLASSES.index(root)
    third = 4 if quality.startswith("maj") else 3
    base = 12 * (octave + 1) + pc
    if base > 12 * (octave + 1) + 6:
        base -= 12  # keep voicings around middle C
    return [base, base + third, base + 7]


def _tone(midi: float, n: int, sr: int, amplitude: float, decay: float) -> np.ndarray:
    t = np.arange(n) / sr
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    wave = sum((0.6**k) * np.sin(2 * np.pi * f0 * (k + 1) * t) for k in range(5) if f0 * (k + 1) < sr / 2 - 1000)
    env = np.exp(-t * decay) * np.minimum(1.0, t / 0.01) * np.minimum(1.0, (n - np.arange(n)) / (0.02 * sr))
    return (amplitude * wave * env).astype(np.float32)


def harmony(bpm: float, chords: list[str], *, sr: int = SR, style: str = "pad", amplitude: float = 0.12) -> np.ndarray:
    """One chord per bar with a bass note on the root. style: pad (sustained), stabs (on every beat), arp."""
    bar_n = int(round(4 * 60.0 / bpm * sr))
    beat_n = bar_n // 4
    out = np.zeros(bar_n * len(chords), np.float32)
    for i, name in enumerate(chords):
        pitches = chord_pitches(name)
        start = i * bar_n
        if style == "pad":
            for p in pitches:
                out[start : start + bar_n] += _tone(p, bar_n, sr, amplitude, 0.4)
        elif style == "stabs":
            for b in range(4):
                for p in pitches:
                    out[start + b * beat_n : start + (b + 1) * beat_n] += _tone(p, beat_n, sr, amplitude * 1.2, 3.0)
        else:  # arp: eighth notes up the chord
            eighth = beat_n // 2
            for e in range(8):
                p = pitches[e % 3] + (12 if e % 6 >= 3 else 0)
                out[start + e * eighth : start + (e + 1) * eighth] += _tone(p, eighth, sr, amplitude * 1.5, 4.0)
        bass = chord_pitches(name, octave=2)[0]
        out[start : start + bar_n] += _tone(bass, bar_n, sr, amplitude * 1.6, 0.8)
    return out


def diatonic_loop(tonic: str, mode: str, degrees: tuple[int, ...]) -> list[str]:
    """Chord names of scale degrees (1-based) in a key: ('A', 'minor', (1, 6, 3, 7)) -> A:min F:maj C:maj G:maj."""
    scale = _MAJOR if mode == "major" else _MINOR
    pc = PITCH_CLASSES.index(tonic)
    names = []
    for degree in degrees:
        root = scale[(degree - 1) % 7]
        third = (scale[(degree + 1) % 7] - root) % 12
        names.append(f"{PITCH_CLASSES[(pc + root) % 12]}:{'maj' if third == 4 else 'min'}")
    return names


def stereo(mono: np.ndarray, width: float = 0.0, seed: int = 0) -> np.ndarray:
    """(2, n); `width` mixes in a delayed copy in opposite polarity on the sides."""
    if width <= 0:
        return np.stack([mono, mono]).astype(np.float32)
    delayed = np.concatenate([np.zeros(331, np.float32), mono[:-331]])
    return np.stack([mono + width * delayed, mono - width * delayed]).astype(np.float32)


def _fit(*parts: np.ndarray) -> np.ndarray:
    n = max(p.size for p in parts)
    out = np.zeros(n, np.float32)
    for p in parts:
        out[: p.size] += p
    return out


# ----- whole references -----
def groove(
    bpm: float, seconds: float, feel: str = "rock", *, lead_s: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, dict[str, Any]]:
    """A drum groove with a bass on the bar (for the downbeat), `lead_s` of silence first."""
    bars = max(2, int(seconds * bpm / 240))
    kit = drums(bpm, bars, feel, seed=seed)
    bass = harmony(bpm, ["A:min"] * bars, amplitude=0.0)  # silence the size of the bars
    mono = _fit(kit, bass)
    mono = np.concatenate([np.zeros(int(lead_s * SR), np.float32), mono])
    return stereo(mono * 0.5), {"bpm": bpm, "first_downbeat_s": lead_s, "feel": feel}


def chord_loop(
    tonic: str,
    mode: str,
    degrees: tuple[int, ...],
    bpm: float,
    bars: int,
    *,
    drums_feel: str | None = "rock",
    style: str = "pad",
    seed: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    loop = diatonic_loop(tonic, mode, degrees)
    chords = [loop[i % len(loop)] for i in range(bars)]
    parts = [harmony(bpm, chords, style=style)]
    if drums_feel:
        parts.append(0.6 * drums(bpm, bars, drums_feel, seed=seed))
    mono = _fit(*parts)
    return stereo(mono * 0.6, width=0.3), {"bpm": bpm, "key": f"{tonic} {mode}", "chords": chords, "loop": loop}


# A piece in sections, each with its own texture, loudness and progression: (name, bars, energy, degrees).
FORM = (
    ("intro", 4, 0.3, (1, 6)),
    ("verse", 8, 0.55, (1, 6, 4, 5)),
    ("chorus", 8, 1.0, (4, 5, 1, 1)),
    ("breakdown", 4, 0.3, (6, 4)),
    ("chorus", 8, 1.0, (4, 5, 1, 1)),
    ("outro", 4, 0.3, (1, 1)),
)


def piece(tonic: str, mode: str, bpm: float, form=FORM, *, seed: int = 0) -> tuple[np.ndarray, dict[str, Any]]:
    bar_n = int(round(4 * 60.0 / bpm * SR))
    chords: list[str] = []
    boundaries: list[int] = []
    sections = []
    pieces = []
    for name, bars, energy, degrees in form:
        loop = diatonic_loop(tonic, mode, degrees)
        section_chords = [loop[i % len(loop)] for i in range(bars)]
        boundaries.append(len(chords))
        chords += section_chords
        sections.append({"name": name, "bars": bars, "energy": energy})
        style = "pad" if energy < 0.4 else ("stabs" if energy < 0.8 else "arp")
        parts = [harmony(bpm, section_chords, style=style, amplitude=0.05 + 0.1 * energy)]
        if energy >= 0.5:
            feel = "rock" if energy < 0.8 else "four"
            parts.append((0.3 + 0.4 * energy) * drums(bpm, bars, feel, seed=seed + len(boundaries)))
        if energy >= 0.8:
            parts.append(harmony(bpm, section_chords, style="pad", amplitude=0.06))
        seg = _fit(*parts)[: bars * bar_n]
        pieces.append(np.pad(seg, (0, bars * bar_n - seg.size)))
    mono = np.concatenate(pieces)
    return stereo(mono * 0.6, width=0.2), {
        "bpm": bpm,
        "key": f"{tonic} {mode}",
        "chords": chords,
        "boundaries": boundaries[1:],
        "sections": sections,
        "bars": len(chords),
    }


def rubato_piano(seconds: float, *, seed: int = 0) -> np.ndarray:
    """Notes of a C major arpeggio at irregular, drifting intervals: no grid a beat tracker may trust."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * SR) + SR, np.float32)
    t, ioi = 0.2, 0.5
    notes = (60, 64, 67, 72, 67, 64, 62, 65, 69, 71)
    i = 0
    while t < seconds:
        ioi = float(np.clip(ioi * rng.uniform(0.7, 1.4), 0.18, 1.2))  # tempo wanders by up to ±40 % per note
        note = _tone(notes[i % len(notes)], int(1.5 * SR), SR, 0.25, 2.5)
        _place(out, note, t, 1.0)
        t += ioi
        i += 1
    return stereo(out[: int(seconds * SR)])


def drone(seconds: float) -> np.ndarray:
    n = int(seconds * SR)
    mono = sum(_tone(p, n, SR, 0.15, 0.0) for p in (45, 52, 57, 64))
    slow = 1.0 + 0.2 * np.sin(2 * np.pi * 0.1 * np.arange(n) / SR)
    return stereo((mono * slow).astype(np.float32))


def white_noise(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.2 * rng.standard_normal((2, int(seconds * SR)))).astype(np.float32)


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """A talking voice's envelope and spectrum without words: voiced syllables (a gliding 100–180 Hz
    glottal buzz through moving formants) and fricatives at irregular 3–6 Hz, with pauses between phrases."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros(n, np.float32)
    t = 0.1
    while t < seconds - 0.3:
        phrase_end = t + rng.uniform(1.0, 2.5)
        while t < min(phrase_end, seconds - 0.3):
            length = rng.uniform(0.12, 0.3)
            m = int(length * SR)
            tt = np.arange(m) / SR
            f0 = rng.uniform(100, 180) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(1, 3) * tt + rng.uniform(0, 6)))
            buzz = np.sign(np.sin(2 * np.pi * np.cumsum(f0) / SR)) * 0.5
            formant = rng.uniform(400, 900), rng.uniform(1000, 2400)
            from scipy.signal import butter, lfilter

            voiced = sum(lfilter(*butter(2, [f * 0.8 / (SR / 2), f * 1.2 / (SR / 2)], "band"), buzz) for f in formant)
            env = np.sin(np.pi * tt / length) ** 2
            syllable = voiced * env
            if rng.random() < 0.3:  # a fricative
                fric = lfilter(*butter(2, 3000 / (SR / 2), "high"), rng.standard_normal(m)) * 0.3 * env
                syllable = syllable + fric
            _place(out, syllable.astype(np.float32), t, 0.6)
            t += length + rng.uniform(0.02, 0.12)
        t += rng.uniform(0.3, 0.8)  # a pause between phrases
    return stereo(out)
