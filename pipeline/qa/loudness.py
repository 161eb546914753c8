"""Level meters: integrated loudness (ITU-R BS.1770-4 via pyloudnorm) and true peak.

True peak follows BS.1770-4 Annex 2: upsample 4x and take the largest absolute sample. Both
meters take channels-first audio, shape (channels, n), as pedalboard produces it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyloudnorm
from scipy.signal import resample_poly, sosfilt, tf2sos

TRUE_PEAK_OVERSAMPLING = 4
# The interpolation filter matters: a short 48-tap Kaiser design (as first written here) droops
# above ~12 kHz and under-read drum transients by up to 0.7 dB against ffmpeg's ebur128 meter.
# scipy's polyphase resampler (a long Kaiser-windowed sinc) agrees with ffmpeg within 0.05 dB
# and is faster.
# Below this, pyloudnorm reports -inf (everything gated away): treat as silence.
SILENCE_LUFS = -70.0


@lru_cache(maxsize=4)
def _meter(sample_rate: int) -> pyloudnorm.Meter:
    return pyloudnorm.Meter(sample_rate)  # BS.1770-4 K-weighting and gating


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness in LUFS; SILENCE_LUFS for silence or clips shorter than one gating block."""
    audio = as_channels_first(audio)
    if audio.shape[1] < int(0.4 * sample_rate):
        return SILENCE_LUFS
    loudness = _meter(sample_rate).integrated_loudness(audio.T.astype(np.float64, copy=False))
    return float(loudness) if np.isfinite(loudness) else SILENCE_LUFS


def fast_integrated_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """BS.1770-4 integrated loudness, vectorised: pyloudnorm's own K-weighting filters and gating.

    pyloudnorm walks its 400 ms blocks in a Python loop (~0.3 s per 2-minute track, more on a
    busy machine); the mastering loop measures two or three times, so it uses this instead. The
    tests hold it to pyloudnorm within 0.02 LU; QA still reports pyloudnorm's own figure.
    """
    audio = as_channels_first(audio)
    block = round(0.4 * sample_rate)
    step = round(0.1 * sample_rate)
    if audio.shape[1] < block:
        return SILENCE_LUFS
    weighted = sosfilt(_k_weighting(sample_rate), audio, axis=1)
    energy = np.concatenate([np.zeros((audio.shape[0], 1)), np.cumsum(weighted**2, axis=1)], axis=1)
    starts = np.arange(0, audio.shape[1] - block + 1, step)
    mean_square = (energy[:, starts + block] - energy[:, starts]) / block  # (channels, blocks)
    power = mean_square.sum(axis=0)  # L and R weigh 1.0
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(power)
    gated = power[block_lufs >= -70.0]
    if gated.size == 0:
        return SILENCE_LUFS
    relative = -0.691 + 10 * np.log10(gated.mean()) - 10.0
    gated = power[(block_lufs >= -70.0) & (block_lufs > relative)]
    if gated.size == 0:
        return SILENCE_LUFS
    return float(-0.691 + 10 * np.log10(gated.mean()))


@lru_cache(maxsize=4)
def _k_weighting(sample_rate: int) -> np.ndarray:
    """pyloudnorm's K-weighting (high shelf, then high pass) as one second-order-sections cascade."""
    stages = _meter(sample_rate)._filters.values()
    return np.vstack([tf2sos(stage.b, stage.a) for stage in stages])


def oversampled_peaks(audio: np.ndarray, factor: int = TRUE_PEAK_OVERSAMPLING) -> np.ndarray:
    """Per original sample, the largest |x| among its `factor` oversampled points over all channels.

    Returns shape (n,): the envelope a true-peak limiter must keep under its ceiling.
    """
    audio = as_channels_first(audio)
    n = audio.shape[1]
    envelope = np.abs(audio).max(axis=0).astype(np.float32)
    if n < 2:
        return envelope
    for channel in audio:
        up = _upsample(channel)  # length >= 4n + 2, aligned: up[4i] is sample i
        np.abs(up, out=up)
        # Sample i owns the oversampled points 4i-2 .. 4i+1; blocks starting at 4k+2 are sample k+1's.
        owned = up[2 : 2 + factor * n].reshape(n, factor).max(axis=1)
        np.maximum(envelope[1:], owned[:-1], out=envelope[1:])
        envelope[0] = max(envelope[0], float(up[:2].max()))
    return envelope


def _upsample(channel: np.ndarray) -> np.ndarray:
    """4x oversampled copy of one channel, aligned (up[4i] is sample i), with two samples of padding."""
    up = resample_poly(np.asarray(channel, dtype=np.float32), TRUE_PEAK_OVERSAMPLING, 1).astype(np.float32)
    return np.concatenate([up, np.zeros(2, dtype=np.float32)])


def true_peak_dbtp(audio: np.ndarray) -> float:
    """True peak in dBTP (4x oversampled). -inf dB is reported as -200."""
    audio = as_channels_first(audio)
    if audio.size == 0:
        return -200.0
    peak = float(np.max(np.abs(audio)))
    for channel in audio:
        peak = max(peak, float(np.max(np.abs(_upsample(channel)))))
    return amplitude_to_db(peak)


def sample_peak_dbfs(audio: np.ndarray) -> float:
    return amplitude_to_db(float(np.max(np.abs(audio)))) if np.size(audio) else -200.0


def amplitude_to_db(value: float) -> float:
    return 20.0 * np.log10(value) if value > 1e-10 else -200.0


def db_to_amplitude(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def as_channels_first(audio: np.ndarray) -> np.ndarray:
    """Accept (n,), (channels, n) or (n, channels) for 1–2 channels; return (channels, n)."""
    audio = np.asarray(audio)
    if audio.ndim == 1:
        return audio[np.newaxis, :]
    if audio.ndim != 2:
        raise ValueError(f"audio must be 1-D or 2-D, got shape {audio.shape}")
    if audio.shape[0] > 8 and audio.shape[1] <= 8:
        return audio.T
    return audio
