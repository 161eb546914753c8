"""Harmony and pad parts: how each genre plays its chords (blocks, stabs, arps, strums, skanks...).

Each hit re-voices the chord sounding at that moment with the inversion nearest the previous
voicing, so parts move by small steps (voice leading) whatever the comping rhythm.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

from pipeline.compose.context import Context
from pipeline.compose.genres import CLUB_DRUMS
from pipeline.compose.rhythm import STEP
from pipeline.compose.structure import section_kind
from pipeline.compose.theory import lead_voices, place
from pipeline.score import Note, Section

Hit = tuple[float, float, float]  # (beat, duration in beats, velocity)


class Voicer:
    """Keeps the last voicing of one part so the next chord can move to it smoothly."""

    def __init__(self, low: int, high: int, size: int, center: int, fifthless: bool = False) -> None:
        self.low, self.high, self.size, self.center = low, high, size, center
        # Sustained parts drop the fifth and double the root: every note's own harmonics already
        # sound its fifth, and a held fifth makes the chroma lean towards the dominant's key.
        self.fifthless = fifthless
        self.previous: tuple[int, ...] | None = None

    def voice(self, ctx: Context, beat: float) -> tuple[int, ...]:
        chord = ctx.slot_at(beat).chord
        if self.fifthless and len(chord.pcs) == 3:
            chord = replace(chord, pcs=(chord.pcs[0], chord.pcs[1], chord.pcs[0]))
        self.previous = lead_voices(self.previous, chord, self.low, self.high, self.size, self.center)
        return self.previous


def harmony_part(ctx: Context, section: Section, voicer: Voicer) -> list[Note]:
    style = ctx.profile.comp
    notes: list[Note] = []
    # A club intro builds up a layer at a time: the beat, the bass, then (halfway) the chords.
    club_intro = section_kind(section.name) == "intro" and ctx.profile.drum_style in CLUB_DRUMS and section.bars >= 4
    for bar in range(section.bars // 2 if club_intro else 0, section.bars):
        start = ctx.bar_start(section, bar)
        writer = _WRITERS.get(style, _block)
        notes += writer(ctx, section, bar, start, voicer)
    return notes


def pad_part(ctx: Context, section: Section, voicer: Voicer) -> list[Note]:
    """Sustained chords, one per chord change (a swell holds across bars)."""
    notes: list[Note] = []
    end = ctx.bar_start(section, section.bars)
    velocity = 52 + 30 * section.energy
    for slot in ctx.slots:
        if slot.section != ctx.sections.index(section):
            continue
        voicing = voicer.voice(ctx, slot.start)
        length = min(slot.duration, end - slot.start)
        for pitch in voicing:
            notes.append(Note(slot.start, length, pitch, ctx.human.velocity(velocity)))
    if ctx.profile.pad == "swell" and not ctx.profile.drums:
        notes += _halo(ctx, section, velocity)
    return notes


def _halo(ctx: Context, section: Section, velocity: float) -> list[Note]:
    """Ambient: a slow line above the pad, one long note every two bars (the chord's ninth, third or
    fifth in turn), swelling and fading over eight bars, so the texture keeps evolving."""
    notes = []
    for bar in range(0, section.bars, 2):
        start = ctx.bar_start(section, bar)
        slot = ctx.slot_at(start)
        chord = slot.chord
        choice = (bar // 2) % 3
        pc = ctx.scale.degree_pc(chord.degree + 1) if choice == 0 else chord.pcs[min(choice, len(chord.pcs) - 1)]
        if choice == 0 and slot.given:
            pc = chord.pcs[1]  # a given chord's own tones only: its ninth may not be in the key's scale
        swell = 0.75 + 0.25 * math.sin(2 * math.pi * (section.start_bar + bar) / 8)
        length = min(2, section.bars - bar) * ctx.bar_beats
        notes.append(Note(start, length, place(pc, 76), ctx.human.velocity(velocity * 0.8 * swell)))
    return notes


def _chord(
    ctx: Context,
    voicer: Voicer,
    beat: float,
    duration: float,
    velocity: float,
    spread: float = 0.0,
    reverse: bool = False,
) -> list[Note]:
    voicing = voicer.voice(ctx, beat)
    order = list(reversed(voicing)) if reverse else list(voicing)
    at = ctx.human.time(beat)
    return [
        Note(at + i * spread, max(0.05, duration - i * spread), p, ctx.human.velocity(velocity))
        for i, p in enumerate(order)
    ]


def _velocity(section: Section, accent: float = 1.0) -> float:
    return (62 + 35 * section.energy) * accent


def _hits_to_notes(ctx: Context, voicer: Voicer, hits: list[Hit], **kwargs) -> list[Note]:
    out: list[Note] = []
    for beat, duration, velocity in hits:
        out += _chord(ctx, voicer, beat, duration, velocity, **kwargs)
    return out


def _changes(ctx: Context, start: float) -> list[float]:
    """Beats inside this bar where a new chord starts (besides the downbeat)."""
    return ctx.changes_in(start, start + ctx.bar_beats)


def _block(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    points = [start] + _changes(ctx, start)
    if section.energy > 0.75 and ctx.profile.comp == "block":
        points += [start + g * STEP for g in ctx.grid.groups[1:]]  # re-strike on the strong beats when full
    points = sorted(set(points)) + [start + ctx.bar_beats]
    hits = [(a, (b - a) * 0.95, _velocity(section)) for a, b in itertools.pairwise(points)]
    return _hits_to_notes(ctx, voicer, hits)


def _pluck(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    points = sorted(set([start + g * STEP for g in ctx.grid.groups] + _changes(ctx, start))) + [start + ctx.bar_beats]
    hits = [(a, (b - a) * 0.9, _velocity(section, 0.9)) for a, b in itertools.pairwise(points)]
    return _hits_to_notes(ctx, voicer, hits)


def _stabs(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    if ctx.profile.name == "funk" and ctx.grid.steps == 16:
        steps = (2, 5, 7, 10, 13, 15) if section.energy > 0.5 else (2, 7, 10, 15)
        length = 0.18
    elif ctx.profile.name == "techno":
        steps = tuple(s for s in ctx.grid.offbeats)[::2] or (2,)
        length = 0.3
    else:
        steps = tuple(ctx.grid.offbeats)
        length = 0.35
    hits = [(start + s * STEP, length, _velocity(section, 0.95)) for s in steps]
    return _hits_to_notes(ctx, voicer, hits)


def _arp(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    """Chord tones cycling in 16ths (8ths when the section is quiet or the tempo is fast)."""
    unit = 1 if section.energy >= 0.45 and ctx.tempo_bpm <= 150 else 2
    notes = []
    for s in range(0, ctx.grid.steps, unit):
        beat = start + s * STEP
        voicing = voicer.voice(ctx, beat)
        cycle = list(voicing) + [voicing[0] + 12]
        if ctx.profile.name in ("trance", "chiptune"):
            cycle = cycle + cycle[-2:0:-1]  # up and down
        pitch = cycle[(s // unit) % len(cycle)]
        accent = 1.0 if s % ctx.grid.pulse == 0 else 0.82
        notes.append(
            Note(ctx.human.time(beat), unit * STEP * 0.85, pitch, ctx.human.velocity(_velocity(section, accent)))
        )
    return notes


def _pulse(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    """A soft 8th-note arpeggio (Alberti figure in classical): keeps a measurable pulse without drums."""
    notes = []
    # Quarter notes in the quiet sections (intro, breakdown, outro), eighths once the music moves.
    unit = 4 if section_kind(section.name) in ("intro", "breakdown", "outro") else 2
    for i, s in enumerate(range(0, ctx.grid.steps, unit)):
        beat = start + s * STEP
        v = voicer.voice(ctx, beat)
        figure = (v[0], v[-1], v[1], v[-1]) if ctx.profile.name == "classical" else tuple(v) + (v[0] + 12,)
        accent = 1.0 if s % ctx.grid.pulse == 0 or s in ctx.grid.groups else 0.8
        notes.append(
            Note(
                ctx.human.time(beat),
                0.5 * 1.6,
                figure[i % len(figure)],
                ctx.human.velocity(_velocity(section, accent * 0.9)),
            )
        )
    return notes


def _ostinato(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    """Driving string ostinato (8ths, 16ths at the climax) on root, fifth and octave."""
    unit = 1 if section.energy > 0.85 else 2
    notes = []
    for i, s in enumerate(range(0, ctx.grid.steps, unit)):
        beat = start + s * STEP
        chord = ctx.slot_at(beat).chord
        root = place(chord.root_pc, voicer.low)
        third = place(chord.pcs[1], root + 1)
        # Root, octave and third: the third names the mode, and a root–fifth figure would make
        # the chroma lean on the dominant.
        figure = (root, root + 12, third, root + 12)
        accent = 1.0 if s % ctx.grid.pulse == 0 else 0.8
        notes.append(
            Note(ctx.human.time(beat), unit * STEP * 0.8, figure[i % 4], ctx.human.velocity(_velocity(section, accent)))
        )
    return notes


def _strum(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    steps = (0, 4, 6, 10, 12, 14) if ctx.grid.steps == 16 else tuple(range(0, ctx.grid.steps, 2))
    notes = []
    for s in steps:
        down = s % 4 == 0 or s in ctx.grid.groups
        nxt = next((t for t in steps if t > s), ctx.grid.steps)
        notes += _chord(
            ctx,
            voicer,
            start + s * STEP,
            (nxt - s) * STEP * 0.9,
            _velocity(section, 1.0 if down else 0.75),
            spread=0.015,
            reverse=not down,
        )
    return notes


def _power(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    unit = 2 if section.energy > 0.45 else 4
    notes = []
    for s in range(0, ctx.grid.steps, unit):
        beat = start + s * STEP
        root = 40 + (ctx.slot_at(beat).bass_pc - 40) % 12
        vel = ctx.human.velocity(_velocity(section, 1.0 if s % 4 == 0 else 0.85))
        at = ctx.human.time(beat)
        notes += [Note(at, unit * STEP * 0.9, p, vel) for p in (root, root + 7, root + 12)]
        notes.append(Note(at, unit * STEP * 0.9, _tenth(ctx, beat, root), max(1, round(vel * 0.75))))
    return notes


def _tenth(ctx: Context, beat: float, root: int) -> int:
    """The chord's third above the power chord: a distorted root and fifth alone sound their
    major third as a harmonic, which would turn a minor key major to the ear and the key meter."""
    return place(ctx.slot_at(beat).chord.pcs[1], root + 12)


def _chug(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    """Palm-muted 16ths on the power chord's root and fifth (open chord on the one)."""
    unit = 1 if section.energy > 0.6 else 2
    notes = []
    for s in range(0, ctx.grid.steps, unit):
        beat = start + s * STEP
        root = 40 + (ctx.slot_at(beat).bass_pc - 40) % 12
        ring = s == 0
        vel = ctx.human.velocity(_velocity(section, 1.05 if ring else 0.85))
        at = ctx.human.time(beat)
        notes += [Note(at, (1.0 if ring else unit * STEP * 0.45), p, vel) for p in (root, root + 7)]
        if s % 4 == 0:  # the third on the beats only: palm-muted chugs stay tight
            length = 1.0 if ring else unit * STEP * 0.45
            notes.append(Note(at, length, _tenth(ctx, beat, root), max(1, round(vel * 0.7))))
    return notes


def _skank(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    steps = (4, 12) if ctx.grid.steps == 16 else tuple(ctx.grid.offbeats)
    if ctx.grid.steps == 16 and section.energy > 0.6:
        steps = (2, 6, 10, 14)  # double-time skank when it is full
    return _hits_to_notes(ctx, voicer, [(start + s * STEP, 0.2, _velocity(section)) for s in steps])


_JAZZ_RHYTHMS = (
    ((0.0, 1.4), (1.5, 0.9)),
    ((1.0, 0.4), (2.5, 1.2)),
    ((0.0, 0.4), (2.0, 1.4)),
    ((1.5, 0.9), (3.5, 0.4)),
    ((0.5, 0.9), (2.5, 0.4)),
)


def _jazz(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    if ctx.grid.steps == 16:
        rhythm = _JAZZ_RHYTHMS[ctx.rng.randrange(len(_JAZZ_RHYTHMS))]
        if _changes(ctx, start) or start == 0.0:
            # Two chords in the bar get one hit each; the piece's first bar starts on the downbeat,
            # so the track never opens with a second of silence.
            rhythm = ((0.0, 1.4), (2.0, 1.4))
    else:
        rhythm = tuple((g * STEP, 0.9) for g in ctx.grid.groups)
    if section_kind(section.name) == "solo" and len(rhythm) > 1 and ctx.rng.random() < 0.35:
        rhythm = rhythm[:1]  # behind a soloist the comping lays out now and then
    hits = [(start + b, d, _velocity(section, 0.9)) for b, d in rhythm]
    return _hits_to_notes(ctx, voicer, hits)


def _rhodes(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    points = [start] + _changes(ctx, start)
    hits = []
    for i, beat in enumerate(points):
        end = points[i + 1] if i + 1 < len(points) else start + ctx.bar_beats
        hits.append((beat, (end - beat) * 0.96, _velocity(section, 0.9)))
    notes = _hits_to_notes(ctx, voicer, hits, spread=0.03)  # rolled, like a player on a Rhodes
    if section.energy > 0.5 and ctx.grid.steps == 16 and bar % 2 == 1:
        notes += _chord(ctx, voicer, start + 1.5, 0.8, _velocity(section, 0.65), spread=0.02)
    return sorted(notes, key=lambda n: (n.start, n.pitch))


def _montuno(ctx: Context, section: Section, bar: int, start: float, voicer: Voicer) -> list[Note]:
    steps = (0, 3, 6, 8, 10, 14) if ctx.grid.steps == 16 else tuple(range(0, ctx.grid.steps, 2))
    return _hits_to_notes(
        ctx, voicer, [(start + s * STEP, 0.22, _velocity(section, 1.0 if s % 4 == 0 else 0.85)) for s in steps]
    )


_WRITERS = {
    "block": _block,
    "pluck": _pluck,
    "stabs": _stabs,
    "arp": _arp,
    "pulse": _pulse,
    "ostinato": _ostinato,
    "strum": _strum,
    "power": _power,
    "chug": _chug,
    "skank": _skank,
    "jazz": _jazz,
    "rhodes": _rhodes,
    "montuno": _montuno,
}
