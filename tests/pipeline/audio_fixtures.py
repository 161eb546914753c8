"""Tiny synthetic signals for the mixing, mastering, QA and reference tests.

Every maker is deterministic (seeded), returns float32 channels-first audio (2, n) at SR unless
it says otherwise, and is cheap enough to call per test.
"""

from __future__ import annotations

import numpy as np

SR = 44100

# Semitones above the tonic for each scale degree (1-based) in each mode.
_SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
}
PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def stereo(mono: np.ndarray, width: float = 0.0) -> np.ndarray:
    """(2, n) from (n,); width > 0 adds a little decorrelated difference."""
    mono = mono.astype(np.float32)
    return np.stack([mono, mono]).astype(np.float32)


def sine(freq: float, seconds: float, amplitude: float = 0.5, sr: int = SR, phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return stereo(amplitude * np.sin(2 * np.pi * freq * t + phase))


def noise(seconds: float, amplitude: float = 0.1, sr: int = SR, seed: int = 0, pink: bool = True) -> np.ndarray:
    """Stereo noise (independent channels, positively correlated by a shared component)."""
    rng = np.random.default_rng(seed)
    n = round(seconds * sr)
    shared = rng.standard_normal(n)
    out = np.stack([shared + 0.5 * rng.standard_normal(n), shared + 0.5 * rng.standard_normal(n)])
    if pink:
        spectrum = np.fft.rfft(out, axis=1)
        freqs = np.fft.rfftfreq(n, 1 / sr)
        spectrum /= np.sqrt(np.maximum(freqs, 20.0))
        out = np.fft.irfft(spectrum, n=n, axis=1)
    out *= amplitude / np.sqrt(np.mean(out**2))
    return out.astype(np.float32)


def clicks(
    bpm: float, seconds: float, sr: int = SR, amplitude: float = 0.8, accent_every: int = 4, click_ms: float = 25.0
) -> np.ndarray:
    """A metronome: a decaying noise+tone burst on every beat, accented on the bar."""
    n = round(seconds * sr)
    out = np.zeros(n)
    length = int(click_ms / 1000 * sr)
    t = np.arange(length) / sr
    rng = np.random.default_rng(1)
    burst = (np.sin(2 * np.pi * 1500 * t) + 0.5 * rng.standard_normal(length)) * np.exp(-t * 200)
    beat = 0
    while True:
        start = round(beat * 60.0 / bpm * sr)
        if start >= n:
            break
        gain = amplitude if beat % accent_every == 0 else amplitude * 0.6
        end = min(n, start + length)
        out[start:end] += gain * burst[: end - start]
        beat += 1
    return stereo(out)


def kick_pattern(bpm: float, seconds: float, sr: int = SR, amplitude: float = 0.9) -> np.ndarray:
    """Four-on-the-floor sine-sweep kicks, for sidechain and tempo tests."""
    n = round(seconds * sr)
    out = np.zeros(n)
    length = int(0.25 * sr)
    t = np.arange(length) / sr
    freq = 50 + 120 * np.exp(-t * 30)
    kick = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t * 12)
    for start in kick_starts(bpm, seconds, sr):
        end = min(n, start + length)
        out[start:end] += amplitude * kick[: end - start]
    return stereo(out)


def kick_starts(bpm: float, seconds: float, sr: int = SR) -> list[int]:
    step = 60.0 / bpm * sr
    return [round(i * step) for i in range(int(seconds * sr / step) + 1) if round(i * step) < seconds * sr]


def harmonic_tone(midi: float, seconds: float, sr: int = SR, amplitude: float = 0.2, partials: int = 6) -> np.ndarray:
    """Mono tone with 1/k partial amplitudes and a soft attack/release."""
    n = round(seconds * sr)
    t = np.arange(n) / sr
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    tone = sum((1 / k) * np.sin(2 * np.pi * f0 * k * t) for k in range(1, partials + 1) if f0 * k < sr / 2 - 1000)
    env = np.minimum(1, np.minimum(t / 0.02, (seconds - t) / 0.05).clip(0))
    return (amplitude * tone * env).astype(np.float32)


def _triad(tonic_pc: int, mode: str, degree: int, raise_leading: bool) -> list[int]:
    scale = list(_SCALES[mode])
    if raise_leading and mode in ("minor", "dorian", "phrygian"):
        scale[6] = 11  # harmonic minor: the raised leading tone makes V major
    notes = []
    for step in (0, 2, 4):
        index = degree - 1 + step
        notes.append(scale[index % 7] + 12 * (index // 7))
    return [48 + tonic_pc + n for n in notes]


def chord_progression(
    tonic: str, mode: str, seconds: float = 16.0, sr: int = SR, bpm: float = 120.0, seed: int = 0
) -> np.ndarray:
    """A cadential loop (i–iv–V–i / I–IV–V–I, with a bass on the root) in the given key.

    In the modal cases the V uses the mode's own scale (mixolydian v, dorian v...), except that
    minor-family loops get the raised leading tone, as a composer establishing the tonic would.
    """
    tonic_pc = PITCH_CLASSES.index(tonic)
    # Modal loops lean on the tonic (I-II-I-I, I-bVII-I-I): without it a mixolydian I-bVII-I-IV
    # loop is heard in the key of its IV, by listeners and key finders alike.
    degrees = {"lydian": (1, 2, 1, 1), "mixolydian": (1, 7, 1, 1)}.get(mode, (1, 4, 5, 1))
    raise_leading = mode == "minor"
    chord_s = 4 * 60.0 / bpm
    n = round(seconds * sr)
    out = np.zeros(n, np.float32)
    position, i = 0, 0
    while position < n:
        degree = degrees[i % len(degrees)]
        pitches = _triad(tonic_pc, mode, degree, raise_leading and degree == 5)
        length = min(round(chord_s * sr), n - position)
        seg = sum(harmonic_tone(p, length / sr, sr) for p in pitches)
        seg = seg + harmonic_tone(pitches[0] - 12, length / sr, sr, amplitude=0.3)
        out[position : position + seg.size] += seg[: n - position]
        position += length
        i += 1
    return stereo(out)


def song(bpm: float, tonic: str, mode: str, seconds: float, sr: int = SR) -> np.ndarray:
    """Kicks + clicks on the off-beats + a cadential progression: a crude 'track' with pulse and key."""
    harmony = chord_progression(tonic, mode, seconds, sr, bpm)
    pulse = kick_pattern(bpm, seconds, sr, amplitude=0.5) + 0.3 * clicks(bpm, seconds, sr)
    return (harmony + pulse).astype(np.float32)


def with_silence(
    audio: np.ndarray,
    lead_s: float = 0.0,
    tail_s: float = 0.0,
    gap_at_s: float | None = None,
    gap_s: float = 0.0,
    sr: int = SR,
) -> np.ndarray:
    out = audio.copy()
    if gap_at_s is not None:
        start = int(gap_at_s * sr)
        out[:, start : start + int(gap_s * sr)] = 0.0
    lead = np.zeros((out.shape[0], int(lead_s * sr)), np.float32)
    tail = np.zeros((out.shape[0], int(tail_s * sr)), np.float32)
    return np.concatenate([lead, out, tail], axis=1)


def make_spec(**values: object):
    """A Spec from plain values (taken as said by the prompt), e.g. make_spec(tempo_bpm=120)."""
    from pipeline.spec import Spec

    base: dict[str, object] = {"genres": ["house"], "time_signature": "4/4"}
    base.update(values)
    return Spec.from_dict(base)


def ebur128(path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file measured by ffmpeg's ebur128 filter."""
    import re
    import subprocess

    result = subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    summary = result.stderr[result.stderr.rfind("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return integrated, peak
