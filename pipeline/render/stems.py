"""Arrangement -> one dry stereo stem per role, all the same length, rendered in parallel.

Every track plays through a Voice: a built-in synth or drum voice (pipeline.render.synths, .drums), or
a SoundFont preset through FluidSynth (pipeline.render.fluid: the General MIDI font or an acoustic
drum kit). Each role is one job: its tracks render in order into the role's own buffer, so no two
workers ever write the same memory and the result does not depend on scheduling. The jobs run on a
thread pool: FluidSynth releases the GIL (ctypes calls), and so do the numpy voices in their array
maths, so threads use both cores without copying the sample banks into forked processes.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import BadInput
from pipeline.render import dsp
from pipeline.render.drums import DRUM_VOICES
from pipeline.render.fluid import DRUM_BANK, FluidVoice, Preset, font_presets, release_synths
from pipeline.render.fonts import KIT_FILES, KIT_KEYS, find_kit
from pipeline.render.hydrogen import HYDROGEN_KITS, HydrogenKitVoice, find_hydrogen_kit
from pipeline.render.schedule import ScheduledNote, Timeline, cut_samples, schedule_track
from pipeline.render.synths import SYNTH_VOICES
from pipeline.render.voice import NoteRequest, Voice
from pipeline.score import Arrangement, Track
from pipeline.spool import StemSpool
from pipeline.styles import in_role_order

log = logging.getLogger(__name__)

VOICES: dict[str, Voice] = {cls.name: cls() for cls in (*SYNTH_VOICES, *DRUM_VOICES)}
VOICE_ALIASES: dict[str, str] = {"pad": "warm_pad", "808": "bass_808", "saw": "supersaw"}

STEM_PEAK_DBFS = -3.0  # every non-silent stem is scaled to this peak: headroom for the mixer, never clipped
END_FADE_SECONDS = 0.05  # the very end of the tail fades out, so a still-ringing note never ends in a click
CUT_FADE = 64  # samples over which a cut note (mono voice, choked hat) fades out
_CACHE_BYTES = 24 * 1024 * 1024  # per track: rendered notes kept for reuse (loops repeat a lot)


def _built_in(track: Track) -> Voice | None:
    return VOICES.get(VOICE_ALIASES.get(track.voice, track.voice))


def uses_main_font(track: Track) -> bool:
    """Whether the track plays from the General MIDI SoundFont (a missing kit falls back to it, and a
    kit plays the keys it lacks from it)."""
    if track.voice in KIT_FILES:
        return find_kit(track.voice) is None or any(note.pitch not in KIT_KEYS for note in track.notes)
    if track.voice in HYDROGEN_KITS:
        keys = HYDROGEN_KITS[track.voice].keys
        return find_hydrogen_kit(track.voice) is None or any(note.pitch not in keys for note in track.notes)
    return _built_in(track) is None


def voice_for(track: Track, soundfont: Path | None, *, quiet: bool = False, keep: bool = True) -> Voice:
    """The voice a track plays through: a built-in voice, an acoustic kit, or a SoundFont preset."""
    voice = _built_in(track)
    if voice is not None:
        return voice
    if track.voice in KIT_FILES:
        kit = find_kit(track.voice)
        if kit is not None:
            others = _gm_preset(track, soundfont, quiet=quiet) if soundfont is not None else None
            return FluidVoice(Preset(kit, 0, 0, True), keys=KIT_KEYS, others=others, keep=keep)
    elif track.voice in HYDROGEN_KITS:
        xml = find_hydrogen_kit(track.voice)
        if xml is not None:
            others = FluidVoice(_gm_preset(track, soundfont, quiet=quiet), keep=keep) if soundfont is not None else None
            return HydrogenKitVoice(track.voice, xml, others)
    elif track.voice != "sf2" and not quiet:
        log.warning("unknown voice %r on track %r: playing it from the SoundFont instead", track.voice, track.role)
    assert soundfont is not None  # render_stems checked: a track needs the SoundFont
    return FluidVoice(_gm_preset(track, soundfont, quiet=quiet), keep=keep)


def _gm_preset(track: Track, soundfont: Path, *, quiet: bool) -> Preset:
    """The track's General MIDI preset in the main font (bank 128 for a kit), or preset 0 if it lacks it."""
    bank = DRUM_BANK if track.is_drum else 0
    program = track.program
    if (bank, program) not in font_presets(soundfont):
        if not quiet:
            log.warning("the SoundFont has no preset %d in bank %d; using preset 0 instead", program, bank)
        program = 0
    return Preset(soundfont, bank, program, track.is_drum)


@dataclass(frozen=True)
class _Part:
    """One track, prepared: its scheduled notes and the voice that plays them."""

    track_index: int
    notes: list[ScheduledNote]
    voice: Voice
    pan: float

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
    STEM_PEAK_DBFS (silent stems stay silent). `workers` threads render roles in parallel.
    `spool`: a folder to render the stems into (a StemSpool, mapped only while read) instead of
    memory. `keep_soundfont=False` frees the SoundFont synths (and their samples) once rendering is
    done; True keeps them for the next job. Raises SoundFontMissing if a track needs the SoundFont and
    it is missing or corrupt, BadInput for an arrangement that cannot be rendered.
    """
    _check(arrangement, sample_rate, workers)
    timeline = Timeline.for_arrangement(arrangement, sample_rate)
    needs_font = any(uses_main_font(t) and t.notes for t in arrangement.tracks)
    font = Path(soundfont) if needs_font else None
    if font is not None:
        font_presets(font)  # fails here, with what to do, if the file is no SoundFont
    try:
        by_role = _prepare(arrangement, timeline, font, keep=keep_soundfont)
        store = StemSpool(spool, timeline.n_samples) if spool is not None and timeline.n_samples > 0 else None
        stems = _render_roles(by_role, timeline, arrangement.seed, workers, spool=store)
    finally:
        release_synths(keep=keep_soundfont)
    ranked = in_role_order(by_role)
    if store is not None:
        del stems  # the writable mappings: readers map the files afresh
        store.order(ranked)
        return store
    return {role: stems[role] for role in ranked}


def _prepare(arrangement: Arrangement, timeline: Timeline, font: Path | None, *, keep: bool) -> dict[str, list[_Part]]:
    """Schedule every track and choose its voice (everything that logs happens here, in order)."""
    by_role: dict[str, list[_Part]] = {}
    for index, track in enumerate(arrangement.tracks):
        parts = by_role.setdefault(track.role, [])
        notes = schedule_track(track, timeline)
        if notes:
            parts.append(_Part(index, notes, voice_for(track, font, keep=keep), track.pan))
    return by_role


def _render_roles(
    by_role: dict[str, list[_Part]],
    timeline: Timeline,
    seed: int,
    workers: int,
    spool: StemSpool | None = None,
) -> dict[str, np.ndarray]:
    """Render each role into its own buffer on `workers` threads, heaviest role first."""
    n = timeline.n_samples
    stems = {role: spool.allocate(role) if spool is not None else np.zeros((2, n), dtype=np.float32) for role in by_role}

    def render_role(role: str) -> None:
        out = stems[role]
        for part in by_role[role]:
            render_voice_track(
                part.voice, part.notes, pan=part.pan, timeline=timeline, seed=(seed, part.track_index), out=out
            )
        if _finish(out, timeline):
            log.error("stem %r contained non-finite samples; they were zeroed", role)

    order = sorted(by_role, key=lambda r: -sum(p.cost for p in by_role[r]))
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ampa-render") as pool:
        for future in [pool.submit(render_role, role) for role in order]:
            future.result()
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
    glides = legato_sources(notes) if voice.glides else [-1] * len(notes)
    hits: dict[int, int] = {}  # pitch -> notes of it so far (drums' round-robin)
    try:
        for note, cut, glide_from in zip(notes, cuts, glides, strict=True):
            hit = hits.get(note.pitch, 0)
            hits[note.pitch] = hit + 1
            request = NoteRequest(
                pitch=note.pitch,
                velocity=note.velocity,
                gate=note.gate,
                sample_rate=sr,
                beat=note.beat,
                seconds_per_beat=timeline.seconds_per_beat,
                seed=(*seed, note.index),
                glide_from=glide_from,
                hit=hit,
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
            velocity = 1.0 if voice.own_velocity else dsp.velocity_gain(note.velocity)
            left, right = np.float32(gain_l * velocity), np.float32(gain_r * velocity)
            a, b = note.onset, note.onset + length
            out[0, a:b] += segment * left if segment.ndim == 1 else segment[0] * left
            out[1, a:b] += segment * right if segment.ndim == 1 else segment[1] * right
    finally:
        voice.close()


def legato_sources(notes: list[ScheduledNote]) -> list[int]:
    """For each note, the pitch it slides from: the previous note's, if that one is still held when
    this one starts (a legato line, as a producer draws an 808 slide), else -1."""
    sources = [-1] * len(notes)
    for i in range(1, len(notes)):
        before, note = notes[i - 1], notes[i]
        if before.onset < note.onset <= before.onset + before.gate and before.pitch != note.pitch:
            sources[i] = before.pitch
    return sources


def _finish(stem: np.ndarray, timeline: Timeline) -> bool:
    """In place: no NaN/inf, a click-free end, and a peak of STEM_PEAK_DBFS (silent stems stay silent).

    Returns True if non-finite samples had to be zeroed (the caller logs it).
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
