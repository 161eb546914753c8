"""The master bus: glue compression, tonal balance, loudness normalisation and a true-peak ceiling.

    mastered = master(mix, 44100, MasterParams(target_lufs=-14.0, ceiling_dbtp=-1.0))

Loudness is set by measuring (BS.1770-4 with pyloudnorm's filters, vectorised), applying gain, limiting to the ceiling
and re-measuring: limiting lowers loudness a little, so the gain is nudged until the result is
within `tolerance_lu` of the target (two or three passes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from pedalboard import Compressor, HighpassFilter, HighShelfFilter, PeakFilter, Pedalboard

from pipeline.limiter import LimiterParams, limit
from pipeline.qa.loudness import (
    SILENCE_LUFS,
    as_channels_first,
    db_to_amplitude,
    fast_integrated_lufs,
)
from pipeline.qa.truepeak import PeakEnvelope

# The chain works at a fixed loudness so thresholds mean the same thing for any input level.
_STAGING_LUFS = -20.0


@dataclass(frozen=True)
class MasterParams:
    target_lufs: float = -14.0
    ceiling_dbtp: float = -1.0
    # Gain after normalisation and limiting, just before the output: 0 in normal use. A test (and
    # ProduceOptions.first_master_gain_db) sets it to force a first master too hot; corrective()
    # folds the loudness error back into it.
    pre_gain_db: float = 0.0
    highpass_hz: float = 25.0  # also removes any DC offset
    glue_threshold_db: float = -22.0  # at the -20 LUFS staging level: ~1 dB average gain reduction
    glue_ratio: float = 2.0
    mud_cut_db: float = -1.0  # broad dip at 300 Hz
    air_db: float = 1.0  # high shelf at 10 kHz
    lookahead_ms: float = 2.0
    release_db_per_s: float = 20.0
    tolerance_lu: float = 0.1
    max_passes: int = 5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MasterParams:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def with_changes(self, **changes: Any) -> MasterParams:
        return replace(self, **changes)


def master_chain(params: MasterParams) -> Pedalboard:
    """Glue and tone, before loudness: built per job (pedalboard plugins keep state)."""
    return Pedalboard(
        [
            HighpassFilter(cutoff_frequency_hz=params.highpass_hz),
            Compressor(
                threshold_db=params.glue_threshold_db, ratio=params.glue_ratio, attack_ms=30.0, release_ms=200.0
            ),
            PeakFilter(cutoff_frequency_hz=300.0, gain_db=params.mud_cut_db, q=0.7),
            HighShelfFilter(cutoff_frequency_hz=10_000.0, gain_db=params.air_db, q=0.7),
        ]
    )


def master(
    mix: np.ndarray,
    sample_rate: int,
    params: MasterParams = MasterParams(),
    shape: Callable[[np.ndarray, int], np.ndarray] | None = None,
) -> np.ndarray:
    """The mastered track, float32 (2, n): on `target_lufs` ± tolerance, true peak <= ceiling.

    `shape` (e.g. pipeline.reference_master.ReferenceShaper) EQs the glued mix before loudness
    is set. A silent mix comes back silent (there is nothing to normalise).
    """
    audio = as_channels_first(np.asarray(mix, dtype=np.float32))
    if not np.all(np.isfinite(audio)):  # a broken render must not turn the whole master into NaN
        audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
    loudness = fast_integrated_lufs(audio, sample_rate)
    if loudness <= SILENCE_LUFS:
        return audio.copy()
    staged = audio * np.float32(db_to_amplitude(_STAGING_LUFS - loudness))
    toned = master_chain(params)(staged, sample_rate).astype(np.float32, copy=False)
    del staged
    if shape is not None:
        toned = shape(toned, sample_rate)
    normalised = normalise_loudness(toned, sample_rate, params)
    if params.pre_gain_db:
        normalised = normalised * np.float32(db_to_amplitude(params.pre_gain_db))
    return normalised


def normalise_loudness(audio: np.ndarray, sample_rate: int, params: MasterParams) -> np.ndarray:
    """Gain + true-peak limiting, iterated until the integrated loudness is within tolerance."""
    limiter = LimiterParams(
        ceiling_dbtp=params.ceiling_dbtp, lookahead_ms=params.lookahead_ms, release_db_per_s=params.release_db_per_s
    )
    measured = fast_integrated_lufs(audio, sample_rate)
    gain_db = params.target_lufs - measured
    peaks = PeakEnvelope(audio)  # scales with the gain: measured once, refined only if needed
    out = audio
    for _ in range(params.max_passes):
        gain = db_to_amplitude(gain_db)
        out = limit(audio * np.float32(gain), sample_rate, limiter, peaks.scaled(gain))
        error = params.target_lufs - fast_integrated_lufs(out, sample_rate)
        if abs(error) <= params.tolerance_lu:
            break
        # Limiting eats more loudness the harder it works: step a bit past the error.
        gain_db += error * (1.15 if error > 0 else 1.0)
    return without_dc(out, params.ceiling_dbtp)


def without_dc(audio: np.ndarray, ceiling_dbtp: float) -> np.ndarray:
    """Remove the offset that limiting leaves. Riding the gain of an asymmetric waveform makes a small
    DC after the master's high-pass (a swelling ambient pad measured 0.0013 of full scale, and raising
    the high-pass did not touch it). Since |x - m| <= c + |m| (true peaks included: a constant passes
    the oversampling filter unchanged), scaling by c / (c + |m|) keeps every peak under the ceiling."""
    offset = audio.mean(axis=1, keepdims=True, dtype=np.float64)
    worst = float(np.max(np.abs(offset)))
    if worst < 1e-5:
        return audio
    ceiling = db_to_amplitude(ceiling_dbtp)
    return ((audio - offset.astype(np.float32)) * np.float32(ceiling / (ceiling + worst))).astype(np.float32)
