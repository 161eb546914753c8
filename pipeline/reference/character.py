"""The reference's character: how loud, bright, wide, dynamic and busy it is, whether it has drums,
and its long-term tonal balance (what "match the reference" masters towards).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# Third-octave-ish bands for the long-term balance: 25 Hz to 16 kHz.
BAND_EDGES_HZ = tuple(float(f) for f in 25.0 * 2.0 ** (np.arange(0, 29) / 3.0))
_N_FFT = 8192


@dataclass(frozen=True)
class Character:
    loudness_lufs: float
    brightness_hz: float  # spectral centroid, energy-weighted
    tilt_db_per_octave: float  # slope of the long-term spectrum, 100 Hz–10 kHz
    width: float  # side/mid energy ratio, 0 (mono) .. ~1 (very wide)
    dynamics_lu: float  # spread of short-term loudness (95th − 10th percentile), like EBU loudness range
    onsets_per_s: float  # how busy
    drums: bool
    percussive_share: float  # share of the energy that is percussive (HPSS), 0..1
    energy: float  # 0..1 for the spec
    balance_db: tuple[float, ...]  # long-term level per band (BAND_EDGES_HZ), relative to the total

    def to_dict(self) -> dict[str, Any]:
        out = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}
        out["balance_db"] = [round(b, 2) for b in self.balance_db]
        return out


def long_term_balance(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean power per band in dB relative to the total, of the mid signal (Welch, 8192-point frames)."""
    from scipy.signal import welch

    mid = np.asarray(audio, np.float32)
    mid = mid.mean(axis=0) if mid.ndim == 2 else mid
    freqs, power = welch(mid, fs=sample_rate, nperseg=min(_N_FFT, mid.size), noverlap=None)
    return band_levels(freqs, power)


def band_levels(freqs: np.ndarray, power: np.ndarray) -> np.ndarray:
    edges = np.array(BAND_EDGES_HZ)
    levels = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (freqs >= lo) & (freqs < hi)
        levels.append(power[inside].mean() if np.any(inside) else 1e-20)
    levels = np.maximum(np.array(levels), 1e-20)
    return 10 * np.log10(levels / levels.sum())


def band_centres() -> np.ndarray:
    edges = np.array(BAND_EDGES_HZ)
    return np.sqrt(edges[:-1] * edges[1:])


def measure(audio: np.ndarray, sample_rate: int, mono22k: np.ndarray, onsets_per_s: float) -> Character:
    from pipeline.qa.loudness import integrated_lufs

    loudness = float(integrated_lufs(audio, sample_rate))
    balance = long_term_balance(audio, sample_rate)
    centres = band_centres()
    power = 10 ** (balance / 10)
    brightness = float((power * centres).sum() / power.sum())
    useful = (centres >= 100) & (centres <= 10_000)
    tilt = float(np.polyfit(np.log2(centres[useful]), balance[useful], 1)[0])
    width = _width(audio)
    dynamics = _loudness_range(audio, sample_rate)
    share = _percussive_share(mono22k)
    drums = share >= 0.14 and onsets_per_s >= 1.0
    energy = _energy(loudness, dynamics, onsets_per_s, brightness)
    return Character(
        loudness_lufs=round(loudness, 2),
        brightness_hz=round(brightness, 1),
        tilt_db_per_octave=round(tilt, 2),
        width=round(width, 3),
        dynamics_lu=round(dynamics, 2),
        onsets_per_s=round(onsets_per_s, 2),
        drums=bool(drums),
        percussive_share=round(share, 3),
        energy=round(energy, 2),
        balance_db=tuple(round(float(b), 2) for b in balance),
    )


def _width(audio: np.ndarray) -> float:
    if audio.ndim != 2 or audio.shape[0] < 2:
        return 0.0
    mid = (audio[0] + audio[1]) / 2
    side = (audio[0] - audio[1]) / 2
    m, s = float(np.mean(mid.astype(np.float64) ** 2)), float(np.mean(side.astype(np.float64) ** 2))
    return float(np.sqrt(s / m)) if m > 0 else 0.0


def _loudness_range(audio: np.ndarray, sample_rate: int) -> float:
    """95th − 10th percentile of 3-second loudness, every second, above a relative gate (like LRA)."""
    from pipeline.qa.loudness import integrated_lufs

    window, hop = 3 * sample_rate, sample_rate
    if audio.shape[-1] < window + hop:
        return 0.0
    levels = np.array(
        [integrated_lufs(audio[:, s : s + window], sample_rate) for s in range(0, audio.shape[-1] - window, hop)]
    )
    levels = levels[np.isfinite(levels) & (levels > -70)]
    if levels.size < 2:
        return 0.0
    levels = levels[levels > levels.max() - 20]
    return float(np.percentile(levels, 95) - np.percentile(levels, 10))


def _percussive_share(mono22k: np.ndarray) -> float:
    """Energy share of the percussive part after harmonic–percussive separation (librosa, median filters)."""
    import librosa

    # 30 s at most, from the middle: the share is a property of the texture, not of the length.
    limit = 30 * 22050
    if mono22k.size > limit:
        start = (mono22k.size - limit) // 2
        mono22k = mono22k[start : start + limit]
    spectrum = np.abs(librosa.stft(mono22k, n_fft=1024, hop_length=512))
    harmonic, percussive = librosa.decompose.hpss(spectrum, kernel_size=17)
    total = float(np.sum(harmonic**2) + np.sum(percussive**2))
    return float(np.sum(percussive**2) / total) if total > 0 else 0.0


def _energy(loudness: float, dynamics: float, onsets_per_s: float, brightness: float) -> float:
    """0..1: 40 % loudness (−30..−6 LUFS), 30 % busyness (0..8 onsets/s), 20 % brightness, 10 % compression."""
    loud = np.clip((loudness + 30.0) / 24.0, 0.0, 1.0)
    busy = np.clip(onsets_per_s / 8.0, 0.0, 1.0)
    bright = np.clip((brightness - 500.0) / 3000.0, 0.0, 1.0)
    squashed = np.clip(1.0 - dynamics / 15.0, 0.0, 1.0)
    return float(0.4 * loud + 0.3 * busy + 0.2 * bright + 0.1 * squashed)


def count_onsets_per_s(envelope: np.ndarray, frame_rate: float) -> float:
    """Clear onsets per second: peaks of the onset envelope above a level-relative threshold."""
    if envelope.size < 3:
        return 0.0
    threshold = max(float(np.percentile(envelope, 99)) * 0.2, 1e-9)
    peaks = (envelope[1:-1] > envelope[:-2]) & (envelope[1:-1] >= envelope[2:]) & (envelope[1:-1] > threshold)
    # At most one onset per 50 ms: a drum hit's flux can peak twice.
    times = np.flatnonzero(peaks) / frame_rate
    kept = 0
    last = -1.0
    for t in times:
        if t - last >= 0.05:
            kept += 1
            last = t
    return kept / (envelope.size / frame_rate)
