"""Arrangement -> one dry stereo stem per role, all the same length, rendered in parallel.

Each role is one job: its tracks render in order into the role's own buffer, so no two workers ever
write the same memory and the result does not depend on scheduling. Roles with SoundFont tracks are
shared out between this process and forked children (tinysoundfont holds the GIL, see
pipeline.parallel); the rest run on a thread pool, where the numpy voices release the GIL in
their array maths.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import BadInput
from pipeline.render import dsp
from pipeline.render.drums import DRUM_VOICES
from pipeline.parallel import SharedWork, children_for, shared_stem
from pipeline.render.schedule import ScheduledNote, Timeline, cut_samples, schedule_track
from pipeline.render.soundfont import (
    available_program,
    load_soundfont,
    onset_latencies,
    release_soundfont,
    render_sf2_track,
)
from pipeline.spool import StemSpool
from pipeline.render.synths import SYNTH_VOICES
from pipeline.render.voice import NoteRequest, Voice
from pipeline.score import Arrangement, Track
from pipeline.styles import in_role_order

log = logging.getLogger(__name__)

VOICES: dict[str, Voice] = {cls.name: cls() for cls in (*SYNTH_VOICES, *DRUM_VOICES)}
VOICE_ALIASES: dict[str, str] = {"pad": "warm_pad", "808": "bass_808", "saw": "supersaw"}

STEM_PEAK_DBFS = -3.0  # every non-silent stem is scaled to this peak: headroom for the mixer, never clipped
END_FADE_SECONDS = 0.05  # the very end of the tail fades out, so a still-ringing note never ends in a click
CUT_FADE = 64  # samples over which a cut note (mono voice, choked hat) fades out
_CACHE_BYTES = 48 * 1024 * 1024  # per track: rendered notes kept for reuse (loops repeat a lot)


def voice_for(track: Track, *, quiet: bool = False) -> Voice | None:
    """The built-in voice for a track, or None to play it from the SoundFont."""
    name = VOICE_ALIASES.get(track.voice, track.voice)
    if name == "sf2":
        return None
    voice = VOICES.get(name)
    if voice is None and not quiet:
        log.warning("unknown voice %r on track %r: playing it from the SoundFont instead", track.voice, track.role)
    return voice


@dataclass(frozen=True)
class _Part:
    """One track, prepared so that rendering it logs nothing and takes no lock (it may run in a fork)."""

    track_index: int
    notes: list[ScheduledNote]
    voice: Voice | None  # None: the SoundFont
    pan: float
    program: int = 0
    is_drum: bool = False
    latencies: dict[int, int] | None = None

    @property
    def cost(self) -> float:
        """Rough render cost in seconds of sounding notes (releases included)."""
        return sum(note.gate for note in self.notes) / 44100.0 + 0.5 * len(self.notes)


def render_stems(
    arrangement: Arrangement,
    *,
    soundfont: Path,
    sample_rate: int = 44100,
    workers: int = 2,
    spool: Path | None = None,
    keep_soundfont: bool = True,
) -> Mapping[str, np.ndarray]:
    """Render every track; return role -> float32 (2, n) stem, n = round(duration_s * sr) + round(1.0 * sr).

    Tracks sharing a role are summed into one stem. Stems are dry and peak-normalised to
    STEM_PEAK_DBFS (silent stems stay silent). `workers` > 1 renders roles in parallel: threads for
    the numpy voices, and forked processes for SoundFont tracks (see pipeline.parallel).
    `spool`: a folder to render the stems into (a StemSpool, mapped only while read) instead of
    memory. `keep_soundfont=False` frees the decoded SoundFont (~300 MB) once rendering is done.
    Raises SoundFontMissing if a track needs the SoundFont and it is missing or corrupt, BadInput for
    an arrangement that cannot be rendered.
    """
    _check(arrangement, sample_rate, workers)
    timeline = Timeline.for_arrangement(arrangement, sample_rate)
    needs_soundfont = any(voice_for(t, quiet=True) is None and t.notes for t in arrangement.tracks)
    renderer = _RoleRenderer(
        base=load_soundfont(Path(soundfont)) if needs_soundfont else None,
        timeline=timeline,
        seed=arrangement.seed,
    )
    try:
        by_role = renderer.prepare(arrangement)
        store = StemSpool(spool, timeline.n_samples) if spool is not None and timeline.n_samples > 0 else None
        stems = _render_roles(renderer, by_role, workers, child_timeout=120.0 + arrangement.duration_s, spool=store)
    finally:
        del renderer
        if not keep_soundfont:
            release_soundfont()
    ranked = in_role_order(by_role)
    if store is not None:
        del stems  # the writable mappings: readers map the files afresh
        store.order(ranked)
        return store
    return {role: stems[role] for role in ranked}


@dataclass(frozen=True)
class _RoleRenderer:
    base: object | None  # the loaded SoundFont, if any track needs it
    timeline: Timeline
    seed: int

    def prepare(self, arrangement: Arrangement) -> dict[str, list[_Part]]:
        """Schedule every track and settle everything that logs (in this process, before any fork)."""
        by_role: dict[str, list[_Part]] = {}
        for index, track in enumerate(arrangement.tracks):
            parts = by_role.setdefault(track.role, [])
            notes = schedule_track(track, self.timeline)
            if not notes:
                continue
            voice = voice_for(track)
            if voice is not None:
                parts.append(_Part(index, notes, voice, track.pan))
                continue
            program = available_program(self.base, track.program, track.is_drum)
            keys = {n.pitch for n in notes}
            latencies = onset_latencies(self.base, self.timeline.sample_rate, program, track.is_drum, keys)
            parts.append(_Part(index, notes, None, track.pan, program, track.is_drum, latencies))
        return by_role

    def render(self, parts: list[_Part], out: np.ndarray) -> bool:
        """Render a role's parts into `out` and finish the stem; True if NaN/inf had to be zeroed."""
        for part in parts:
            if part.voice is None:
                render_sf2_track(
                    self.base,
                    part.notes,
                    program=part.program,
                    is_drum=part.is_drum,
                    pan=part.pan,
                    timeline=self.timeline,
                    out=out,
                    latencies=part.latencies,
                )
            else:
                seed = (self.seed, part.track_index)
                render_voice_track(part.voice, part.notes, pan=part.pan, timeline=self.timeline, seed=seed, out=out)
        return _finish(out, self.timeline)


def _render_roles(
    renderer: _RoleRenderer,
    by_role: dict[str, list[_Part]],
    workers: int,
    child_timeout: float,
    spool: StemSpool | None = None,
) -> dict[str, np.ndarray]:
    """Run the roles on `workers` cores.

    Roles with SoundFont tracks go to a work queue shared with forked children (their stems live in
    shared memory, or in the spool's shared file mappings); the other roles, and this process's
    share of the queue, run on a thread pool.
    """
    n = renderer.timeline.n_samples

    def heaviest_first(roles: list[str]) -> list[str]:
        return sorted(roles, key=lambda r: -sum(p.cost for p in by_role[r]))

    sf2_roles = heaviest_first([r for r, parts in by_role.items() if any(p.voice is None for p in parts)])

    forking = children_for(len(sf2_roles), workers) > 0

    def buffer(role: str) -> np.ndarray:
        if spool is not None:
            return spool.allocate(role)
        # Shared memory only where a child may write: its page faults cost more than private ones.
        return shared_stem(n) if forking and role in sf2_roles else np.zeros((2, n), dtype=np.float32)

    stems = {role: buffer(role) for role in by_role}

    def render_in_child(index: int) -> None:
        renderer.render(by_role[sf2_roles[index]], stems[sf2_roles[index]])

    def render_here(role: str) -> None:
        if renderer.render(by_role[role], stems[role]):
            log.error("stem %r contained non-finite samples; they were zeroed", role)

    def redo(index: int) -> None:  # a child's unfinished stem: start it again from silence
        stems[sf2_roles[index]][:] = 0.0
        render_here(sf2_roles[index])

    # The children fork before the thread pool starts any thread.
    with SharedWork(len(sf2_roles), render_in_child, workers=workers) as shared:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ampa-render") as pool:
            if shared.children:  # this process takes its share of the SoundFont roles from the queue
                futures = [pool.submit(shared.drain, lambda index: render_here(sf2_roles[index]))]
                here = heaviest_first([r for r in by_role if r not in sf2_roles])
            else:  # nobody to share with: every role is a task of its own, heaviest first
                futures, here = [], heaviest_first(list(by_role))
            futures.extend(pool.submit(render_here, role) for role in here)
            for future in futures:
                future.result()
        shared.finish(child_timeout, redo)
    return stems


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
            pitch=note.pitch,
            velocity=note.velocity,
            gate=note.gate,
            sample_rate=sr,
            beat=note.beat,
            seconds_per_beat=timeline.seconds_per_beat,
            seed=(*seed, note.index),
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
        segment = audio[..., :length]
        if cut is not None and cut - note.onset + CUT_FADE == length:
            segment = segment.copy()  # the cached buffer itself stays whole
            segment[..., length - CUT_FADE :] *= fade
        velocity = dsp.velocity_gain(note.velocity)
        left, right = np.float32(gain_l * velocity), np.float32(gain_r * velocity)
        a, b = note.onset, note.onset + length
        out[0, a:b] += segment * left if segment.ndim == 1 else segment[0] * left
        out[1, a:b] += segment * right if segment.ndim == 1 else segment[1] * right


def _finish(stem: np.ndarray, timeline: Timeline) -> bool:
    """In place: no NaN/inf, a click-free end, and a peak of STEM_PEAK_DBFS (silent stems stay silent).

    Returns True if non-finite samples had to be zeroed (the caller logs: this may run in a fork).
    """
    nonfinite = False
    if stem.size == 0:
        return nonfinite
    fade_len = min(stem.shape[1], int(END_FADE_SECONDS * timeline.sample_rate))
    if fade_len:
        stem[:, -fade_len:] *= dsp.fade_out(fade_len)
    peak = max(float(stem.max()), -float(stem.min()))  # no temporary |stem| copy: stems are big
    if not math.isfinite(peak):
        nonfinite = True
        np.nan_to_num(stem, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        peak = max(float(stem.max()), -float(stem.min()))
    if peak > 1e-9:
        stem *= np.float32(10 ** (STEM_PEAK_DBFS / 20) / peak)
    return nonfinite
