"""Envelopes and sweeps driven by the score: the mixer knows when every hit and section happens.

- `hit_gate`: open for `open_s` after each hit, then shut fast: the 80s gated-reverb snare;
- `tighten_low_end`: a kick's boom cut off before the next kick, so the low end pulses;
- `swell`: a slow, seeded rise and fall (a reverb that blooms and recedes, like a freeze pedal);
- `section_sweeps` + `swept_lowpass`: a resonant low-pass that opens over the bars before a drop
  or chorus and closes into a breakdown, following the arrangement's sections and their energy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pedalboard import LadderFilter
from scipy.signal import butter, sosfiltfilt

from pipeline.score import Section

OPEN_HZ = 18_000.0  # a sweep at or above this is treated as fully open (the filter is bypassed there)
CLOSED_HZ = 450.0  # where an opening sweep starts from
BREAKDOWN_HZ = 900.0  # where a breakdown's filter settles
SWEEP_BLOCK = 512  # samples per filter update (11.6 ms at 44.1 kHz: fine enough not to step audibly)
_RISE_KINDS = ("drop", "chorus", "climax")


def hit_gate(
    hits: Sequence[int], n_samples: int, sample_rate: int, open_s: float, close_s: float = 0.012
) -> np.ndarray:
    """(n,) float32: 1 for `open_s` after each hit, falling linearly to 0 over `close_s`, else 0."""
    gate = np.zeros(n_samples, dtype=np.float32)
    hold, fall = int(open_s * sample_rate), max(1, int(close_s * sample_rate))
    shape = np.concatenate([np.ones(hold, np.float32), np.linspace(1.0, 0.0, fall, dtype=np.float32)])
    for hit in hits:
        lo, hi = max(0, hit), min(n_samples, hit + shape.size)
        if lo < hi:
            np.maximum(gate[lo:hi], shape[lo - hit : hi - hit], out=gate[lo:hi])
    return gate


def tighten_low_end(
    drums: np.ndarray, sample_rate: int, kicks: Sequence[int], hold_s: float, fall_s: float, crossover_hz: float = 120.0
) -> np.ndarray:
    """The drums with everything below `crossover_hz` let through only for `hold_s` (+ a `fall_s`
    fade) after each kick: a kick's boom stops before the next one, so the low end pulses with the
    beat instead of droning. Above the crossover nothing changes."""
    # Zero-phase, so that drums − low is a true complement (a phase-shifted low band would leave
    # most of the boom behind); from the mid only, as the mixer keeps the low end mono anyway.
    mid = drums.mean(axis=0) if drums.ndim == 2 else drums
    low = sosfiltfilt(butter(2, crossover_hz, "low", fs=sample_rate, output="sos"), mid).astype(np.float32)
    low *= np.float32(1.0) - hit_gate(kicks, drums.shape[-1], sample_rate, open_s=hold_s, close_s=fall_s)
    return (drums - low).astype(np.float32, copy=False)


def swell(n_samples: int, sample_rate: int, seed: int, low: float = 0.35, high: float = 1.4) -> np.ndarray:
    """(n,) float32 between `low` and `high`, moving over 10–30 s: two slow sines with seeded rates and phases."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples, dtype=np.float32) / np.float32(sample_rate)
    curve = np.zeros(n_samples, dtype=np.float32)
    for rate, phase in zip(rng.uniform(1 / 30, 1 / 10, 2), rng.uniform(0, 2 * np.pi, 2)):
        curve += np.sin(np.float32(2 * np.pi * rate) * t + np.float32(phase))
    return np.float32(low) + np.float32(high - low) * (0.5 + 0.25 * curve)


@dataclass(frozen=True)
class Ramp:
    start_s: float
    end_s: float
    from_hz: float
    to_hz: float


def section_sweeps(sections: Sequence[Section], bar_seconds: float) -> list[Ramp]:
    """Cutoff ramps: open over the last bars before a lift (a drop, a chorus, a jump in energy),
    close over the first bars of a breakdown (or a fall in energy) and stay there until it ends."""
    ramps: list[Ramp] = []
    closed_until = -1.0  # a breakdown's filter stays shut until here unless an opening sweep follows
    for before, after in zip(sections, sections[1:]):
        boundary = after.start_bar * bar_seconds
        lift = after.energy - before.energy >= 0.2 or any(k in after.name.lower() for k in _RISE_KINDS)
        fall = before.energy - after.energy >= 0.25 or "break" in after.name.lower()
        if lift:
            bars = min(4, max(1, before.bars // 2))
            start = boundary - bars * bar_seconds
            from_hz = BREAKDOWN_HZ if closed_until >= boundary - 1e-6 else CLOSED_HZ
            ramps.append(Ramp(start, boundary, from_hz, OPEN_HZ))
        elif fall:
            bars = min(2, after.bars)
            end_of_after = (after.start_bar + after.bars) * bar_seconds
            ramps.append(Ramp(boundary, boundary + bars * bar_seconds, OPEN_HZ, BREAKDOWN_HZ))
            ramps.append(Ramp(boundary + bars * bar_seconds, end_of_after, BREAKDOWN_HZ, BREAKDOWN_HZ))
            closed_until = end_of_after
    # A closed stretch that no opening sweep follows reopens over its last bar rather than jumping.
    fixed: list[Ramp] = []
    for ramp, follows in zip(ramps, [*ramps[1:], None]):
        held = ramp.from_hz == ramp.to_hz < OPEN_HZ
        reopened = follows is not None and follows.start_s <= ramp.end_s + 1e-6 <= follows.end_s + 2e-6
        if held and not reopened:
            reopen = max(ramp.start_s, ramp.end_s - bar_seconds)
            fixed.append(Ramp(ramp.start_s, reopen, ramp.from_hz, ramp.to_hz))
            fixed.append(Ramp(reopen, ramp.end_s, ramp.to_hz, OPEN_HZ))
        else:
            fixed.append(ramp)
    return fixed


def cutoff_per_block(ramps: Sequence[Ramp], n_samples: int, sample_rate: int, block: int = SWEEP_BLOCK) -> np.ndarray:
    """(blocks,) cutoff in Hz at each block's start: OPEN_HZ outside the ramps, exponential inside."""
    blocks = -(-n_samples // block)
    times = np.arange(blocks) * (block / sample_rate)
    log_hz = np.full(blocks, np.log(OPEN_HZ))
    for ramp in ramps:
        inside = (times >= ramp.start_s) & (times < ramp.end_s)
        if inside.any():
            where = (times[inside] - ramp.start_s) / max(1e-9, ramp.end_s - ramp.start_s)
            log_hz[inside] = np.log(ramp.from_hz) + where * (np.log(ramp.to_hz) - np.log(ramp.from_hz))
    # Where a later ramp starts inside a closed hold, the hold gives way to the sweep (set above, in order).
    return np.exp(log_hz)


def swept_lowpass(audio: np.ndarray, sample_rate: int, cutoffs: np.ndarray, block: int = SWEEP_BLOCK) -> np.ndarray:
    """A 24 dB/octave resonant ladder low-pass whose cutoff follows `cutoffs` (one per block).

    Only the stretches where the filter is not fully open are processed (one block of margin either
    side, cross-faded), so a track with two sweeps pays for two sweeps, not for its whole length.
    """
    closed = cutoffs < OPEN_HZ * 0.999
    if not closed.any():
        return audio
    out = audio.copy()
    n = audio.shape[-1]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], closed.astype(np.int8), [0]])))
    for first, last in zip(edges[::2], edges[1::2]):
        lo_block, hi_block = max(0, first - 1), min(cutoffs.size, last + 1)
        ladder = LadderFilter(mode=LadderFilter.Mode.LPF24, cutoff_hz=OPEN_HZ, resonance=0.25, drive=1.0)
        lo, hi = lo_block * block, min(n, hi_block * block)
        for b in range(lo_block, hi_block):  # one update per block: a few hundred calls per sweep
            ladder.cutoff_hz = float(cutoffs[b])
            start, stop = b * block, min(n, (b + 1) * block)
            out[:, start:stop] = ladder.process(audio[:, start:stop], sample_rate, reset=False)
        fade = np.linspace(0.0, 1.0, min(block, hi - lo), dtype=np.float32)
        out[:, lo : lo + fade.size] = audio[:, lo : lo + fade.size] * (1 - fade) + out[:, lo : lo + fade.size] * fade
        tail = slice(hi - fade.size, hi)
        out[:, tail] = out[:, tail] * fade[::-1] + audio[:, tail] * (1 - fade[::-1])
    return out
