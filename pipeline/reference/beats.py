"""Tempo and beat grid of a reference: a tempo a producer can trust, or a plain refusal.

    grid = beat_grid(mono_11k, genre="funk")
    grid.steady, grid.bpm, grid.first_downbeat_s, grid.confidence, grid.reason

The onset envelope and the candidate tempi come from QA's tempo meter (`pipeline.qa.tempo`), so a
reference and ampa's own render are measured alike. What this adds:

- **Steadiness, measured three ways** (the confidence is their geometric mean):
  *agreement*: the share of 6-second windows whose own tempo (the strongest lag of librosa's
  autocorrelation tempogram) is the global tempo or its half or double; *coherence*: how well the
  windows agree on where the beats fall (the phase of the onset envelope at the beat frequency,
  window by window: 1 for a fixed grid, low when the beat drifts, as in rubato); *strength*: the
  tempogram's mean periodicity at the beat lag over the whole file. A steady groove at any common
  tempo and feel (swung 8ths included) scores high on all three; rubato piano fails coherence and
  agreement; a drone or noise has no periodicity.
- **The metrical level**: the best reading and its half and double are scored by periodicity
  times a log-normal prior around the genre's usual tempo (110 BPM with no genre), so a drum and
  bass reference is called 174, not 87, when the prompt says drum and bass; the other reading is
  reported, never silently dropped.
- **The grid**: tempo and phase refined on the whole file (the comb of the onset envelope's
  Fourier coefficients at the beat frequency and its harmonics), then the downbeat: the beat of
  the bar with the strongest low-frequency onsets (kicks) and harmonic change (chords change on
  the bar).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.qa.tempo import ANALYSIS_RATE, HOP, N_FFT, onset_envelope, tempo_from_mono

FRAME_RATE = ANALYSIS_RATE / HOP  # onset envelope frames per second (~172)
# A flux frame is stamped with its window's start, but an attack peaks the flux only once it is well
# inside the window: onsets read this much early (measured: 42 ms on clicks placed at known times).
ONSET_LATENCY_S = (N_FFT - HOP) / ANALYSIS_RATE
MIN_CONFIDENCE = 0.5  # below: the reference has no beat steady enough to take its tempo
_WINDOW_S = 6.0
_PRIOR_SPREAD_OCTAVES = 0.7
_DEFAULT_CENTER_BPM = 110.0
_ONSETS_PER_BEAT = 2.0


@dataclass(frozen=True)
class BeatGrid:
    bpm: float  # 0 when there is no beat at all
    confidence: float  # 0..1
    steady: bool  # the tempo can be taken
    first_beat_s: float = 0.0
    first_downbeat_s: float = 0.0
    beats_per_bar: int = 4
    agreement: float = 0.0
    coherence: float = 0.0
    strength: float = 0.0
    level: str = ""  # how the metrical level was chosen, for the user
    alternatives: tuple[float, ...] = ()  # other readings of the same pulse (half, double)
    reason: str = ""  # why the tempo is not taken, when it is not
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def beat_s(self) -> float:
        return 60.0 / self.bpm if self.bpm > 0 else 0.0

    @property
    def bar_s(self) -> float:
        return self.beat_s * self.beats_per_bar

    def beat_times(self, duration_s: float) -> np.ndarray:
        """Every beat of the fixed grid from the first one to the end of the file."""
        if self.bpm <= 0:
            return np.zeros(0)
        return np.arange(self.first_beat_s, duration_s, self.beat_s)

    def bar_starts(self, duration_s: float) -> np.ndarray:
        """Downbeats from the first one to the last whole bar."""
        if self.bpm <= 0:
            return np.zeros(0)
        return np.arange(self.first_downbeat_s, duration_s - self.bar_s + 1e-6, self.bar_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bpm": round(self.bpm, 2),
            "confidence": round(self.confidence, 3),
            "steady": self.steady,
            "first_beat_s": round(self.first_beat_s, 3),
            "first_downbeat_s": round(self.first_downbeat_s, 3),
            "beats_per_bar": self.beats_per_bar,
            "agreement": round(self.agreement, 3),
            "coherence": round(self.coherence, 3),
            "strength": round(self.strength, 3),
            "level": self.level,
            "alternatives": [round(b, 2) for b in self.alternatives],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class OnsetSignals:
    """The onset envelopes the grid is read from, one value per QA tempo frame (~5.8 ms)."""

    full: np.ndarray
    low: np.ndarray  # below ~200 Hz: kicks and bass notes


def onset_signals(mono: np.ndarray) -> OnsetSignals:
    full = onset_envelope(mono)
    # The low band: the same spectral flux read from a 2048-point STFT's bins under 200 Hz
    # (a 512-point frame has only 9 of them); resampled onto the full envelope's frames.
    low = _low_band_flux(mono, full.size)
    return OnsetSignals(full=full, low=low)


def _low_band_flux(mono: np.ndarray, frames: int, n_fft: int = 2048, cutoff_hz: float = 200.0) -> np.ndarray:
    if mono.size < n_fft * 2 or frames == 0:
        return np.zeros(frames, np.float32)
    hop = HOP * 4
    windows = np.lib.stride_tricks.sliding_window_view(mono, n_fft)[::hop]
    bins = int(cutoff_hz * n_fft / ANALYSIS_RATE) + 1
    spectrum = np.abs(np.fft.rfft(windows * np.hanning(n_fft).astype(np.float32), axis=1))[:, 1:bins]
    flux = np.maximum(np.diff(np.log1p(100.0 * spectrum), axis=0), 0.0).sum(axis=1)
    # Frame i of the flux compares windows i and i+1: centre it on the full envelope's frames.
    centres = (np.arange(flux.size) * hop + n_fft) / HOP
    return np.interp(np.arange(frames), centres, flux, left=0.0, right=0.0).astype(np.float32)


def beat_grid(mono: np.ndarray, *, genre: str | None = None) -> BeatGrid:
    """The grid of a mono signal at the QA analysis rate (11.025 kHz)."""
    rms = float(np.sqrt(np.mean(np.square(mono, dtype=np.float64)))) if mono.size else 0.0
    mono = mono * np.float32(0.1 / rms) if rms > 0 else mono  # the onset thresholds assume one level
    onsets = onset_signals(mono)
    return grid_from_onsets(onsets, mono, genre=genre)


def grid_from_onsets(onsets: OnsetSignals, mono: np.ndarray, *, genre: str | None = None) -> BeatGrid:
    env = onsets.full
    duration = env.size / FRAME_RATE
    if env.size < FRAME_RATE * 4 or not np.any(env > 0):
        return BeatGrid(bpm=0.0, confidence=0.0, steady=False, reason="no steady beat: there are no onsets to count by")
    estimate = tempo_from_mono(mono)
    if not estimate.candidates:
        return BeatGrid(bpm=0.0, confidence=0.0, steady=False, reason="no steady beat: there are no onsets to count by")
    from pipeline.reference.character import count_onsets_per_s

    bpm, level, alternatives = _choose_level(estimate.candidates, genre, count_onsets_per_s(env, FRAME_RATE))
    bpm = _refine_bpm(env, bpm)
    parts = {
        # how periodic the onsets are at the best reading (QA's comb score: grooves 0.37-0.7, speech < 0.1)
        "periodicity": min(1.0, max(c[1] for c in estimate.candidates) / _PERIODIC),
        "agreement": _local_agreement(env, bpm),
        "coherence": _phase_coherence(env, bpm),
        # how clear the strongest onsets stand out (drums ~300, a drone 3, noise 13 on the level-normalised flux)
        "clarity": min(1.0, float(np.percentile(env, 99)) / _CLEAR_ONSETS),
    }
    confidence = min(parts.values())
    steady = confidence >= MIN_CONFIDENCE
    reason = "" if steady else f"no steady beat: {_WEAKNESS[min(parts, key=parts.get)]} (confidence {confidence:.2f})"
    first_beat = _first_beat(env, bpm)
    downbeat = _first_downbeat(onsets, bpm, first_beat, duration)
    return BeatGrid(
        bpm=float(bpm),
        confidence=float(confidence),
        steady=steady,
        first_beat_s=first_beat,
        first_downbeat_s=downbeat,
        agreement=parts["agreement"],
        coherence=parts["coherence"],
        strength=parts["periodicity"],
        level=level,
        alternatives=alternatives,
        reason=reason,
        scores={k: round(v, 3) for k, v in parts.items()},
    )


_PERIODIC = 0.3
_CLEAR_ONSETS = 40.0
_WEAKNESS = {
    "periodicity": "the onsets do not repeat at any tempo",
    "agreement": "the tempo changes from one part to the next",
    "coherence": "the beat drifts (played freely, not to a grid)",
    "clarity": "there are no clear onsets (a drone, a pad or noise)",
}


def _choose_level(
    candidates: tuple[tuple[float, float], ...], genre: str | None, onsets_per_s: float = 0.0
) -> tuple[float, str, tuple[float, ...]]:
    """The best reading and its octave relatives, weighed by a prior around the genre's usual tempo
    and by the onset pattern: the beat a listener taps has about two onsets to it (eighth-note hats,
    a kick and a snare between them), rarely one or eight."""
    best_bpm, best_score = candidates[0]
    readings = {round(best_bpm, 2): best_score}
    for bpm, score in candidates[1:]:
        ratio = bpm / best_bpm
        if min(abs(ratio - r) for r in (0.5, 2.0)) < 0.03:  # triple relatives are other metres, not levels
            readings[round(bpm, 2)] = score
    center, why = _prior_center(genre)
    prior = {b: float(np.exp(-0.5 * (np.log2(b / center) / _PRIOR_SPREAD_OCTAVES) ** 2)) for b in readings}
    if onsets_per_s > 0:
        for b in readings:
            per_beat = onsets_per_s * 60.0 / b
            prior[b] *= float(np.exp(-0.5 * np.log2(per_beat / _ONSETS_PER_BEAT) ** 2))
    chosen = max(readings, key=lambda b: readings[b] * prior[b])
    others = tuple(sorted(b for b in readings if b != chosen))
    if not others:
        return chosen, "the only reading of the pulse", ()
    shown = ", ".join(f"{b:g}" for b in others)
    return chosen, f"chosen over {shown} BPM {why}", others


def _prior_center(genre: str | None) -> tuple[float, str]:
    from pipeline.styles import STYLES

    style = STYLES.get(genre or "")
    if style is not None:
        return float(style.default_tempo), f"(nearer {genre}'s usual {style.default_tempo:g} BPM)"
    return _DEFAULT_CENTER_BPM, "(the stronger pulse nearer a common tempo)"


def _fourier(env: np.ndarray, freqs_hz: np.ndarray, start: int = 0) -> np.ndarray:
    """Fourier coefficients of env at each frequency (frames counted from `start`)."""
    t = (np.arange(env.size) + start) / FRAME_RATE
    return np.exp(-2j * np.pi * np.outer(freqs_hz, t)) @ env


def _refine_bpm(env: np.ndarray, bpm: float, harmonics: int = 4) -> float:
    """The tempo within ±1.5 % whose beat frequency and harmonics hold most onset energy over the whole file."""
    grid = bpm * np.linspace(0.985, 1.015, 121)
    x = env - env.mean()
    strength = sum(np.abs(_fourier(x, grid * k / 60.0)) for k in range(1, harmonics + 1))
    return float(grid[int(np.argmax(strength))])


def _windows(size: int) -> list[tuple[int, int]]:
    length = int(_WINDOW_S * FRAME_RATE)
    if size < 2 * length:
        length = size // 2
    hop = max(1, length // 2)
    return [(s, s + length) for s in range(0, size - length + 1, hop)]


def _phase_coherence(env: np.ndarray, bpm: float) -> float:
    """|sum of window phasors| / sum of their magnitudes at the beat frequency: 1 = one fixed grid."""
    x = env - env.mean()
    f = np.array([bpm / 60.0])
    phasors = np.array([_fourier(x[a:b], f, start=a)[0] for a, b in _windows(x.size)])
    total = np.abs(phasors).sum()
    return float(np.abs(phasors.sum()) / total) if total > 0 else 0.0


def _local_agreement(env: np.ndarray, bpm: float) -> float:
    """Share of tempogram frames whose periodicity at the beat lag (or half, double) is ≥ 60 % of their strongest.

    librosa's autocorrelation tempogram over 6-second windows: a steady groove keeps its lag near
    the top everywhere, whatever else its pattern repeats at; rubato playing has no lag that does.
    """
    import librosa

    step = 4  # ~43 frames/s is plenty for periods of a quarter second and more
    coarse = env[: env.size // step * step].reshape(-1, step).mean(axis=1)
    rate = FRAME_RATE / step
    win = int(min(_WINDOW_S * rate, coarse.size))
    gram = librosa.feature.tempogram(onset_envelope=coarse, sr=ANALYSIS_RATE, hop_length=HOP * step, win_length=win)
    lags_bpm = 60.0 * rate / np.maximum(np.arange(gram.shape[0]), 1e-9)
    usable = (lags_bpm >= 40) & (lags_bpm <= 240)
    inner = gram[:, win // 2 : max(win // 2 + 1, gram.shape[1] - win // 2)]  # frames whose window is full
    strongest = np.maximum(inner[usable].max(axis=0), 1e-9)
    lag = 60.0 * rate / bpm
    # The pulse at the beat, or at its half or double: a pattern may repeat most strongly at either.
    at_beat = np.max([_at_lag(inner, lag * r) for r in (0.5, 1.0, 2.0)], axis=0)
    return float(np.mean(at_beat / strongest >= 0.6))


def _at_lag(gram: np.ndarray, lag: float) -> np.ndarray:
    low = int(np.floor(lag))
    frac = lag - low
    if low + 1 >= gram.shape[0]:
        return np.zeros(gram.shape[1])
    return (1 - frac) * gram[low] + frac * gram[low + 1]


def _first_beat(env: np.ndarray, bpm: float) -> float:
    """The phase of the grid: the offset within one beat where the onsets line up best."""
    period = 60.0 / bpm * FRAME_RATE
    offsets = np.arange(0.0, period, 0.5)
    positions = np.arange(0.0, env.size - 1, period)
    # Sum the envelope (its max within ±1 frame) at every grid point, for every offset.
    peak = np.maximum(env, np.maximum(np.roll(env, 1), np.roll(env, -1)))
    idx = np.clip(np.rint(positions[None, :] + offsets[:, None]).astype(int), 0, env.size - 1)
    best = float(offsets[int(np.argmax(peak[idx].sum(axis=1)))])
    return (best / FRAME_RATE + ONSET_LATENCY_S) % (period / FRAME_RATE)


def _first_downbeat(onsets: OnsetSignals, bpm: float, first_beat_s: float, duration_s: float, beats: int = 4) -> float:
    """The first beat that starts a bar: the one of the four with the strongest kicks (low-band onsets)."""
    beat_s = 60.0 / bpm
    times = np.arange(first_beat_s, duration_s, beat_s)
    if times.size < beats * 2:
        return first_beat_s
    frames = np.clip(np.rint((times - ONSET_LATENCY_S) * FRAME_RATE).astype(int), 0, onsets.low.size - 1)
    low = np.maximum(onsets.low[frames], onsets.low[np.clip(frames + 1, 0, onsets.low.size - 1)])
    per_position = [float(low[p::beats].mean()) for p in range(beats)]
    return float(times[int(np.argmax(per_position))])
