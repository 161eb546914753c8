"""Beat- and bar-synchronous features of a reference, computed once and shared by chords and form.

A constant-Q transform at 22.05 kHz (36 bins per octave, C1 to C8) gives the treble chroma
(C2–C7, for chords), the bass chroma (C1–C3, for roots) and a coarse log spectrum (for the
form's timbre); the RMS level per bar gives the form's energy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 22050
HOP = 512
_BINS_PER_OCTAVE = 36
_OCTAVES = 7


@dataclass(frozen=True)
class BeatFeatures:
    treble: np.ndarray  # (12, beats) chroma
    bass: np.ndarray  # (12, beats)
    timbre: np.ndarray  # (octaves*3, beats) log energy in third-octave-ish bands
    loudness_db: np.ndarray  # (beats,) RMS level
    onsets: np.ndarray  # (beats,) mean onset strength (log): how busy, how percussive
    beat_times: np.ndarray  # (beats,) start of each beat


def to_feature_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    from math import gcd

    from scipy.signal import resample_poly

    mono = np.asarray(audio, np.float32)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    if sample_rate != RATE:
        g = gcd(int(sample_rate), RATE)
        mono = resample_poly(mono, RATE // g, int(sample_rate) // g).astype(np.float32)
    return mono


def beat_features(
    mono: np.ndarray,
    beat_times: np.ndarray,
    onset_envelope: np.ndarray,
    onset_rate: float,
    onset_latency_s: float = 0.0,
) -> BeatFeatures:
    """Features per beat of the grid (the median of the frames within each beat); the onset
    envelope (QA's, at `onset_rate` frames per second, reading `onset_latency_s` early) is averaged per beat."""
    import librosa

    cqt = np.abs(
        librosa.cqt(
            mono,
            sr=RATE,
            hop_length=HOP,
            fmin=librosa.note_to_hz("C1"),
            n_bins=_BINS_PER_OCTAVE * _OCTAVES,
            bins_per_octave=_BINS_PER_OCTAVE,
        )
    )
    bass_cqt = cqt[: 2 * _BINS_PER_OCTAVE]
    treble_cqt = cqt[_BINS_PER_OCTAVE : 6 * _BINS_PER_OCTAVE]
    treble = librosa.feature.chroma_cqt(
        C=treble_cqt,
        sr=RATE,
        hop_length=HOP,
        bins_per_octave=_BINS_PER_OCTAVE,
        fmin=librosa.note_to_hz("C2"),
        norm=None,
    )
    bass = librosa.feature.chroma_cqt(
        C=bass_cqt, sr=RATE, hop_length=HOP, bins_per_octave=_BINS_PER_OCTAVE, fmin=librosa.note_to_hz("C1"), norm=None
    )
    bands = cqt.reshape(_OCTAVES * 3, _BINS_PER_OCTAVE // 3, -1).sum(axis=1)
    timbre = np.log1p(100.0 * bands)
    frames = librosa.time_to_frames(beat_times, sr=RATE, hop_length=HOP)
    frames = frames[frames < cqt.shape[1]]
    edges = np.append(frames, cqt.shape[1])
    rms = librosa.feature.rms(y=mono, frame_length=2048, hop_length=HOP)[0]
    level = 20 * np.log10(np.maximum(rms, 1e-6))

    def sync(x: np.ndarray) -> np.ndarray:
        return librosa.util.sync(x, edges, aggregate=np.median, pad=False)

    n = len(frames)
    onset_edges = np.append(
        np.rint((beat_times[:n] - onset_latency_s) * onset_rate).astype(int).clip(0), onset_envelope.size
    )
    onsets = np.array(
        [np.log1p(onset_envelope[a:b].mean()) if b > a else 0.0 for a, b in zip(onset_edges, onset_edges[1:])]
    )
    return BeatFeatures(
        treble=sync(treble)[:, :n],
        bass=sync(bass)[:, :n],
        timbre=sync(timbre)[:, :n],
        loudness_db=sync(level[None, : cqt.shape[1]])[0, :n],
        onsets=onsets[:n],
        beat_times=beat_times[:n],
    )
