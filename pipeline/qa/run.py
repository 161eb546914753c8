"""run_qa: every measurement of a finished master, against what the spec asked for."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping

import numpy as np

from pipeline.qa import checks
from pipeline.qa.key import chroma_profile, combine_chromas, key_from_chroma
from pipeline.qa.loudness import as_channels_first, fast_integrated_lufs
from pipeline.qa.report import Check, QAReport
from pipeline.qa.tempo import tempo_from_mono, to_analysis_mono
from pipeline.qa.truepeak import true_peak_dbtp
from pipeline.score import Arrangement
from pipeline.spec import Key, Spec

# Roles whose notes carry pitch: with stems, the key is read from their profiles (see combine_chromas).
PITCHED_ROLES = ("bass", "harmony", "pad", "lead")


MIN_BEATS_FOR_TEMPO = 8.0

def run_qa(
    audio: np.ndarray,
    sample_rate: int,
    spec: Spec,
    arrangement: Arrangement | None = None,
    stems: Mapping[str, np.ndarray] | None = None,
    attempt: int = 1,
    *,
    advisory: Collection[str] = (),
) -> QAReport:
    """Measure `audio` (channels first) against `spec` (resolved or not: unset targets are skipped).

    `advisory` names checks that are reported but do not fail the track (e.g. {"tempo"} for a
    pulse-free ambient piece). `stems` enables the silent-stem check and a cleaner key reading.
    """
    started = time.perf_counter()
    audio = as_channels_first(np.asarray(audio, dtype=np.float32))
    found: list[Check] = []
    validity = checks.finite(audio)
    if not validity.passed:
        found.append(validity)
        audio = np.nan_to_num(audio, nan=0.0, posinf=1.0, neginf=-1.0)
        stems = {role: np.nan_to_num(stem) for role, stem in (stems or {}).items()} or None

    found.append(checks.loudness(fast_integrated_lufs(audio, sample_rate), spec.loudness_lufs.value))
    found.append(checks.true_peak(true_peak_dbtp(audio), spec.true_peak_dbtp.value))
    found.append(checks.clipping(audio))
    found.append(checks.dc_offset(audio, sample_rate))
    found.append(checks.phase(audio, sample_rate))
    found.extend(checks.silence(checks.window_levels_dbfs(audio, sample_rate)))

    measured_s = audio.shape[1] / sample_rate
    if spec.duration_s is not None:
        found.append(checks.duration(measured_s, spec.duration_s.value, _bar_seconds(spec, arrangement)))

    if spec.tempo_bpm is not None:
        mono = to_analysis_mono(audio, sample_rate)
        estimate = tempo_from_mono(mono, expected_bpm=spec.tempo_bpm.value)
        meter = spec.time_signature.value if spec.time_signature else "4/4"
        # Fewer than 8 beats (a one-bar piece at 40 BPM) is too little evidence to call a tempo
        # wrong: the reading is still reported, as a warning.
        too_short = measured_s * spec.tempo_bpm.value / 60.0 < MIN_BEATS_FOR_TEMPO
        found.append(
            checks.tempo(estimate, spec.tempo_bpm.value, advisory="tempo" in advisory or too_short, meter=meter)
        )

    if spec.key is not None:
        target = Key.parse(spec.key.value)
        pitched = _pitched_stems(stems)
        if pitched:
            chroma = combine_chromas([chroma_profile(to_analysis_mono(stem, sample_rate)) for stem in pitched])
        else:
            chroma = chroma_profile(to_analysis_mono(audio, sample_rate))
        estimate_key = key_from_chroma(chroma)
        found.append(checks.key(estimate_key, target.tonic, target.mode, advisory="key" in advisory))

    if stems:
        expected = {t.role for t in arrangement.tracks if t.notes} if arrangement is not None else None
        found.append(checks.stems_audible(stems, expected))

    found = [Check(**{**c.__dict__, "advisory": True}) if c.name in advisory and not c.advisory else c for c in found]
    return QAReport(checks=tuple(found), attempt=attempt, seconds=time.perf_counter() - started)


def _bar_seconds(spec: Spec, arrangement: Arrangement | None) -> float:
    if arrangement is not None:
        return arrangement.bar_seconds
    bpm = spec.tempo_bpm.value if spec.tempo_bpm is not None else 120.0
    num, den = spec.meter
    return num * 4.0 / den * 60.0 / bpm


def _pitched_stems(stems: Mapping[str, np.ndarray] | None) -> list[np.ndarray]:
    """The audible pitched stems (bass, harmony, pad, lead): the key is read from them, not the drums."""
    if not stems:
        return []
    return [
        as_channels_first(stems[role]) for role in PITCHED_ROLES if role in stems and np.max(np.abs(stems[role])) > 1e-6
    ]
