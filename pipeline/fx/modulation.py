"""Pitch wobble as a modulated fractional delay: tape wow and flutter, the drift of an analog synth.

A read position that moves against time changes pitch by the slope of the delay: a delay
d(t) = A·sin(2πft) bends the pitch by up to 2πf·A (as a fraction). `wobble_delay` sums a few such
sines with seeded rates and phases and scales them so that the pitch never strays further than the
asked number of cents, which keeps the effect's strength a parameter rather than an accident.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Wobble:
    """One family of pitch movement: `rate_hz` (the sines are spread ±35 % around it), `cents` at most."""

    rate_hz: float
    cents: float
    partials: int = 3


TAPE_WOW = Wobble(rate_hz=0.55, cents=9.0)  # a worn cassette deck: slow, audible seasick pitch
TAPE_FLUTTER = Wobble(rate_hz=7.0, cents=2.5, partials=2)  # capstan and scrape flutter: fast, small
ANALOG_DRIFT = Wobble(rate_hz=0.12, cents=4.0)  # an oscillator wandering with temperature


def wobble_delay(n_samples: int, sample_rate: int, wobbles: tuple[Wobble, ...], seed: int) -> np.ndarray:
    """Delay in samples (float32, zero-mean, (n,)) whose slope bends the pitch by at most sum(cents)."""
    rng = np.random.default_rng(seed)
    # Computed at a 1/16 control rate and interpolated: the fastest wobble (flutter, ~10 Hz) is
    # still drawn with hundreds of points per cycle, at a fraction of the cost.
    step = 16
    points = n_samples // step + 2
    t = np.arange(points, dtype=np.float64) * (step / sample_rate)
    curve = np.zeros(t.size, dtype=np.float64)
    for wobble in wobbles:
        rates = wobble.rate_hz * rng.uniform(0.65, 1.35, wobble.partials)
        phases = rng.uniform(0.0, 2 * np.pi, wobble.partials)
        weights = rng.uniform(0.5, 1.0, wobble.partials)
        max_fraction = 2.0 ** (wobble.cents / 1200.0) - 1.0
        # Peak pitch deviation is sum(2π f_i a_i); choose the a_i so that it equals max_fraction.
        amplitudes = weights * max_fraction / float(np.sum(2 * np.pi * rates * weights))
        for rate, phase, amplitude in zip(rates, phases, amplitudes):
            curve += (amplitude * sample_rate) * np.sin(2 * np.pi * rate * t + phase)
    # Linear interpolation between control points, as one broadcast: (points-1, step) then flattened.
    start = curve[:-1].astype(np.float32)[:, np.newaxis]
    slope = np.diff(curve).astype(np.float32)[:, np.newaxis]
    ramp = np.arange(step, dtype=np.float32)[np.newaxis, :] / np.float32(step)
    return (start + slope * ramp).reshape(-1)[:n_samples]


def modulated_delay(audio: np.ndarray, delay_samples: np.ndarray) -> np.ndarray:
    """audio (channels, n) read at n - delay (linear interpolation), float32; the ends are held."""
    n = audio.shape[-1]
    # Whole and fractional parts of the (small) delay apart: float32 keeps the fraction exact enough,
    # where a float32 read position in the millions would not.
    shift = -np.asarray(delay_samples[:n], dtype=np.float32)
    whole = np.floor(shift)
    frac = shift - whole
    index = np.arange(n, dtype=np.int32) + whole.astype(np.int32)
    del shift, whole
    np.clip(index, 0, n - 2, out=index)
    out = np.empty(audio.shape, dtype=np.float32)
    for channel in range(audio.shape[0]):
        source = audio[channel]
        left = source[index]
        out[channel] = left + frac * (source[index + 1] - left)
    return out
