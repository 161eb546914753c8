"""A true-peak brickwall limiter: look-ahead gain computed from 4x-oversampled peaks.

pedalboard's Limiter adds make-up gain and lets inter-sample peaks through (a test master
reached +0.4 dBTP), so the ceiling is enforced here, offline and vectorised:

1. per sample, the 4x-oversampled peak over both channels (pipeline.qa.truepeak; exact only where
   it exceeds the ceiling, the only place it matters);
2. the gain reduction that peak needs, in dB;
3. look-ahead: a forward running maximum over `lookahead_ms`, so the gain is already down when
   the peak arrives;
4. release: r[n] = max(r1[n], r[n-1] - step) -- a max-plus recursion that is exactly
   max_k(r1[k] + k*step) - n*step, i.e. a running maximum (np.maximum.accumulate), computed in
   blocks so float32 keeps its precision;
5. a moving average over the look-ahead window smooths the attack into a ramp. Every value in
   that window is >= the reduction needed at its end, so the average still meets it.

The result is re-measured; if the gain modulation pushed a true peak over, the internal
target is lowered by the overshoot and the pass repeated (rarely more than once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from pipeline.qa.loudness import db_to_amplitude
from pipeline.qa.truepeak import PeakEnvelope, true_peak_dbtp


@dataclass(frozen=True)
class LimiterParams:
    ceiling_dbtp: float = -1.0
    lookahead_ms: float = 2.0
    # Recovery speed after a peak, in dB per second: 20 dB/s lets 2 dB of reduction go in 100 ms,
    # slow enough not to distort bass waveforms, quick enough not to pump.
    release_db_per_s: float = 20.0
    # Aim this far under the ceiling: independent meters (ffmpeg's ebur128, a 16x oversampled one) read
    # dense masters up to 0.2 dB hotter than this limiter's 4x peak estimate.
    margin_db: float = 0.25
    max_passes: int = 4


def gain_reduction_db(
    audio: np.ndarray, sample_rate: int, ceiling_db: float, params: LimiterParams, peaks: PeakEnvelope | None = None
) -> np.ndarray:
    """Per-sample gain reduction (>= 0 dB) that keeps the oversampled peak under `ceiling_db`.

    `peaks`: the audio's oversampled peak envelope, if already known (it scales with gain, so a
    loudness loop measures it once: see PeakEnvelope.scaled).
    """
    if peaks is None:
        peaks = PeakEnvelope(audio)
    # Only where the envelope exceeds the ceiling does its exact value matter.
    ceiling = db_to_amplitude(ceiling_db)
    envelope = peaks.above(ceiling)
    over = np.flatnonzero(envelope > ceiling)
    if over.size == 0:
        return np.zeros(audio.shape[1], np.float32)
    # float32 throughout: a 2-minute track's per-sample curves are 21 MB each instead of 42.
    needed = np.zeros(audio.shape[1], np.float32)
    needed[over] = 20.0 * np.log10(envelope[over]) - np.float32(ceiling_db)
    look = max(2, round(params.lookahead_ms / 1000.0 * sample_rate))
    # Window [n - 1, n + look + 1]: the look-ahead plus a sample either side for the envelope's
    # sub-sample alignment. (scipy's origin shifts a centred window; -(size // 2) starts it at n.)
    size = look + 3
    ahead = maximum_filter1d(needed, size=size, origin=-(size // 2) + 1, mode="nearest")
    del needed
    released = _release(ahead, params.release_db_per_s / sample_rate)
    del ahead
    # Backward-looking average over `look` samples: origin shifts the window to end at n + 1.
    smoothed = uniform_filter1d(released, size=look, origin=(look - 1) // 2, mode="nearest")
    return np.maximum(smoothed, np.float32(0.0), out=smoothed)


def _release(ahead: np.ndarray, step: float, block: int = 1 << 16) -> np.ndarray:
    """r[n] = max(ahead[n], r[n-1] - step): the reduction, let go at `step` dB per sample.

    Within a block the max-plus recursion is a running maximum: r[k] = max_j<=k(a[j] + j*step) - k*step,
    plus what is left of the previous block's last value. Blocks keep the ramp small enough for
    float32 (<= 30 dB at 20 dB/s), and silent stretches are skipped.
    """
    out = np.zeros_like(ahead)
    ramp = (np.arange(min(block, ahead.size), dtype=np.float64) * step).astype(np.float32)
    carry = 0.0  # r at the end of the previous block
    for start in range(0, ahead.size, block):
        segment = ahead[start : start + block]
        if carry <= 0.0 and not segment.any():
            continue
        r = ramp[: segment.size]
        released = np.maximum.accumulate(segment + r) - r
        np.maximum(released, np.float32(carry - step) - r, out=released)
        out[start : start + segment.size] = released
        carry = float(released[-1])
    return out


def limit(
    audio: np.ndarray, sample_rate: int, params: LimiterParams = LimiterParams(), peaks: PeakEnvelope | None = None
) -> np.ndarray:
    """`audio` (channels, n) with its 4x-oversampled true peak at or under params.ceiling_dbtp."""
    audio = np.asarray(audio, dtype=np.float32)
    if peaks is None:
        peaks = PeakEnvelope(audio)
    target = params.ceiling_dbtp - params.margin_db
    out = audio
    for _ in range(params.max_passes):
        reduction = gain_reduction_db(audio, sample_rate, target, params, peaks)
        out = audio * np.power(np.float32(10.0), reduction * np.float32(-1.0 / 20.0))
        overshoot = true_peak_dbtp(out) - params.ceiling_dbtp
        if overshoot <= 0:
            return out
        target -= overshoot + 0.05
    # Last resort, never above the ceiling: a static trim by the remaining overshoot.
    remaining = true_peak_dbtp(out) - params.ceiling_dbtp
    if remaining > 0:
        out = out * np.float32(10 ** (-(remaining + 0.01) / 20))
    return out


__all__ = ["LimiterParams", "gain_reduction_db", "limit"]
