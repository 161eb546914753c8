"""Arrangement -> one dry stereo stem per role, all the same length, rendered in parallel.

Each role is one job (its tracks render in order into the role's own buffer, so no two threads ever
write the same memory and the result does not depend on scheduling). Jobs run on a thread pool: the
numpy voices release the GIL in their array maths and overlap with SoundFont rendering, which holds it.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from pipeline.errors import BadInput
from pipeline.render import dsp
from pipeline.render.drums import DRUM_VOICES
from pipeline.render.schedule import ScheduledNote, Timeline, cut_samples, schedule_track
from pipeline.render.soundfont import load_soundfont, render_sf2_track
from pipeline.render.synths import SYNTH_VOICES
from pipeline.render.voice import NoteRequest, Voice
from pipeline.score import Arrangement, Track
from pipeline.styles import ROLES

log = logging.getLogger(__name__)

VOICES: dict[str, Voice] = {cls.name: cls() for cls in (*SYNTH_VOICES, *DRUM_VOICES)}
VOICE_ALIASES: dict[str, str] = {"pad": "warm_pad", "808": "bass_808", "saw": "supersaw"}

STEM_PEAK_DBFS = -3.0  # every non-silent stem is scaled to this peak: headroom for the mixer, never clipped
END_FADE_SECONDS = 0.05  # the very end of the tail fades out, so a still-ringing note never ends in a click
CUT_FADE = 64  # samples over which a cut note (mono voice, choked hat) fades out
_CACHE_BYTES = 48 * 1024 * 1024  # per track: rendered notes kept for reuse (loops repeat a lot)


def voice_for(track: Track) -> Voice | None:
    """The built-in voice for a track, or None to play it from the SoundFont."""
    name = VOICE_ALIASES.get(track.voice, track.voice)
    if name == "sf2":
        return None
    voice = VOICES.get(name)
    if voice is None:
        log.warning("unknown voice %r on track %r: playing it from the SoundFont instead", track.voice, track.role)
    return voice


def render_stems(
    arrangement: Arrangement, *, soundfont: Path, sample_rate: int = 44100, workers: int = 2
) -> dict[str, np.ndarray]:
    """Render every track; return role -> float32 (2, n) stem, n = round(duration_s * sr) + round(1.0 * sr).

    Tracks sharing a role are summed into one stem. Stems are dry and peak-normalised to
    STEM_PEAK_DBFS (silent stems stay silent). Raises SoundFontMissing if a track needs the SoundFont
    and it is missing or corrupt, BadInput for an arrangement that cannot be rendered.
    """
    _check(arrangement, sample_rate, workers)
    timeline = Timeline.for_arrangement(arrangement, sample_rate)
    by_role: dict[str, list[tuple[int, Track, Voice | None]]] = {}
    for index, track in enumerate(arrangement.tracks):
        by_role.setdefault(track.role, []).append((index, track, voice_for(track)))
    needs_soundfont = any(voice is None and track.notes for jobs in by_role.values() for _, track, voice in jobs)
    base = load_soundfont(Path(soundfont)) if needs_soundfont else None

    def render_role(jobs: list[tuple[int, Track, Voice | None]]) -> np.ndarray:
        out = np.zeros((2, timeline.n_samples), dtype=np.float32)
        for index, track, voice in jobs:
            notes = schedule_track(track, timeline)
            if not notes:
                continue
            if voice is None:
                render_sf2_track(
                    base, notes, program=track.program, is_drum=track.is_drum, pan=track.pan,
                    timeline=timeline, out=out,
                )
            else:
                render_voice_track(voice, notes, pan=track.pan, timeline=timeline, seed=(arrangement.seed, index),
                                   out=out)
        _finish(out, timeline)
        return out

    # Heaviest roles first, so the pool's last job is a short one.
    order = sorted(by_role, key=lambda role: -sum(len(t.notes) for _, t, _ in by_role[role]))
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ampa-render") as pool:
        futures = {role: pool.submit(render_role, by_role[role]) for role in order}
        rendered = {role: future.result() for role, future in futures.items()}
    ranked = [r for r in ROLES if r in rendered] + [r for r in by_role if r not in ROLES]
    return {role: rendered[role] for role in ranked}


def _check(arrangement: Arrangement, sample_rate: int, workers: int) -> None:
    if not (8000 <= sample_rate <= 192000):
        raise BadInput(f"sample rate {sample_rate} Hz is outside 8000..192000 Hz")
    if workers < 1:
        raise BadInput(f"render workers must be at least 1 (got {workers})")
    if not (math.isfinite(arrangement.tempo_bpm) and arrangement.tempo_bpm > 0):
        raise BadInput(f"tempo {arrangement.tempo_bpm} BPM cannot be rendered")
    if arrangement.bars < 0 or not math.isfinite(arrangement.duration_s):
        raise BadInput(f"an arrangement of {arrangement.bars} bars cannot be rendered")


def render_voice_track(
    voice: Voice,
    notes: list[ScheduledNote],
    *,
    pan: float,
    timeline: Timeline,
    seed: tuple[int, int],
    out: np.ndarray,
) -> None:
    """Render a built-in voice's notes and add them into `out` (2, n) at their exact onsets."""
    sr, n = timeline.sample_rate, timeline.n_samples
    gain_l, gain_r = dsp.pan_gains(pan)
    cuts = cut_samples(notes, mono=voice.mono, chokes=voice.chokes)
    cache: OrderedDict[NoteRequest, np.ndarray] = OrderedDict()
    cached_bytes = 0
    fade = dsp.fade_out(CUT_FADE)
    for note, cut in zip(notes, cuts, strict=True):
        request = NoteRequest(
            pitch=note.pitch, velocity=note.velocity, gate=note.gate, sample_rate=sr, beat=note.beat,
            seconds_per_beat=timeline.seconds_per_beat, seed=(*seed, note.index),
        )
        key = voice.canonical(request)
        audio = cache.get(key) if voice.cacheable else None
        if audio is None:
            audio = voice.render(key)
            if voice.cacheable:
                cache[key] = audio
                cached_bytes += audio.nbytes
                while cached_bytes > _CACHE_BYTES and len(cache) > 1:
                    cached_bytes -= cache.popitem(last=False)[1].nbytes
        else:
            cache.move_to_end(key)
        length = min(audio.shape[-1], n - note.onset)
        if cut is not None:
            length = min(length, cut - note.onset + CUT_FADE)
        if length <= 0:
            continue
        segment = audio[..., :length] * np.float32(dsp.velocity_gain(note.velocity))
        if cut is not None and cut - note.onset + CUT_FADE == length:
            segment[..., length - CUT_FADE :] *= fade
        a, b = note.onset, note.onset + length
        if segment.ndim == 1:
            out[0, a:b] += gain_l * segment
            out[1, a:b] += gain_r * segment
        else:
            out[0, a:b] += gain_l * segment[0]
            out[1, a:b] += gain_r * segment[1]


def _finish(stem: np.ndarray, timeline: Timeline) -> None:
    """In place: no NaN/inf, a click-free end, and a peak of STEM_PEAK_DBFS (silent stems stay silent)."""
    if stem.size == 0:
        return
    fade_len = min(stem.shape[1], int(END_FADE_SECONDS * timeline.sample_rate))
    if fade_len:
        stem[:, -fade_len:] *= dsp.fade_out(fade_len)
    peak = max(float(stem.max()), -float(stem.min()))  # no temporary |stem| copy: stems are big
    if not math.isfinite(peak):
        log.error("a stem contained non-finite samples; they were zeroed")
        np.nan_to_num(stem, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        peak = max(float(stem.max()), -float(stem.min()))
    if peak > 1e-9:
        stem *= np.float32(10 ** (STEM_PEAK_DBFS / 20) / peak)
