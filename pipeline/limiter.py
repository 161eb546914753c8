"""A true-peak brickwall limiter: look-ahead gain computed from 4x-oversampled peaks.

pedalboard's Limiter adds make-up gain and lets inter-sample peaks through (a test master
reached +0.4 dBTP), so the ceiling is enforced here, offline and vectorised:

1. per sample, the 4x-oversampled peak over both channels (BS.1770-4 style interpolation);
2. the gain reduction that peak needs, in dB;
3. look-ahead: a forward running maximum over `lookahead_ms`, so the gain is already down when
   the peak arrives;
4. release: r[n] = max(r1[n], r[n-1] - step) -- a max-plus recursion that is exactly
   max_k(r1[k] + k*step) - n*step, i.e. a running maximum (np.maximum.accumulate), no loop;
5. a moving average over the look-ahead window smooths the attack into a ramp. Every value in
   that window is >= the reduction needed at its end, so the average still meets it.

The result is re-measured; if the gain modulation pushed a true peak over, the internal
target is lowered by the overshoot and the pass repeated (rarely more than once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from pipeline.qa.loudness import oversampled_peaks, true_peak_dbtp


@dataclass(frozen=True)
class LimiterParams:
    ceiling_dbtp: float = -1.0
    lookahead_ms: float = 2.0
    # Recovery speed after a peak, in dB per second: 20 dB/s lets 2 dB of reduction go in 100 ms,
    # slow enough not to distort bass waveforms, quick enough not to pump.
    release_db_per_s: float = 20.0
    margin_db: float = 0.05  # aim this far under the ceiling
    max_passes: int = 4


def gain_reduction_db(
    audio: np.ndarray, sample_rate: int, ceiling_db: float, params: LimiterParams, peaks: np.ndarray | None = None
) -> np.ndarray:
    """Per-sample gain reduction (>= 0 dB) that keeps the oversampled peak under `ceiling_db`.

    `peaks`: the audio's oversampled peak envelope, if already known (it scales with gain, so a
    loudness loop measures it once).
    """
    if peaks is None:
        peaks = oversampled_peaks(audio)
    needed = np.maximum(0.0, 20.0 * np.log10(np.maximum(peaks, 1e-10)) - ceiling_db).astype(np.float64)
    if not np.any(needed > 0):
        return np.zeros(audio.shape[1])
    look = max(2, round(params.lookahead_ms / 1000.0 * sample_rate))
    # Window [n - 1, n + look + 1]: the look-ahead plus a sample either side for the envelope's
    # sub-sample alignment. (scipy's origin shifts a centred window; -(size // 2) starts it at n.)
    size = look + 3
    ahead = maximum_filter1d(needed, size=size, origin=-(size // 2) + 1, mode="nearest")
    step = params.release_db_per_s / sample_rate
    ramp = np.arange(ahead.size) * step
    released = np.maximum.accumulate(ahead + ramp) - ramp
    # Backward-looking average over `look` samples: origin shifts the window to end at n + 1.
    smoothed = uniform_filter1d(released, size=look, origin=(look - 1) // 2, mode="nearest")
    return np.maximum(smoothed, 0.0)


def limit(
    audio: np.ndarray, sample_rate: int, params: LimiterParams = LimiterParams(), peaks: np.ndarray | None = None
) -> np.ndarray:
    """`audio` (channels, n) with its 4x-oversampled true peak at or under params.ceiling_dbtp."""
    audio = np.asarray(audio, dtype=np.float32)
    if peaks is None:
        peaks = oversampled_peaks(audio)
    target = params.ceiling_dbtp - params.margin_db
    out = audio
    for _ in range(params.max_passes):
        reduction = gain_reduction_db(audio, sample_rate, target, params, peaks)
        out = (audio * (10.0 ** (-reduction / 20.0)).astype(np.float32)).astype(np.float32)
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
