"""Envelopes and sweeps driven by the score: the mixer knows when every hit and section happens.

- `hit_gate`: open for `open_s` after each hit, then shut fast: the 80s gated-reverb snare;
- `tighten_low_end`: a kick's boom cut off before the next kick, so the low end pulses;
- `swell`: a slow, seeded rise and fall (a reverb that blooms and recedes, like a freeze pedal);
- `lowpass_lanes` + `gain_lanes`: the arrangement's automation lanes (pipeline.score.Automation,
  written by the composer and also written into song.mid as CC74/CC11) played on a stem: a resonant
  low-pass whose cutoff follows the lane, a gain curve in dB. The composer is the one source of
  truth for these moves: the mixer derives none of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from pedalboard import LadderFilter
from scipy.signal import butter, sosfiltfilt

from pipeline.score import Automation

OPEN_HZ = 18_000.0  # a cutoff at or above this is treated as fully open (the filter is bypassed there)
SWEEP_BLOCK = 512  # samples per filter update (11.6 ms at 44.1 kHz: fine enough not to step audibly)
GAIN_EDGE_S = 0.005  # a gain lane that starts or stops away from 0 dB gets there over 5 ms, not in one sample


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
class LaneGrid:
    """Where the beat grid of the score falls on a stem's samples.

    Sample 0 is beat 0: a reference lead-in is silence padded before the finished mix and stems
    (pipeline.produce), so it moves the lanes with everything else. `end_beat` is the piece's last
    barline: a lane that reaches it holds its final value through the release tail (as the last
    CC value in song.mid does), so an outro's fade does not jump back up in the reverb's ring.
    """

    beat_s: float
    end_beat: float
    n_samples: int
    sample_rate: int

    def sample(self, beat: float) -> int:
        return max(0, min(self.n_samples, round(beat * self.beat_s * self.sample_rate)))

    def span(self, lane: Automation) -> tuple[int, int, int]:
        """(first sample, sample where the lane reaches its finish, first sample after it)."""
        first, reach = self.sample(lane.start), self.sample(max(lane.start, lane.end))
        return first, reach, self.n_samples if lane.end >= self.end_beat - 1e-6 else reach


def lanes_for(lanes: Sequence[Automation], role: str, target: str) -> list[Automation]:
    """The lanes that act on `role`'s stem: its own and the whole mix's ("mix" lanes act alike on every stem)."""
    return [lane for lane in lanes if lane.target == target and lane.role in (role, "mix") and lane.end >= lane.start]


def lowpass_lanes(
    audio: np.ndarray, lanes: Sequence[Automation], grid: LaneGrid, block: int = SWEEP_BLOCK
) -> np.ndarray:
    """`audio` through a 24 dB/octave resonant ladder low-pass whose cutoff follows the lanes.

    The cutoff is updated once per `block` (at the block's middle; even octaves per beat, as the lane
    says); where lanes overlap, the most closed one wins. Only the stretches where some lane holds the
    filter below OPEN_HZ are processed: there the filter is primed on the block before (so it does not
    start from silence) and cross-faded in and out over a block inside the stretch, so nothing clicks
    at a lane's edges and every sample outside a lane's span is left exactly as it was.
    """
    spans = [(grid.span(lane), lane) for lane in lanes]
    spans = [(span, lane) for span, lane in spans if span[2] > span[0]]
    if not spans:
        return audio
    out = audio
    for lo, hi in _union((first, stop) for (first, _, stop), _ in spans):
        starts = np.arange(lo, hi, block)
        mids = starts + (np.minimum(starts + block, hi) - starts) // 2
        cutoff = np.full(mids.size, np.inf)
        for (first, reach, stop), lane in spans:
            inside = (mids >= first) & (mids < stop)
            if inside.any():
                where = np.clip((mids[inside] - first) / max(1, reach - first), 0.0, 1.0)
                begin, finish = max(20.0, lane.begin), max(20.0, lane.finish)
                hz = begin * (finish / begin) ** where  # as pipeline.score.Automation.value_at: even octaves
                cutoff[inside] = np.minimum(cutoff[inside], hz)
        closed = cutoff < OPEN_HZ * 0.999
        edges = np.flatnonzero(np.diff(np.concatenate([[0], closed.astype(np.int8), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            if out is audio:
                out = audio.copy()
            start, stop = lo + a * block, min(hi, lo + b * block)
            out[:, start:stop] = _ladder(audio, start, stop, cutoff[a:b], grid.sample_rate, block)
    return out


def _ladder(audio: np.ndarray, start: int, stop: int, cutoffs: np.ndarray, sample_rate: int, block: int) -> np.ndarray:
    """audio[:, start:stop] low-passed with one cutoff per block, faded in from and out to the dry signal."""
    ladder = LadderFilter(mode=LadderFilter.Mode.LPF24, cutoff_hz=float(cutoffs[0]), resonance=0.25, drive=1.0)
    prime = max(0, start - block)
    if prime < start:  # the filter's state settles on what came before; that output is not used
        ladder.process(audio[:, prime:start], sample_rate, reset=False)
    wet = np.empty((audio.shape[0], stop - start), np.float32)
    for i, hz in enumerate(cutoffs):  # one update per block: a few hundred calls per sweep
        a, b = i * block, min(stop - start, (i + 1) * block)
        ladder.cutoff_hz = float(hz)
        wet[:, a:b] = ladder.process(audio[:, start + a : start + b], sample_rate, reset=False)
    dry = audio[:, start:stop]
    fade = np.linspace(0.0, 1.0, min(block, wet.shape[1] // 2), dtype=np.float32)
    if fade.size:
        wet[:, : fade.size] = dry[:, : fade.size] * (1 - fade) + wet[:, : fade.size] * fade
        wet[:, -fade.size :] = wet[:, -fade.size :] * fade[::-1] + dry[:, -fade.size :] * (1 - fade[::-1])
    return wet


def gain_lanes(audio: np.ndarray, lanes: Sequence[Automation], grid: LaneGrid) -> np.ndarray:
    """`audio` with each gain lane's level (dB, moving linearly in dB sample by sample) applied over its span.

    Lanes multiply one after the other, so overlapping lanes add in dB; outside every span the audio
    is untouched. A lane that begins (or, not held, ends) away from 0 dB reaches that level over
    GAIN_EDGE_S inside its span rather than stepping to it in one sample.
    """
    out = audio
    edge = max(1, int(GAIN_EDGE_S * grid.sample_rate))
    for lane in lanes:
        first, reach, stop = grid.span(lane)
        if stop <= first or (lane.begin == 0.0 and lane.finish == 0.0):
            continue
        where = np.clip((np.arange(first, stop) - first) / max(1, reach - first), 0.0, 1.0)
        db = lane.begin + (lane.finish - lane.begin) * where
        if lane.begin != 0.0:
            db[:edge] *= np.linspace(0.0, 1.0, min(edge, db.size))
        if lane.finish != 0.0 and stop < grid.n_samples:
            db[-edge:] *= np.linspace(1.0, 0.0, min(edge, db.size))
        if out is audio:
            out = audio.copy()
        out[:, first:stop] *= (10.0 ** (db / 20.0)).astype(np.float32)
    return out


def _union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching (first, stop) spans merged, in order."""
    merged: list[tuple[int, int]] = []
    for first, stop in sorted(spans):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((first, stop))
    return merged
