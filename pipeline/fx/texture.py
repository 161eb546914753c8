"""Vinyl surface noise: crackle (sparse clicks of random size) over a soft, band-limited hiss.

Clicks arrive as a Poisson process; their sizes follow a heavy-tailed (Pareto) law, so most are
faint ticks and a few are pops, as on a played record. Each channel gets its own clicks plus a share
of common ones (a scratch is heard in both speakers). Everything is drawn from the seed.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt

CLICKS_PER_SECOND = 9.0
HISS_BAND_HZ = (900.0, 7000.0)
CLICK_BAND_HZ = (1200.0, 9000.0)


def vinyl_noise(n_samples: int, sample_rate: int, seed: int, level_db: float = -50.0) -> np.ndarray:
    """Crackle and hiss, (2, n) float32, with the hiss's RMS at `level_db` dBFS (pops peak ~25 dB above it)."""
    rng = np.random.default_rng(seed)
    level = 10 ** (level_db / 20)
    hiss = rng.standard_normal((2, n_samples)).astype(np.float32)
    hiss = sosfilt(butter(2, HISS_BAND_HZ, "bandpass", fs=sample_rate, output="sos"), hiss, axis=-1)
    hiss *= np.float32(level / max(1e-12, float(np.sqrt(np.mean(hiss[:, : sample_rate * 4] ** 2)))))

    impulses = np.zeros((2, n_samples), dtype=np.float32)
    count = rng.poisson(CLICKS_PER_SECOND * n_samples / sample_rate)
    where = rng.integers(0, n_samples, count)
    size = np.minimum(rng.pareto(2.5, count) + 0.2, 12.0) * rng.choice([-1.0, 1.0], count)
    channel = rng.choice([0, 1, 2], count, p=[0.35, 0.35, 0.3])  # 2: both channels
    for ch in (0, 1):
        mine = (channel == ch) | (channel == 2)
        np.add.at(impulses[ch], where[mine], size[mine].astype(np.float32))
    clicks = sosfilt(butter(2, CLICK_BAND_HZ, "bandpass", fs=sample_rate, output="sos"), impulses, axis=-1)
    return (hiss + clicks.astype(np.float32) * np.float32(level * 6.0)).astype(np.float32)
