"""ampa's control around any neural backend: the asked tempo, key and length, whatever the model did.

A neural model treats "128 BPM in F minor" as a hint. Every take it returns goes through here:

1. decode, to stereo float32 at the pipeline's rate;
2. measure tempo and key with the QA meters (pipeline.qa), the same ones that judge the master;
3. correct what is close: time-stretch to the asked tempo (within MAX_STRETCH) and pitch-shift to
   the asked tonic (within MAX_SHIFT_SEMITONES, same mode family), both in one Rubber Band pass
   (pedalboard.time_stretch), then measure again: a correction counts only if it landed;
4. a take that is far off (or whose correction did not land) is re-requested with a new seed, up to
   `max_takes`; if none lands, the closest one is kept and the job says plainly why it is off;
5. cut to the asked length on a bar line (starting on the strongest beat phase), with a fade over
   the last beat so the end is an ending, not a click.

Then produce() masters and checks it like any track. Nothing here knows which model made the audio.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from math import gcd
from typing import Any

import numpy as np

from pipeline.backends.base import Generated
from pipeline.backends.credits import REQUEST_MARGIN
from pipeline.qa.key import KeyEstimate, MODE_FAMILY, estimate_key
from pipeline.qa.tempo import ANALYSIS_RATE, HOP, N_FFT, TempoEstimate, estimate_tempo, onset_envelope, to_analysis_mono
from pipeline.score import Arrangement
from pipeline.spec import Key, Spec
from pipeline.vocabulary import TONICS

TEMPO_TOLERANCE = 0.02  # QA's: the final file is within ±2 % of the asked tempo
EXACT_TEMPO = 0.003  # closer than this, stretching would only add artefacts
MAX_STRETCH = 0.12  # Rubber Band is clean to about ±12 % on mixed music
MAX_SHIFT_SEMITONES = 3  # beyond a minor third formants and drums start to sound processed
MIN_PULSE_CONFIDENCE = 0.05  # below this the tempo reading is a guess: do not stretch by it
FADE_IN_S = 0.005
PRE_ONSET_S = 0.01


@dataclass(frozen=True)
class Take:
    """What a model returned for one request."""

    audio: np.ndarray  # (channels, n) float
    sample_rate: int
    seed: int
    details: dict[str, Any] = field(default_factory=dict)  # finish reason, model-specific


@dataclass(frozen=True)
class Controlled:
    """A take brought as close to the spec as correction allows (before its length is fitted)."""

    audio: np.ndarray  # (2, n) float32 at the pipeline's rate
    seed: int
    tempo_before: float
    key_before: str
    tempo_after: float
    key_after: str
    corrections: tuple[str, ...]
    problems: tuple[str, ...]  # why it is not on target; () when it is

    @property
    def on_target(self) -> bool:
        return not self.problems

    def distance(self, spec: Spec) -> float:
        """For choosing the closest of several off-target takes: tempo error in %, plus 5 per key miss."""
        asked = spec.tempo_bpm.value if spec.tempo_bpm else 120.0
        tempo_error = abs(self.tempo_after / asked - 1) * 100 if self.tempo_after > 0 else 100.0
        return tempo_error + (5.0 if any("key" in p for p in self.problems) else 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "measured": {"tempo_bpm": round(self.tempo_before, 2), "key": self.key_before},
            "after_correction": {"tempo_bpm": round(self.tempo_after, 2), "key": self.key_after},
            "corrections": list(self.corrections),
            "on_target": self.on_target,
            "problems": list(self.problems),
        }


# ------------------------------------------------------------------------------------ decoding
def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """WAV, FLAC, OGG or MP3 bytes -> ((channels, n) float32, sample rate); raises on anything else."""
    from pedalboard.io import AudioFile

    with AudioFile(io.BytesIO(data)) as f:
        audio = f.read(f.frames)
        rate = int(f.samplerate)
    if audio.size == 0 or not np.all(np.isfinite(audio)):
        raise ValueError("empty or broken audio")
    return audio.astype(np.float32), rate


def to_pipeline_audio(audio: np.ndarray, sample_rate: int, target_rate: int) -> np.ndarray:
    """(2, n) float32 at target_rate: mono doubled, extra channels dropped, resampled if needed."""
    from scipy.signal import resample_poly

    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None, :]
    if audio.shape[0] > audio.shape[1]:  # (n, channels)
        audio = audio.T
    audio = np.repeat(audio, 2, axis=0) if audio.shape[0] == 1 else audio[:2]
    if sample_rate != target_rate:
        g = gcd(int(sample_rate), int(target_rate))
        audio = resample_poly(audio, target_rate // g, sample_rate // g, axis=1).astype(np.float32)
    return np.ascontiguousarray(audio)


# ------------------------------------------------------------------------------ measure, correct
def measure(audio: np.ndarray, sample_rate: int, spec: Spec) -> tuple[TempoEstimate, KeyEstimate]:
    asked = spec.tempo_bpm.value if spec.tempo_bpm else None
    return estimate_tempo(audio, sample_rate, expected_bpm=asked), estimate_key(audio, sample_rate)


def semitones_to(measured: KeyEstimate, asked: Key) -> int | None:
    """The shift (−5..+6) that moves the measured tonic onto the asked one; None across mode families."""
    if MODE_FAMILY.get(asked.mode, asked.mode) != measured.mode:
        return None
    shift = (asked.pitch_class - TONICS.index(measured.tonic)) % 12
    return shift - 12 if shift > 6 else shift


def correct(take: Take, spec: Spec, sample_rate: int) -> Controlled:
    """Measure one take and correct its tempo and key if they are close enough to correct cleanly."""
    audio = to_pipeline_audio(take.audio, take.sample_rate, sample_rate)
    tempo, key = measure(audio, sample_rate, spec)
    asked_key = spec.parsed_key
    asked_bpm = spec.tempo_bpm.value if spec.tempo_bpm else None
    corrections: list[str] = []
    problems: list[str] = []

    stretch = 1.0
    if asked_bpm:
        if tempo.bpm <= 0 or tempo.confidence < MIN_PULSE_CONFIDENCE:
            problems.append(f"no steady pulse to measure (asked {asked_bpm:g} BPM)")
        else:
            ratio = asked_bpm / tempo.bpm
            if abs(ratio - 1) > MAX_STRETCH:
                problems.append(f"tempo {tempo.bpm:.1f} BPM is too far from {asked_bpm:g} to stretch cleanly")
            elif abs(ratio - 1) > EXACT_TEMPO:
                stretch = ratio
                corrections.append(f"time-stretched {tempo.bpm:.1f} → {asked_bpm:g} BPM ({(ratio - 1) * 100:+.1f} %)")
    shift = 0
    if not key.matches(asked_key.tonic, asked_key.mode):
        found = semitones_to(key, asked_key)
        if found is None or abs(found) > MAX_SHIFT_SEMITONES:
            problems.append(f"key {key.name} cannot be shifted cleanly to {asked_key}")
        else:
            shift = found
            corrections.append(f"pitch-shifted {key.name} → {asked_key} ({shift:+d} semitones)")

    tempo_after, key_after = tempo.bpm, key.name
    if stretch != 1.0 or shift:
        from pedalboard import time_stretch

        audio = time_stretch(audio, float(sample_rate), stretch_factor=stretch, pitch_shift_in_semitones=float(shift))
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        tempo2, key2 = measure(audio, sample_rate, spec)
        tempo_after, key_after = tempo2.bpm, key2.name
        # A correction counts only if the meters agree it landed.
        if asked_bpm and stretch != 1.0 and abs(tempo2.bpm / asked_bpm - 1) > TEMPO_TOLERANCE:
            problems.append(f"after stretching the tempo reads {tempo2.bpm:.1f} BPM, not {asked_bpm:g}")
        if shift and not key2.matches(asked_key.tonic, asked_key.mode):
            problems.append(f"after shifting the key reads {key2.name}, not {asked_key}")
    return Controlled(
        audio=audio,
        seed=take.seed,
        tempo_before=tempo.bpm,
        key_before=key.name,
        tempo_after=tempo_after,
        key_after=key_after,
        corrections=tuple(corrections),
        problems=tuple(problems),
    )


def best_take(
    spec: Spec,
    make_take: Callable[[int], Take],
    seeds: list[int],
    *,
    sample_rate: int,
    on_stage: Callable[[str], None] = lambda stage: None,
) -> tuple[Controlled, list[Controlled]]:
    """Request takes (one per seed, in order) until one lands on target; (chosen, every take tried)."""
    tried: list[Controlled] = []
    for seed in seeds:
        on_stage("generating")
        take = make_take(seed)
        on_stage("correcting")
        controlled = correct(take, spec, sample_rate)
        tried.append(controlled)
        if controlled.on_target:
            return controlled, tried
    return min(tried, key=lambda c: c.distance(spec)), tried


# --------------------------------------------------------------------------------------- length
def bar_seconds(spec: Spec) -> float:
    bpm = spec.tempo_bpm.value if spec.tempo_bpm else 120.0
    num, den = spec.meter
    return num * 4.0 / den * 60.0 / bpm


def target_bars(spec: Spec, seconds: float | None = None) -> int:
    """The whole number of bars nearest the asked length."""
    seconds = spec.duration_s.value if seconds is None and spec.duration_s else seconds or 0.0
    return max(1, round(seconds / bar_seconds(spec)))


def beat_phase(audio: np.ndarray, sample_rate: int, beat_s: float) -> float:
    """Seconds (0 .. one beat) from the start to the strongest beat grid: where to cut bar 1.

    Read from the low band (below 150 Hz): kicks and bass mark the beat in most genres, while the
    full band's flux is dominated by hats and claps, which often sit between the beats.
    """
    from scipy.signal import butter, sosfilt

    low = sosfilt(butter(4, 150.0, "low", fs=ANALYSIS_RATE, output="sos"), to_analysis_mono(audio, sample_rate))
    envelope = onset_envelope(low.astype(np.float32))
    frame_rate = ANALYSIS_RATE / HOP
    period = beat_s * frame_rate
    if envelope.size < period * 4:
        return 0.0
    offsets = np.arange(0.0, period, 1.0)
    grid = np.arange(0.0, envelope.size - period, period)
    scores = [envelope[np.minimum((grid + o).astype(int), envelope.size - 1)].sum() for o in offsets]
    # A flux frame peaks when the onset reaches its window's centre (half a window and a hop after the
    # frame's start); cut PRE_ONSET_S before the onset so the transient is kept whole.
    latency = (HOP + N_FFT / 2) / ANALYSIS_RATE - PRE_ONSET_S
    return float((offsets[int(np.argmax(scores))] / frame_rate + latency) % beat_s)


def fit_length(
    audio: np.ndarray,
    sample_rate: int,
    spec: Spec,
    bars: int,
    *,
    align: bool = True,
    extra_s: float = 0.0,
    fade_out: bool = True,
) -> tuple[np.ndarray, list[str]]:
    """Exactly `bars` bars (+ extra_s for a crossfade), cut on the beat grid; (audio, notes)."""
    bar_s = bar_seconds(spec)
    beat_s = bar_s / spec.meter[0] * (4.0 / spec.meter[1])
    start = int(round(beat_phase(audio, sample_rate, beat_s) * sample_rate)) if align else 0
    wanted = int(round((bars * bar_s + extra_s) * sample_rate))
    notes: list[str] = []
    available = audio.shape[1] - start
    if available < wanted:
        start = 0 if audio.shape[1] >= wanted else start
        available = audio.shape[1] - start
    if available < wanted:
        whole = max(1, math.floor((available / sample_rate - extra_s) / bar_s))
        notes.append(f"the model returned {available / sample_rate:.1f} s; kept {whole} whole bars")
        wanted = min(available, int(round((whole * bar_s + extra_s) * sample_rate)))
    out = np.array(audio[:, start : start + wanted], dtype=np.float32)
    fade_in = min(out.shape[1], int(FADE_IN_S * sample_rate))
    out[:, :fade_in] *= np.linspace(0.0, 1.0, fade_in, dtype=np.float32)
    if fade_out:
        tail = min(out.shape[1] // 4, int(beat_s * sample_rate))
        out[:, out.shape[1] - tail :] *= np.cos(np.linspace(0.0, np.pi / 2, tail, dtype=np.float32)) ** 2
    return out, notes


def crossfade_join(segments: list[np.ndarray], sample_rate: int, overlap_s: float) -> np.ndarray:
    """Segments (each but the last carrying overlap_s extra) joined by equal-power crossfades."""
    n = int(round(overlap_s * sample_rate))
    out = segments[0]
    for segment in segments[1:]:
        t = np.linspace(0.0, np.pi / 2, n, dtype=np.float32)
        faded = out[:, -n:] * np.cos(t) + segment[:, :n] * np.sin(t)
        out = np.concatenate([out[:, :-n], faded, segment[:, n:]], axis=1)
    return out


def plan_segments(bars: int, bar_s: float, max_s: float) -> list[int]:
    """Bars per segment: as few segments as fit max_s each, as equal as whole bars allow."""
    per = max(1, math.floor(max_s / bar_s))
    count = math.ceil(bars / per)
    base, extra = divmod(bars, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


# ------------------------------------------------------------------------------ a whole track
@dataclass(frozen=True)
class Segment:
    """One request's share of the track: whole bars, starting on a bar line."""

    index: int
    start_s: float  # where it starts in the track
    bars: int
    seconds: float  # bars × bar length
    request_s: float  # what to ask the model for: room to stretch, align and crossfade
    last: bool


@dataclass(frozen=True)
class NeuralTrack:
    mix: np.ndarray  # (2, n) float32: every segment controlled, fitted and joined
    takes: list[dict[str, Any]]  # per segment: the chosen take and every take tried
    notes: list[str]
    advisory: frozenset[str]

    def generated(self, sample_rate: int, report: dict[str, Any], arrangement: Arrangement | None = None) -> Generated:
        """The backend's result for produce(): its own report plus what every neural backend records."""
        report = {
            **report,
            "seeds": [segment["chosen"]["seed"] for segment in self.takes],
            "takes": self.takes,
            "corrections": [c for segment in self.takes for c in segment["chosen"]["corrections"]],
        }
        return Generated(
            sample_rate=sample_rate,
            stems=None,
            mix=self.mix,
            arrangement=arrangement,
            report=report,
            advisory=self.advisory,
            notes=tuple(self.notes),
        )


CROSSFADE_S = 0.05  # between segments, centred on the bar line: short enough to keep the downbeat


def take_seeds(seed: int, segment: int, count: int, *, modulo: int = 2**31 - 1) -> list[int]:
    """The seeds of a segment's takes: fixed by the job's seed, so a job is reproducible."""
    import hashlib

    out = []
    for n in range(count):
        digest = hashlib.sha256(f"{seed}:segment:{segment}:take:{n}".encode()).digest()
        out.append(1 + int.from_bytes(digest[:4], "big") % modulo)
    return out


def controlled_track(
    spec: Spec,
    make_take: Callable[[Segment, int], Take],
    *,
    sample_rate: int,
    max_segment_s: float,
    max_request_s: float,
    takes: int,
    align: bool,
    on_stage: Callable[[str], None],
    seed_modulo: int = 2**31 - 1,
) -> NeuralTrack:
    """The asked length in segments of whole bars; each segment's best take, corrected and fitted."""
    bar_s = bar_seconds(spec)
    beat_s = bar_s / spec.meter[0] * (4.0 / spec.meter[1])
    plan = plan_segments(target_bars(spec), bar_s, max_segment_s)
    pieces: list[np.ndarray] = []
    records: list[dict[str, Any]] = []
    notes: list[str] = []
    advisory: set[str] = set()
    start_bar = 0
    for index, bars in enumerate(plan):
        last = index == len(plan) - 1
        seconds = bars * bar_s
        request_s = min(max_request_s, seconds * REQUEST_MARGIN + beat_s + (0 if last else CROSSFADE_S) + 0.5)
        segment = Segment(index, start_bar * bar_s, bars, seconds, request_s, last)
        start_bar += bars
        seed = spec.seed.value if spec.seed else 0
        chosen, tried = best_take(
            spec,
            lambda s, segment=segment: make_take(segment, s),
            take_seeds(seed, index, takes, modulo=seed_modulo),
            sample_rate=sample_rate,
            on_stage=on_stage,
        )
        fitted, fit_notes = fit_length(
            chosen.audio, sample_rate, spec, bars, align=align, extra_s=0 if last else CROSSFADE_S, fade_out=last
        )
        pieces.append(fitted)
        notes += fit_notes
        if not chosen.on_target:
            where = f" (segment {index + 1} of {len(plan)})" if len(plan) > 1 else ""
            notes.append(
                f"after {len(tried)} take(s) the model's audio is still off{where}: {'; '.join(chosen.problems)}; "
                "kept the closest take"
            )
            advisory.update(
                check for check, word in (("tempo", "tempo"), ("tempo", "pulse"), ("key", "key"))
                if any(word in p for p in chosen.problems)
            )
        records.append({"segment": index + 1, "bars": bars, "chosen": chosen.to_dict(), "takes": [t.to_dict() for t in tried]})
    if len(plan) > 1:
        notes.append(
            f"made in {len(plan)} segments of {', '.join(str(b) for b in plan)} bars, joined on bar lines"
        )
    return NeuralTrack(mix=crossfade_join(pieces, sample_rate, CROSSFADE_S), takes=records, notes=notes, advisory=frozenset(advisory))
