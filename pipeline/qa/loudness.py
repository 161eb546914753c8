"""Loudness meters (ITU-R BS.1770-4 via pyloudnorm's filters) and the level helpers every meter uses.

True peak is in pipeline.qa.truepeak. The meters take channels-first audio, shape (channels, n), as
pedalboard produces it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyloudnorm
from scipy.signal import sosfilt, tf2sos

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

    pyloudnorm walks its 400 ms blocks in a Python loop and filters a float64 copy of the whole
    track (~0.35 s and ~250 MB for two stereo minutes); the mastering loop measures three or four
    times and QA once more, so both use this instead: 0.07 s, ten seconds of audio filtered at a
    time. The tests hold it to pyloudnorm's own figure within 1e-6 LU (the same filters, the same
    gating); the production matrix checks the result against ffmpeg's ebur128 meter.
    """
    audio = as_channels_first(audio)
    block = round(0.4 * sample_rate)
    step = round(0.1 * sample_rate)
    if audio.shape[1] < block:
        return SILENCE_LUFS
    step_energy = _step_energies(audio, sample_rate, step)  # (channels, whole 100 ms steps)
    per_block = block // step
    if per_block * step == block:
        # Gating blocks are 400 ms every 100 ms: each is four consecutive steps.
        steps = step_energy.shape[1]
        energy = sum(step_energy[:, k : steps - per_block + 1 + k] for k in range(per_block))
        mean_square = energy / block  # (channels, blocks)
    else:  # a sample rate whose 400 ms is not four whole 100 ms steps: cumulative sums
        weighted = sosfilt(_k_weighting(sample_rate), audio, axis=1)
        cumulative = np.concatenate([np.zeros((audio.shape[0], 1)), np.cumsum(weighted**2, axis=1)], axis=1)
        starts = np.arange(0, audio.shape[1] - block + 1, step)
        mean_square = (cumulative[:, starts + block] - cumulative[:, starts]) / block
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


def _step_energies(audio: np.ndarray, sample_rate: int, step: int, steps_per_chunk: int = 100) -> np.ndarray:
    """Energy of the K-weighted signal in each whole `step` of samples, per channel (float64).

    Filtered ten seconds at a time, the filter state carried across: the same numbers as filtering
    the whole track at once, without a float64 copy of it (85 MB for two stereo minutes).
    """
    sos = _k_weighting(sample_rate)
    channels, n = audio.shape
    steps = n // step
    state = np.zeros((sos.shape[0], channels, 2))
    chunks = []
    for first in range(0, steps, steps_per_chunk):
        count = min(steps_per_chunk, steps - first)
        part = audio[:, first * step : (first + count) * step]
        weighted, state = sosfilt(sos, part, axis=1, zi=state)
        chunks.append(np.square(weighted, out=weighted).reshape(channels, count, step).sum(axis=2))
    return np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0))


@lru_cache(maxsize=4)
def _k_weighting(sample_rate: int) -> np.ndarray:
    """pyloudnorm's K-weighting (high shelf, then high pass) as one second-order-sections cascade."""
    stages = _meter(sample_rate)._filters.values()
    return np.vstack([tf2sos(stage.b, stage.a) for stage in stages])


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
