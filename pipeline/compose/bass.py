"""Bass lines: locked to the kick where the genre wants it, always coming home to the tonic."""

from __future__ import annotations

from pipeline.compose.context import Context
from pipeline.compose.genres import CLUB_DRUMS
from pipeline.compose.structure import section_kind
from pipeline.compose.rhythm import STEP, kick_steps
from pipeline.compose.theory import place
from pipeline.score import Note, Section


def bass_part(ctx: Context, section: Section) -> list[Note]:
    style = ctx.profile.bass
    writer = _WRITERS.get(style, _kick)
    hits: list[tuple[float, int, float]] = []  # (beat, pitch, velocity)
    # A club intro is the beat alone at first; the bass joins after its first quarter.
    kind = section_kind(section.name)
    first = section.bars // 4 if kind == "intro" and ctx.profile.drum_style in CLUB_DRUMS else 0
    # An outro lets the bass go halfway through; the last bar's tonic is added with the final chord.
    ending = kind == "outro" and section.bars >= 4 and section is ctx.sections[-1]
    last = (section.bars + 1) // 2 if ending else section.bars
    for bar in range(first, last):
        start = ctx.bar_start(section, bar)
        hits += writer(ctx, section, bar, start)
    return _to_notes(ctx, hits, section, legato=_LEGATO.get(style, 0.9), end_bar=last)


def _root(ctx: Context, beat: float) -> int:
    return place(ctx.slot_at(beat).bass_pc, ctx.profile.bass_octave_low)


def _velocity(section: Section, accent: float = 1.0) -> float:
    return (78 + 30 * section.energy) * accent


def _kick(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    # The bass follows the groove's kick even where the drums are out, so it locks when they return.
    steps = kick_steps(ctx.groove, max(section.energy, 0.35), bar, ctx.grid) or ctx.grid.groups
    # A chord that changes between kicks gets its root at once (else a sparse kick holds the old root).
    changes = [round((beat - start) / STEP) for beat in ctx.changes_in(start, start + ctx.bar_beats)]
    steps = sorted(set(steps) | {c for c in changes if not any(abs(c - k) <= 2 for k in steps)})
    return [(start + s * STEP, _root(ctx, start + s * STEP), _velocity(section, 1.0 if s == 0 else 0.9)) for s in steps]


def _sub(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    return _kick(ctx, section, bar, start)


def _offbeat(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    hits = [(start + s * STEP, _root(ctx, start + s * STEP), _velocity(section)) for s in ctx.grid.offbeats]
    if bar == 0:
        hits.insert(0, (start, _root(ctx, start), _velocity(section)))  # land the section on the tonic
    return hits


def _eighths(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    hits = []
    for s in range(0, ctx.grid.steps, 2):
        beat = start + s * STEP
        root = _root(ctx, beat)
        # Synthwave-style octave jumps on some off-beats when the music is full.
        octave = 12 if ctx.profile.name == "synthwave" and section.energy > 0.6 and s % 8 == 6 else 0
        hits.append((beat, root + octave, _velocity(section, 1.0 if s % 4 == 0 else 0.85)))
    return hits


def _sixteenths(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    hits = []
    for s in range(ctx.grid.steps):
        if ctx.profile.name == "techno" and s % 4 == 0:
            continue  # rolling techno bass leaves the kick alone
        if section.energy < 0.6 and s % 2:
            continue
        beat = start + s * STEP
        hits.append((beat, _root(ctx, beat), _velocity(section, 1.0 if s % 4 == 0 else 0.8)))
    return hits


def _octaves(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    hits = []
    for s in range(0, ctx.grid.steps, 2):
        beat = start + s * STEP
        hits.append(
            (beat, _root(ctx, beat) + (12 if s % 4 == 2 else 0), _velocity(section, 1.0 if s % 4 == 0 else 0.85))
        )
    return hits


def _root_fifth(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    hits = []
    pulses = ctx.grid.groups if ctx.grid.denominator == 8 else ctx.grid.pulses[::2] or [0]
    if ctx.grid.steps == 12 and ctx.grid.denominator == 4:
        pulses = [0, 4, 8]
    for i, s in enumerate(pulses):
        beat = start + s * STEP
        root = _root(ctx, beat)
        if i % 2 == 0:
            hits.append((beat, root, _velocity(section)))
        else:  # the fifth is a short answer, the root carries the weight
            hits.append((beat, root + 7 if root + 7 <= 50 else root - 5, _velocity(section, 0.85), 0.45))
    return hits


def _walking(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    """Quarter notes: root on the one, chord and scale tones, a chromatic approach into the next chord."""
    hits = []
    pulses = ctx.grid.pulses if ctx.grid.denominator == 4 else ctx.grid.groups
    if _in_two(ctx, section) and len(pulses) == 4:
        # The first head and the ending in "two": root and fifth in half notes; the walk comes with the solos.
        root = _root(ctx, start)
        fifth = place((ctx.slot_at(start + 2.0).chord.pcs[2]), ctx.profile.bass_octave_low)
        second = fifth if bar % 2 else _root(ctx, start + 2.0)
        return [(start, root, _velocity(section)), (start + 2.0, second, _velocity(section, 0.9))]
    previous = None
    for i, s in enumerate(pulses):
        beat = start + s * STEP
        slot = ctx.slot_at(beat)
        root = _root(ctx, beat)
        if i == 0 or abs(beat - slot.start) < 1e-6:
            pitch = root
        elif i == len(pulses) - 1:
            following = ctx.next_slot(ctx.slot_at(beat))
            target = place(following.bass_pc, ctx.profile.bass_octave_low) if following else root
            pitch = target + ctx.rng.choice((-1, 1))
        else:
            tones = [place(pc, ctx.profile.bass_octave_low) for pc in slot.chord.pcs[1:3]]
            tones += [t + 12 for t in tones if t + 12 <= 55]
            pitch = min(tones, key=lambda t: (abs(t - (previous or root) - 3), t))
            if i == len(pulses) // 2 and ctx.scale.tonic_pc in slot.chord.pcs:
                pitch = place(
                    ctx.scale.tonic_pc, ctx.profile.bass_octave_low
                )  # lean on the tonic when the chord has it
        hits.append((beat, pitch, _velocity(section, 1.0 if i == 0 else 0.9)))
        previous = pitch
    return hits


def _in_two(ctx: Context, section: Section) -> bool:
    """Whether a walking bass plays this section in two: the intro and outro, and the first head when
    solos follow it (so the walk arrives with the solos)."""
    kind = section_kind(section.name)
    if kind in ("intro", "outro"):
        return True
    index = ctx.sections.index(section)
    solos = [i for i, s in enumerate(ctx.sections) if section_kind(s.name) == "solo"]
    return kind == "head" and bool(solos) and index < solos[0]


def _boogie(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    hits = []
    shape = (0, 4, 7, 9, 0, 9, 7, 4)  # root, 3rd, 5th, 6th and back down: the blues boogie
    pulses = ctx.grid.pulses if ctx.grid.denominator == 4 else ctx.grid.groups
    for i, s in enumerate(pulses):
        beat = start + s * STEP
        root = _root(ctx, beat)
        hits.append((beat, root + shape[(i + 4 * (bar % 2)) % len(shape)], _velocity(section)))
    return hits


def _tumbao(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    """Latin tumbao: the 'and' of two and beat four, the four anticipating the next chord."""
    if ctx.grid.steps != 16:
        return _root_fifth(ctx, section, bar, start)
    hits = [] if bar else [(start, _root(ctx, start), _velocity(section))]
    hits.append((start + 1.5, _root(ctx, start + 1.5) + 7, _velocity(section)))
    ahead = ctx.slot_at(start + ctx.bar_beats + 0.01) if start + ctx.bar_beats < ctx.total_beats else ctx.slot_at(start)
    hits.append((start + 3.0, place(ahead.bass_pc, ctx.profile.bass_octave_low), _velocity(section)))
    return hits


def _one_drop(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    steps = (0, 6, 8, 10, 14) if ctx.grid.steps == 16 else tuple(ctx.grid.groups)
    shape = (0, 0, 7, 12, 7)
    return [
        (start + s * STEP, _root(ctx, start + s * STEP) + shape[i % len(shape)], _velocity(section))
        for i, s in enumerate(steps)
    ]


def _funk(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    if ctx.grid.steps != 16:
        return _eighths(ctx, section, bar, start)
    pattern = ((0, 0, 1.1), (3, 0, 0.7), (6, 12, 0.9), (7, 0, 0.7), (10, 7, 0.85), (13, 10, 0.7), (14, 12, 0.9))
    return [(start + s * STEP, _root(ctx, start + s * STEP) + off, _velocity(section, acc)) for s, off, acc in pattern]


def _sustain(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    slot = ctx.slot_at(start)
    if abs(slot.start - start) > 1e-6 and bar:
        if section.energy > 0.7 and ctx.profile.name == "cinematic":
            return [(start, _root(ctx, start), _velocity(section, 0.9))]
        return []
    return [(start, _root(ctx, start), _velocity(section, 0.9))]


def _wobble(ctx: Context, section: Section, bar: int, start: float) -> list[tuple[float, int, float]]:
    if section.energy > 0.8:
        return _kick(ctx, section, bar, start) + [(start + ctx.grid.half * STEP, _root(ctx, start), _velocity(section))]
    return [
        (start, _root(ctx, start), _velocity(section)),
        (start + ctx.grid.half * STEP, _root(ctx, start), _velocity(section)),
    ]


_WRITERS = {
    "kick": _kick,
    "sub": _sub,
    "offbeat": _offbeat,
    "eighths": _eighths,
    "sixteenths": _sixteenths,
    "octaves": _octaves,
    "root_fifth": _root_fifth,
    "walking": _walking,
    "boogie": _boogie,
    "tumbao": _tumbao,
    "one_drop": _one_drop,
    "funk": _funk,
    "sustain": _sustain,
    "wobble": _wobble,
}
_LEGATO = {
    "kick": 0.95,
    "sub": 1.0,
    "offbeat": 0.45,
    "eighths": 0.8,
    "sixteenths": 0.6,
    "octaves": 0.7,
    "walking": 0.92,
    "boogie": 0.85,
    "funk": 0.55,
    "sustain": 1.0,
    "wobble": 1.0,
    "one_drop": 0.8,
}


def _to_notes(
    ctx: Context, hits: list[tuple[float, int, float]], section: Section, legato: float, end_bar: int
) -> list[Note]:
    """Durations run to the next hit (or where the part stops), shortened by the style's legato."""
    end = ctx.bar_start(section, end_bar)
    hits = sorted(set(hits))
    notes = []
    for i, hit in enumerate(hits):
        beat, pitch, velocity = hit[:3]
        factor = hit[3] if len(hit) > 3 else 1.0  # some hits are shorter than the style's legato
        nxt = hits[i + 1][0] if i + 1 < len(hits) else end
        if nxt - beat <= 1e-6:
            continue
        start = ctx.human.time(beat)
        duration = max(0.05, (nxt - beat) * legato * factor)
        notes.append(Note(start, duration, pitch, ctx.human.velocity(velocity)))
    return notes
