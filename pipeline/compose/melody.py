"""Melodies: a one-bar motif per section kind, repeated, sequenced over the chords, varied, and
resolved to the tonic at the end of every phrase."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from pipeline.compose.context import Context
from pipeline.compose.rhythm import STEP
from pipeline.compose.structure import section_kind
from pipeline.score import Note, Section

# How busy the lead is in each kind of section, relative to the genre's density.
_DENSITY = {
    "verse": 0.75,
    "chorus": 1.0,
    "drop": 1.0,
    "bridge": 0.6,
    "breakdown": 0.45,
    "build": 0.7,
    "solo": 1.5,
    "head": 1.0,
    "theme": 0.8,
    "development": 0.9,
    "climax": 1.0,
    "main": 0.9,
    "intro": 0.4,
    "outro": 0.4,
    "prechorus": 0.8,
}


@dataclass(frozen=True)
class Motif:
    """Onsets (grid steps), lengths (steps) and scale-degree offsets of a one-bar idea."""

    steps: tuple[int, ...]
    lengths: tuple[int, ...]
    degrees: tuple[int, ...]


def make_motif(rng: random.Random, steps_per_bar: int, pulse: int, density: float) -> Motif:
    """A rhythm weighted towards strong beats and a contour that moves mostly by step."""
    unit = 1 if density > 0.9 else 2  # 16ths for busy lines, 8ths otherwise
    slots = list(range(0, steps_per_bar, unit))
    count = max(2, min(len(slots), round(1 + density * len(slots) * 0.6)))
    weights = [3.0 if s % (pulse * 2) == 0 else 2.0 if s % pulse == 0 else 1.0 for s in slots]
    chosen = {slots[0] if rng.random() < 0.7 else slots[min(1, len(slots) - 1)]}
    while len(chosen) < count:
        chosen.add(rng.choices(slots, weights)[0])
    onsets = sorted(chosen)
    lengths = [b - a for a, b in zip(onsets, onsets[1:] + [steps_per_bar])]
    degrees = [rng.choice((0, 2, 4))]
    for _ in onsets[1:]:
        move = rng.choices((-2, -1, 1, 2, 3, -3), (1, 3, 3, 1.5, 0.5, 0.5))[0]
        nxt = degrees[-1] + move
        if abs(nxt) > 5:
            nxt = degrees[-1] - move  # turn back towards the centre
        degrees.append(nxt)
    return Motif(tuple(onsets), tuple(lengths), tuple(degrees))


def vary(motif: Motif, rng: random.Random) -> Motif:
    """Same rhythm, a new tail: the answer to the motif's question."""
    degrees = list(motif.degrees)
    for i in range(max(1, len(degrees) // 2), len(degrees)):
        degrees[i] += rng.choice((-2, -1, 1, 2))
    return Motif(motif.steps, motif.lengths, tuple(degrees))


# What each bar of a four-bar phrase does: "call" (the motif), "answer" (the varied motif in another
# register), "rest" (space), "close" (the motif's first half landing on the tonic). Quiet sections
# leave every other bar empty; full ones trade call and answer without a gap; the last bar of a
# section always closes.
_PHRASES = {
    "sparse": ("call", "rest", "answer", "rest"),
    "full": ("call", "answer", "call", "close"),
    "hint": ("call", "rest", "rest", "rest"),
    "solo": ("call", "call", "call", "rest"),
}
_PLAN_OF_KIND = {
    "intro": "hint",
    "outro": "hint",
    "chorus": "full",
    "drop": "full",
    "climax": "full",
    "head": "full",
    "solo": "solo",
    "prechorus": "full",
}
_BIG = ("chorus", "drop", "climax")


def lead_part(ctx: Context, section: Section, motifs: dict[str, Motif], occurrence: int) -> list[Note]:
    """Phrases of four bars (two in short sections) in call and response, with space between them."""
    kind = section_kind(section.name)
    density = min(1.2, ctx.profile.lead_density * _DENSITY.get(kind, 0.8) * (0.7 + 0.5 * section.energy))
    if "sad" in ctx.moods or "dark" in ctx.moods or "calm" in ctx.moods:
        density *= 0.8  # darker moods leave more space
    key = kind if kind not in ("intro", "outro") else "chorus"
    if key not in motifs:
        motifs[key] = make_motif(ctx.rng, ctx.grid.steps, ctx.grid.pulse, density)
    base = motifs[key]
    answer = vary(base, ctx.rng)
    plan = _PHRASES[_PLAN_OF_KIND.get(kind, "sparse")]
    if section.bars < 4:
        plan = ("call", "close")
    center = ctx.tonic_near(ctx.profile.lead_center)
    # The answer sits an octave away from the call: below a high lead, above a low one.
    other = center - 12 if ctx.profile.lead_center >= 72 else center + 12
    notes: list[Note] = []
    for bar in range(section.bars):
        start = ctx.bar_start(section, bar)
        step = plan[bar % len(plan)]
        if bar == section.bars - 1:
            step = "close"
        if step == "rest":
            continue
        motif = answer if step == "answer" else base
        if kind == "solo":
            motif = make_motif(ctx.rng, ctx.grid.steps, ctx.grid.pulse, density)  # improvised: always new
        elif occurrence > 0 and step == "call" and bar % len(plan) > 0:
            motif = vary(base, ctx.rng)  # a repeat of the section varies its second call
        register = other if step == "answer" else center
        phrase = _realise(ctx, motif, start, register, step == "close", section)
        if kind in _BIG and step != "answer":
            # Full sections double the call an octave below, softer: the hook gets weight.
            phrase += [replace(n, pitch=n.pitch - 12, velocity=max(1, round(n.velocity * 0.6))) for n in phrase]
        notes += phrase
    return notes


def _realise(ctx: Context, motif: Motif, start: float, tonic: int, closing: bool, section: Section) -> list[Note]:
    scale = ctx.scale
    chord = ctx.slot_at(start).chord
    shift = chord.degree if chord.degree <= 3 else chord.degree - 7  # sequence the motif with the harmony
    steps, lengths, degrees = list(motif.steps), list(motif.lengths), list(motif.degrees)
    if closing:
        # Keep the motif's first half, then land on the tonic and hold it to the bar's end.
        half = ctx.grid.half if ctx.grid.half < ctx.grid.steps else ctx.grid.steps // 2
        keep = [i for i, s in enumerate(steps) if s < half] or [0]
        steps = [steps[i] for i in keep] + [half]
        degrees = [degrees[i] + shift for i in keep] + [None]  # None: the tonic
        lengths = [b - a for a, b in zip(steps, steps[1:] + [ctx.grid.steps])]
        shift = 0
    notes = []
    previous = tonic
    velocity = 82 + 25 * section.energy
    for i, (step, length, degree) in enumerate(zip(steps, lengths, degrees)):
        beat = start + step * STEP
        if degree is None:
            pitch = min((tonic - 12, tonic, tonic + 12), key=lambda p: abs(p - previous))
            slot = ctx.slot_at(beat)
            if slot.given and scale.tonic_pc not in slot.chord.pcs:
                # A progression the spec asked for may not hold the tonic here: close on its nearest chord tone.
                tones = [p for p in range(pitch - 6, pitch + 7) if p % 12 in slot.chord.pcs]
                pitch = min(tones, key=lambda p: (abs(p - pitch), p))
        else:
            pitch = scale.pitch(degree + (shift if not closing else 0), tonic)
            here = ctx.slot_at(beat).chord
            if step % ctx.grid.pulse == 0:
                # Strong beats sit on chord tones.
                pitch = min(
                    (p for p in range(pitch - 4, pitch + 5) if p % 12 in here.pcs),
                    key=lambda p: (abs(p - pitch), p),
                    default=pitch,
                )
        while pitch > tonic + 12:
            pitch -= 12
        while pitch < tonic - 8:
            pitch += 12
        duration = length * STEP * (ctx.profile.lead_legato if degree is not None else 0.98)
        accent = 1.0 if step % ctx.grid.pulse == 0 else 0.9
        notes.append(Note(ctx.human.time(beat), max(0.1, duration), pitch, ctx.human.velocity(velocity * accent)))
        previous = pitch
    return notes
