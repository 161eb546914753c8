"""One function per QA question. Each takes measurements or audio and returns a Check."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.signal import butter, sosfiltfilt

from pipeline.qa.key import KeyEstimate
from pipeline.qa.report import Check
from pipeline.qa.tempo import TempoEstimate

LOUDNESS_TOLERANCE_LU = 0.5
CLIP_LEVEL = 0.999
SILENCE_DBFS = -60.0
SILENCE_WINDOW_S = 0.05
MAX_LEADING_SILENCE_S = 1.0
# The renderer adds a 1 s release tail; a tail fading under -60 dBFS for a moment is normal.
MAX_TRAILING_SILENCE_S = 2.0
MAX_GAP_S = 2.0
MAX_DC = 10 ** (-60 / 20)  # -60 dBFS
TEMPO_TOLERANCE = 0.02
RENDER_TAIL_S = 1.0
SILENT_STEM_DBFS = -60.0


def loudness(measured_lufs: float, target_lufs: float) -> Check:
    delta = measured_lufs - target_lufs
    ok = abs(delta) <= LOUDNESS_TOLERANCE_LU
    word = "too loud" if delta > 0 else "too quiet"
    return Check(
        "loudness",
        measured_lufs,
        target_lufs,
        "LUFS",
        ok,
        "" if ok else f"{word}: {measured_lufs:.1f} LUFS, target {target_lufs:g} ± {LOUDNESS_TOLERANCE_LU:g}",
    )


def true_peak(measured_dbtp: float, ceiling_dbtp: float) -> Check:
    ok = measured_dbtp <= ceiling_dbtp + 1e-3
    return Check(
        "true_peak",
        measured_dbtp,
        ceiling_dbtp,
        "dBTP",
        ok,
        "" if ok else f"true peak too high: {measured_dbtp:+.2f} dBTP, ceiling {ceiling_dbtp:+g} dBTP",
    )


def finite(audio: np.ndarray) -> Check:
    """NaN or infinite samples (a broken render or effect): everything else is measured without them."""
    count = int(audio.size - np.count_nonzero(np.isfinite(audio)))
    ok = count == 0
    return Check(
        "finite", count, 0, "samples", ok, "" if ok else f"broken audio: {count} samples are not numbers (NaN/inf)"
    )


def clipping(audio: np.ndarray) -> Check:
    count = int(np.count_nonzero(np.abs(audio) >= CLIP_LEVEL))
    ok = count == 0
    return Check(
        "clipping",
        count,
        0,
        "samples",
        ok,
        "" if ok else f"clipping: {count} samples at or above full scale",
    )


def dc_offset(audio: np.ndarray, sample_rate: int) -> Check:
    """The steady offset per channel: the median level of the audio below 2 Hz.

    A plain mean over the track is not it: a few asymmetric kicks or the start of a bass note
    move a short track's mean without any DC being there.
    """
    block = max(1, sample_rate // 100)
    n = (audio.shape[1] // block) * block
    if n < block * 50:
        worst = float(np.abs(audio.mean(axis=1)).max()) if audio.size else 0.0
    else:
        means = audio[:, :n].astype(np.float64).reshape(audio.shape[0], -1, block).mean(axis=2)  # 100 Hz
        slow = sosfiltfilt(butter(2, 2.0, "low", fs=100.0, output="sos"), means, axis=1)
        worst = float(np.median(np.abs(slow), axis=1).max())
    ok = worst <= MAX_DC
    return Check(
        "dc_offset",
        worst,
        MAX_DC,
        "FS",
        ok,
        "" if ok else f"DC offset: {worst:.4f} of full scale (limit {MAX_DC:.4f})",
    )


def phase(audio: np.ndarray, sample_rate: int) -> Check:
    """Pearson correlation of left and right over the whole track (+1 mono, -1 polarity-inverted)."""
    if audio.shape[0] < 2:
        return Check("phase", 1.0, "> 0", "", True, "mono")
    left, right = audio[0].astype(np.float64), audio[1].astype(np.float64)
    energy = np.sqrt(np.dot(left, left) * np.dot(right, right))
    overall = float(np.dot(left, right) / energy) if energy > 0 else 1.0
    # Worst one-second window, to spot a passage that collapses in mono.
    window = int(sample_rate)
    n = (left.size // window) * window
    worst = overall
    if n:
        l_w, r_w = left[:n].reshape(-1, window), right[:n].reshape(-1, window)
        e = np.sqrt((l_w**2).sum(1) * (r_w**2).sum(1))
        loud = e > 1e-8
        if np.any(loud):
            worst = float(((l_w * r_w).sum(1)[loud] / e[loud]).min())
    ok = overall > 0
    return Check(
        "phase",
        overall,
        "> 0",
        "",
        ok,
        "" if ok else f"out of phase: left/right correlation {overall:+.2f} (it would cancel in mono)",
        extra={"worst_1s_window": worst},
    )


def window_levels_dbfs(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """RMS level of each 50 ms window (loudest channel), in dBFS."""
    window = max(1, int(SILENCE_WINDOW_S * sample_rate))
    n = (audio.shape[1] // window) * window
    if n == 0:
        return np.full(1, -200.0)
    power = (audio[:, :n].astype(np.float64) ** 2).reshape(audio.shape[0], -1, window).mean(axis=2).max(axis=0)
    return 10 * np.log10(np.maximum(power, 1e-20))


def silence(levels_dbfs: np.ndarray) -> tuple[Check, Check, Check]:
    """Leading silence, trailing silence and the longest gap inside the track."""
    loud = np.flatnonzero(levels_dbfs > SILENCE_DBFS)
    if loud.size == 0:
        total = levels_dbfs.size * SILENCE_WINDOW_S
        detail = f"the track is silent (nothing above {SILENCE_DBFS:g} dBFS)"
        return (
            Check("silence_start", total, MAX_LEADING_SILENCE_S, "s", False, detail),
            Check("silence_end", total, MAX_TRAILING_SILENCE_S, "s", False, detail),
            Check("gaps", total, MAX_GAP_S, "s", False, detail),
        )
    lead = loud[0] * SILENCE_WINDOW_S
    tail = (levels_dbfs.size - 1 - loud[-1]) * SILENCE_WINDOW_S
    gaps = np.diff(loud) - 1
    longest = float(gaps.max() * SILENCE_WINDOW_S) if gaps.size else 0.0
    at = float((loud[int(np.argmax(gaps))] + 1) * SILENCE_WINDOW_S) if gaps.size else 0.0
    return (
        Check(
            "silence_start",
            lead,
            MAX_LEADING_SILENCE_S,
            "s",
            lead <= MAX_LEADING_SILENCE_S,
            "" if lead <= MAX_LEADING_SILENCE_S else f"silence at the start: {lead:.1f} s before the music begins",
        ),
        Check(
            "silence_end",
            tail,
            MAX_TRAILING_SILENCE_S,
            "s",
            tail <= MAX_TRAILING_SILENCE_S,
            "" if tail <= MAX_TRAILING_SILENCE_S else f"silence at the end: {tail:.1f} s after the music stops",
        ),
        Check(
            "gaps",
            longest,
            MAX_GAP_S,
            "s",
            longest <= MAX_GAP_S,
            "" if longest <= MAX_GAP_S else f"silent gap of {longest:.1f} s inside the track (at {_mmss(at)})",
        ),
    )


def duration(measured_s: float, target_s: float, bar_s: float) -> Check:
    """Within one bar of the request; the renderer's release tail is allowed on top."""
    low, high = target_s - bar_s, target_s + bar_s + RENDER_TAIL_S
    ok = low <= measured_s <= high
    return Check(
        "duration",
        measured_s,
        [low, high],
        "s",
        ok,
        "" if ok else f"wrong length: {_mmss(measured_s)}, asked {_mmss(target_s)} (within one bar, {bar_s:.1f} s)",
    )


def tempo(estimate: TempoEstimate, target_bpm: float, advisory: bool = False, meter: str = "4/4") -> Check:
    """Measured tempo within ±2% of the asked one.

    ampa's BPM counts quarter notes in every meter (as MIDI and DAWs do). In a compound meter (6/8)
    listeners and beat trackers feel the dotted quarter, two thirds of that rate: a reading there is
    the same grid, so it counts as a match and the detail says so.
    """
    beats = {"quarter": target_bpm}
    if meter == "6/8":
        beats["dotted quarter"] = target_bpm * 2.0 / 3.0
    errors = {name: (estimate.bpm - bpm) / bpm for name, bpm in beats.items()} if estimate.bpm > 0 else {}
    felt = min(errors, key=lambda name: abs(errors[name])) if errors else "quarter"
    ok = bool(errors) and abs(errors[felt]) <= TEMPO_TOLERANCE
    if estimate.bpm <= 0:
        detail = f"no steady pulse found; asked {target_bpm:g} BPM"
    elif ok and felt != "quarter":
        detail = f"felt as {estimate.bpm:.1f} dotted-quarter beats per minute = {target_bpm:g} BPM in {meter}"
    else:
        detail = "" if ok else f"wrong tempo: measured {estimate.bpm:.1f} BPM, asked {target_bpm:g} BPM (± 2%)"
    return Check("tempo", round(estimate.bpm, 2), target_bpm, "BPM", ok, detail, advisory, extra=estimate.to_dict())


def key(estimate: KeyEstimate, target_tonic: str, target_mode: str, advisory: bool = False) -> Check:
    ok = estimate.matches(target_tonic, target_mode)
    others = ", ".join(name for name, _ in estimate.candidates[1:])
    detail = (
        ""
        if ok
        else (
            f"wrong key: it sounds like {estimate.name}, asked {target_tonic} {target_mode}"
            + (f" (next candidates: {others})" if others else "")
        )
    )
    return Check(
        "key", estimate.name, f"{target_tonic} {target_mode}", "", ok, detail, advisory, extra=estimate.to_dict()
    )


def stems_audible(stems: Mapping[str, np.ndarray], expected_roles: set[str] | None) -> Check:
    """Every stem that should play is above SILENT_STEM_DBFS at its peak."""
    levels: dict[str, float] = {}
    silent: list[str] = []
    for role, stem in stems.items():
        peak = float(np.max(np.abs(stem))) if np.size(stem) else 0.0
        levels[role] = 20 * np.log10(peak) if peak > 1e-10 else -200.0
        if levels[role] < SILENT_STEM_DBFS and (expected_roles is None or role in expected_roles):
            silent.append(role)
    ok = not silent
    return Check(
        "stems",
        levels,
        f"peak > {SILENT_STEM_DBFS:g} dBFS",
        "dBFS",
        ok,
        "" if ok else f"silent stem: {', '.join(silent)} (no sound above {SILENT_STEM_DBFS:g} dBFS)",
    )


def _mmss(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"
