"""Tonal balance: the mix's long-term average spectrum, in octave bands, held against a genre's target.

A produced track's long-term average spectrum (LTAS) is smooth: measured as energy per octave
band, it falls gently from the low end to the top, and genres differ mostly in how much low end
they carry and how steep the fall is. Each genre family here has such a target — hand-set, a
straight tilt in dB per octave above 125 Hz plus the level of the two bass octaves and of the
top octave — and the mixer measures its own mix against it and corrects the difference with a
four-band EQ (sub shelf at 80 Hz, low peak at 180 Hz, presence peak at 2.5 kHz, high shelf at
6 kHz) whose gains are fitted by bounded
least squares to the measured responses of those very filters. The correction is applied inside
every stem (it is linear), so the stems still sum to the mix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from pedalboard import HighShelfFilter, LowShelfFilter, PeakFilter, Pedalboard
from scipy.optimize import lsq_linear

OCTAVES_HZ: tuple[float, ...] = (31.5, 63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0)
# How much each band counts when fitting: the ear forgives the extremes more than the middle.
BAND_WEIGHTS = np.array([0.4, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.4])
MAX_CUT_DB = 4.0
MAX_BOOST_DB = 2.5  # cut rather than boost: a boost adds rumble or hiss and eats headroom
MIN_CORRECTION_DB = 0.5
EMPTY_BAND_DB = 15.0  # smaller fitted gains are left out (a filter costs time and does nothing audible)
_FRAME = 8192
# Engineers clear the 200–400 Hz octave of mud: a mix sits a little under the tilt's line there.
LOW_MID_DIP_DB = -1.5
_FRAMES = 96


@dataclass(frozen=True)
class Target:
    """Octave-band levels of a produced mix (dB, relative): a fall of `tilt` dB per octave above
    125 Hz (0 dB at 1 kHz), the 63 Hz octave relative to the 125 Hz one, the 31.5 Hz octave
    relative to the 63 Hz one, and the 16 kHz octave's extra fall beyond the tilt."""

    tilt_db_per_octave: float
    octave_63_db: float
    octave_31_db: float
    top_extra_db: float = -6.0

    def levels_db(self) -> np.ndarray:
        levels = np.array([-self.tilt_db_per_octave * np.log2(f / 1000.0) for f in OCTAVES_HZ])
        levels[3] += LOW_MID_DIP_DB
        levels[1] = levels[2] + self.octave_63_db
        levels[0] = levels[1] + self.octave_31_db
        levels[-1] += self.top_extra_db
        return levels


# A spectrum analyser's customary 4.5 dB/octave display tilt is there because produced music falls
# about that much per hertz-wide band, i.e. about 1.5 dB per octave band; genres differ mostly below
# 125 Hz (club music and beats carry a strong sub, band music a round bass, acoustic music little
# below 60 Hz) and in how dark the top is (lo-fi is rolled off on purpose).
CLUB = Target(tilt_db_per_octave=1.5, octave_63_db=1.5, octave_31_db=-6.0)
RETRO = Target(tilt_db_per_octave=1.5, octave_63_db=0.0, octave_31_db=-8.0)  # synthwave: 80s records, less sub
BEATS = Target(tilt_db_per_octave=1.8, octave_63_db=3.0, octave_31_db=-4.0)  # hip-hop, trap: the 808 lives low
BAND = Target(tilt_db_per_octave=1.5, octave_63_db=-1.5, octave_31_db=-9.0)
ACOUSTIC = Target(tilt_db_per_octave=2.0, octave_63_db=-3.0, octave_31_db=-10.0, top_extra_db=-8.0)
# Lo-fi: tape and vinyl, so a warm low end but no deep sub, and a dull top.
LOFI = Target(tilt_db_per_octave=2.5, octave_63_db=-1.0, octave_31_db=-9.0, top_extra_db=-10.0)
AIRY = Target(tilt_db_per_octave=1.5, octave_63_db=-1.0, octave_31_db=-7.0)  # ambient, cinematic

GENRE_TARGETS: dict[str, Target] = {
    **{g: CLUB for g in ("house", "techno", "trance", "drum-and-bass", "dubstep", "pop", "disco")},
    "synthwave": RETRO,
    **{g: BEATS for g in ("hip-hop", "trap", "rnb", "reggae")},
    **{g: BAND for g in ("rock", "metal", "funk", "blues", "country", "latin", "chiptune")},
    **{g: ACOUSTIC for g in ("jazz", "classical", "folk")},
    **{g: AIRY for g in ("ambient", "cinematic")},
    "lofi-hiphop": LOFI,
}


def target_for(genre: str) -> Target:
    return GENRE_TARGETS.get(genre, BAND)


def band_levels_db(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Octave-band energy (dB) of the long-term average spectrum, from _FRAMES evenly spread Hann frames.

    Relative levels only (the absolute offset is arbitrary); silence gives -200 in every band.
    """
    return stem_band_levels_db([audio], sample_rate)[0]


def mix_band_levels_db(
    stems: Sequence[np.ndarray], sample_rate: int, scales: Sequence[float] | None = None
) -> np.ndarray:
    """band_levels_db of the sum of `stems` (each times its scale), reading only the frames it measures."""
    return stem_band_levels_db(stems, sample_rate, scales)[0]


def stem_band_levels_db(
    stems: Sequence[np.ndarray], sample_rate: int, scales: Sequence[float] | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """(levels of the sum of `stems` each times its scale, levels of each), from the same frames."""
    length = max(np.shape(s)[-1] for s in stems)
    starts = np.linspace(0, max(0, length - _FRAME), _FRAMES).astype(np.int64)
    where = starts[:, None] + np.arange(_FRAME)
    window = np.hanning(_FRAME).astype(np.float32)
    total = np.zeros((_FRAMES, _FRAME), dtype=np.float32)
    each = []
    for stem, scale in zip(stems, scales if scales is not None else [1.0] * len(stems)):
        audio = np.asarray(stem)
        audio = audio.reshape(-1, audio.shape[-1])
        if audio.shape[-1] < starts[-1] + _FRAME:
            audio = np.pad(audio, ((0, 0), (0, starts[-1] + _FRAME - audio.shape[-1])))
        frames = audio[:, where].mean(axis=0, dtype=np.float32) * np.float32(scale)
        total += frames
        each.append(_octave_levels(frames * window, sample_rate))
    return _octave_levels(total * window, sample_rate), each


def _octave_levels(frames: np.ndarray, sample_rate: int) -> np.ndarray:
    power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0)
    freqs = np.fft.rfftfreq(frames.shape[1], 1 / sample_rate)
    levels = []
    for centre in OCTAVES_HZ:
        band = (freqs >= centre / np.sqrt(2)) & (freqs < centre * np.sqrt(2))
        levels.append(10 * np.log10(power[band].sum() + 1e-20))
    return np.array(levels)


def deviation_db(measured: np.ndarray, target: np.ndarray, weights: np.ndarray = BAND_WEIGHTS) -> np.ndarray:
    """measured − target per band, with the weighted mean removed (only the shape matters)."""
    diff = measured - target
    return diff - np.average(diff, weights=weights)


def _bands(sample_rate: int) -> list[tuple[str, Any]]:
    return [
        ("sub", lambda g: LowShelfFilter(cutoff_frequency_hz=80.0, gain_db=g, q=0.7)),
        ("low", lambda g: PeakFilter(cutoff_frequency_hz=180.0, gain_db=g, q=0.8)),
        ("presence", lambda g: PeakFilter(cutoff_frequency_hz=2500.0, gain_db=g, q=0.7)),
        ("air", lambda g: HighShelfFilter(cutoff_frequency_hz=6000.0, gain_db=g, q=0.7)),
    ]


@lru_cache(maxsize=4)
def _responses(sample_rate: int) -> np.ndarray:
    """(bands, 10): each correction filter's octave-band response in dB per dB of gain (measured at +6 dB)."""
    impulse = np.zeros((1, 16384), dtype=np.float32)
    impulse[0, 0] = 1.0
    freqs = np.fft.rfftfreq(16384, 1 / sample_rate)
    rows = []
    for _, make in _bands(sample_rate):
        response = np.abs(np.fft.rfft(Pedalboard([make(6.0)])(impulse, sample_rate)[0])) ** 2
        row = []
        for centre in OCTAVES_HZ:
            band = (freqs >= centre / np.sqrt(2)) & (freqs < centre * np.sqrt(2))
            row.append(10 * np.log10(response[band].mean()) / 6.0)
        rows.append(row)
    return np.array(rows)


def fit_correction(measured: np.ndarray, target: np.ndarray, sample_rate: int = 44100) -> dict[str, float]:
    """Gains (dB) of the four correction filters that bring `measured` closest to `target` in shape."""
    responses = _responses(sample_rate)
    # A band far below its target has no content to lift (a drumless piece has no 31 Hz octave):
    # it does not count, or the EQ would only raise rumble there.
    weights = BAND_WEIGHTS * (measured - target - np.median(measured - target) > -EMPTY_BAND_DB)
    want = -deviation_db(measured, target, weights)
    # A free constant column: the overall level is the master's business, not the EQ's.
    design = np.column_stack([responses.T, np.ones(len(OCTAVES_HZ))]) * weights[:, None]
    # The air shelf only cuts: a lift up to Nyquist sharpens transients, and the master's true-peak
    # limiter (4x oversampled) then undershoots the true peak a finer meter finds.
    highest = [0.0 if name == "air" else MAX_BOOST_DB for name, _ in _bands(sample_rate)]
    bounds = ([-MAX_CUT_DB] * len(responses) + [-60.0], highest + [60.0])
    solution = lsq_linear(design, want * weights, bounds=bounds).x
    return {name: round(float(g), 2) for (name, _), g in zip(_bands(sample_rate), solution[:-1])}


def correction_chain(gains: dict[str, float], sample_rate: int = 44100) -> Pedalboard | None:
    """The correction as a fresh Pedalboard (only the filters worth running), or None if none is."""
    plugins = [
        make(gains[name]) for name, make in _bands(sample_rate) if abs(gains.get(name, 0.0)) >= MIN_CORRECTION_DB
    ]
    return Pedalboard(plugins) if plugins else None


def gains_for_stem(
    gains: dict[str, float], stem_levels: np.ndarray, mix_levels: np.ndarray, sample_rate: int = 44100
) -> dict[str, float]:
    """The correction filters one stem needs: those acting on a band where the stem carries at least
    1/10 of the mix's energy. The others would change almost nothing (a low shelf on a pad high-passed
    at 200 Hz) and each costs a pass over the stem; leaving them out moves the mix by < 0.4 dB."""
    share_db = stem_levels - mix_levels
    keep = {}
    for (name, _), response in zip(_bands(sample_rate), _responses(sample_rate)):
        if np.any((np.abs(response) >= 0.3) & (share_db >= -10.0)):
            keep[name] = gains.get(name, 0.0)
    return keep
