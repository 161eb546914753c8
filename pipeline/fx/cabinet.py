"""A guitar amp in front of a speaker cabinet: pedalboard plugins plus a synthesized impulse response.

The cabinet's impulse response is designed, not recorded (no free IR ships in Debian or PyPI):
1. a magnitude response on a 4096-point grid shaped like a closed-back 4×12 with a close mic —
   a resonant 2nd-order high-pass at the box resonance (~80 Hz), a dip in the low mids, a presence
   peak near 2.4 kHz, and the cone's break-up as a steep (8th + 4th order) low-pass from ~5 kHz,
   with a fixed-seed ripple of ±2 dB above 1 kHz for the peaks and notches of a real cone;
2. made minimum-phase by the real-cepstrum (homomorphic) method, like a measured IR's energy, all
   up front;
3. cut to 1024 taps (23 ms at 44.1 kHz) with a half-Hann fade, and scaled to 0 dB at its loudest.
The seed is fixed: a cabinet is one piece of gear, the same in every job.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from pedalboard import Convolution, Distortion, Gain, HighpassFilter, HighShelfFilter, LowShelfFilter, PeakFilter

CAB_TAPS = 1024
_GRID = 4096
_CAB_SEED = 412


@lru_cache(maxsize=4)
def cabinet_ir(sample_rate: int = 44100) -> np.ndarray:
    """(1, CAB_TAPS) float32 minimum-phase impulse response of the cabinet described above."""
    f = np.fft.rfftfreq(_GRID, 1 / sample_rate)
    f[0] = 1.0
    box_hz, box_q = 80.0, 1.3
    highpass = f**2 / np.sqrt((box_hz**2 - f**2) ** 2 + (f * box_hz / box_q) ** 2)
    breakup = 1 / np.sqrt(1 + (f / 5000.0) ** 8) / np.sqrt(1 + (f / 7000.0) ** 4)
    octaves = np.log2(f)
    shape_db = 4.0 * np.exp(-0.5 * ((octaves - np.log2(2400.0)) / 0.45) ** 2)  # presence
    shape_db -= 3.0 * np.exp(-0.5 * ((octaves - np.log2(450.0)) / 0.6) ** 2)  # low-mid dip
    rng = np.random.default_rng(_CAB_SEED)
    for centre in rng.uniform(np.log2(1000.0), np.log2(6000.0), 8):
        shape_db += rng.uniform(-2.0, 2.0) * np.exp(-0.5 * ((octaves - centre) / 0.08) ** 2)
    magnitude = highpass * breakup * 10 ** (shape_db / 20)
    # Minimum phase: fold the real cepstrum of log|H| onto positive quefrencies.
    cepstrum = np.fft.irfft(np.log(np.maximum(magnitude, 1e-6)), _GRID)
    fold = np.zeros(_GRID)
    fold[0] = cepstrum[0]
    fold[1 : _GRID // 2] = 2 * cepstrum[1 : _GRID // 2]
    fold[_GRID // 2] = cepstrum[_GRID // 2]
    ir = np.fft.irfft(np.exp(np.fft.rfft(fold)), _GRID)[:CAB_TAPS]
    fade = CAB_TAPS // 4
    ir[-fade:] *= np.cos(np.linspace(0, np.pi / 2, fade)) ** 2
    ir /= np.max(np.abs(np.fft.rfft(ir, _GRID)))
    return ir.astype(np.float32)[np.newaxis, :]


def amp_and_cabinet(drive_db: float, *, scoop_db: float = 0.0, sample_rate: int = 44100) -> list[Any]:
    """Tighten, push the mids into the drive, saturate, tone stack (bass, mid scoop, treble), cabinet.

    `drive_db` 0 gives a clean amp (tone stack and cabinet only); `scoop_db` < 0 scoops the mids (metal).
    """
    plugins: list[Any] = [HighpassFilter(cutoff_frequency_hz=90.0)]
    if drive_db > 0:
        plugins += [
            HighpassFilter(cutoff_frequency_hz=110.0),  # tight low end before the drive: no flub
            PeakFilter(cutoff_frequency_hz=750.0, gain_db=5.0, q=0.8),  # the overdrive pedal's mid hump
            Distortion(drive_db=drive_db),
            Gain(gain_db=-0.6 * drive_db),
        ]
    plugins += [
        LowShelfFilter(cutoff_frequency_hz=120.0, gain_db=2.0),
        PeakFilter(cutoff_frequency_hz=650.0, gain_db=scoop_db, q=0.7),
        HighShelfFilter(cutoff_frequency_hz=3200.0, gain_db=2.0),
        Convolution(cabinet_ir(sample_rate), sample_rate=sample_rate),
    ]
    return plugins
