"""Mastering towards a reference: its long-term tonal balance, its width and (when matching) its loudness.

    shaper = ReferenceShaper.matching(reference_character)     # "match the reference"
    shaper = ReferenceShaper.leaning(reference_character)      # a reference's character, gently
    mastered = master(mix, 44100, params, shape=shaper)        # pipeline.mastering calls it after the glue
    shaper.report(mastered, 44100)                             # how close it got

How, as matchering does it (its idea, not its code: matchering is GPL-3.0, ampa is MIT, and it
works on files with its own limiter, where ampa must keep its own true-peak ceiling): the mix's
and the reference's long-term spectra (Welch, mid signal) in third-octave bands, relative to their
totals so loudness does not enter; their difference, smoothed across neighbouring bands and held
within ±9 dB (±3 dB when only leaning), becomes a linear-phase FIR (no phase smear, the stems'
timing untouched) applied to both channels; the side signal is scaled towards the reference's
side/mid ratio. Loudness is then set by ampa's own normaliser and limiter (pipeline.mastering),
to the spec's target, which "match the reference" sets to the reference's loudness (within
−20..−8 LUFS), so the true-peak ceiling always holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import firwin2, oaconvolve

from pipeline.reference.character import BAND_EDGES_HZ, Character, band_centres, long_term_balance

_TAPS = 4095  # odd: a linear-phase FIR with a whole-sample delay; ~11 Hz resolution at 44.1 kHz
_BALANCE_RANGE_HZ = (40.0, 16_000.0)  # where the balance distance is measured


def balance_distance_db(a: np.ndarray, b: np.ndarray) -> float:
    """RMS difference (dB) between two band balances over 40 Hz–16 kHz, after removing the mean offset."""
    centres = band_centres()
    inside = (centres >= _BALANCE_RANGE_HZ[0]) & (centres <= _BALANCE_RANGE_HZ[1])
    diff = np.asarray(a)[inside] - np.asarray(b)[inside]
    diff -= diff.mean()
    return float(np.sqrt(np.mean(diff**2)))


@dataclass
class ReferenceShaper:
    reference: Character
    max_db: float
    strength: float  # share of the difference corrected: 1 = match, 0.5 = lean
    matching: bool
    last: dict[str, Any] = field(default_factory=dict)  # what the latest call did, for the report

    @classmethod
    def match(cls, reference: Character) -> ReferenceShaper:
        return cls(reference=reference, max_db=9.0, strength=1.0, matching=True)

    @classmethod
    def lean(cls, reference: Character) -> ReferenceShaper:
        return cls(reference=reference, max_db=3.0, strength=0.5, matching=False)

    def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """The audio EQ'd and widened/narrowed towards the reference (channels-first float32)."""
        target = np.array(self.reference.balance_db)
        before = long_term_balance(audio, sample_rate)
        gains = self.band_gains(before, target)
        fir = _fir(gains, sample_rate)
        delay = (fir.size - 1) // 2
        shaped = oaconvolve(audio, fir[None, :], mode="full", axes=1)[:, delay : delay + audio.shape[1]]
        width_before = _width(shaped)
        side_gain = 1.0
        if shaped.shape[0] == 2 and width_before > 1e-3:
            wanted = width_before * (self.reference.width / width_before) ** self.strength
            side_gain = float(np.clip(wanted / width_before, 0.5, 2.0))
            mid, side = (shaped[0] + shaped[1]) / 2, (shaped[0] - shaped[1]) / 2 * side_gain
            shaped = np.stack([mid + side, mid - side])
        self.last = {
            "mode": "match" if self.matching else "lean",
            "eq_db": {f"{c:.0f} Hz": round(float(g), 2) for c, g in zip(band_centres(), gains)},
            "side_gain": round(side_gain, 3),
            "balance_distance_before_db": round(balance_distance_db(before, target), 2),
        }
        return shaped.astype(np.float32)

    def band_gains(self, mix_balance: np.ndarray, target: np.ndarray) -> np.ndarray:
        diff = target - mix_balance
        centres = band_centres()
        # Outside 30 Hz–16 kHz the reference says more about its encoder and rumble than its sound.
        diff[(centres < 30) | (centres > 16_000)] = 0.0
        diff -= np.average(diff, weights=10 ** (mix_balance / 10))  # tone, not level: loudness comes later
        smooth = uniform_filter1d(diff, size=3, mode="nearest")
        return np.clip(smooth * self.strength, -self.max_db, self.max_db)

    def report(self, mastered: np.ndarray, sample_rate: int) -> dict[str, Any]:
        """How close the master came: loudness delta, balance distance before and after, width."""
        from pipeline.qa.loudness import integrated_lufs

        target = np.array(self.reference.balance_db)
        after = long_term_balance(mastered, sample_rate)
        loudness = float(integrated_lufs(mastered, sample_rate))
        return {
            **self.last,
            "reference_lufs": self.reference.loudness_lufs,
            "master_lufs": round(loudness, 2),
            "loudness_delta_lu": round(loudness - self.reference.loudness_lufs, 2),
            "balance_distance_after_db": round(balance_distance_db(after, target), 2),
            "reference_width": self.reference.width,
            "master_width": round(_width(mastered), 3),
        }


def _fir(gains_db: np.ndarray, sample_rate: int) -> np.ndarray:
    nyquist = sample_rate / 2
    centres = band_centres()
    freqs = np.concatenate([[0.0], centres[centres < nyquist], [nyquist]])
    gains = np.concatenate([[gains_db[0]], gains_db[centres < nyquist], [gains_db[centres < nyquist][-1]]])
    return firwin2(_TAPS, freqs / nyquist, 10 ** (gains / 20)).astype(np.float32)


def _width(audio: np.ndarray) -> float:
    if audio.ndim != 2 or audio.shape[0] < 2:
        return 0.0
    mid = (audio[0].astype(np.float64) + audio[1]) / 2
    side = (audio[0].astype(np.float64) - audio[1]) / 2
    m = float(np.mean(mid**2))
    return float(np.sqrt(np.mean(side**2) / m)) if m > 0 else 0.0


__all__ = ["BAND_EDGES_HZ", "ReferenceShaper", "balance_distance_db"]
