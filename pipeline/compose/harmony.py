"""Chord plan: which progression each section plays, and the cadences that make the key audible.

Every progression in the genre table starts on the tonic and loops back to it through the
dominant. Each section ends on a cadence chord (V, or bVII / bII over a tonic pedal in modal
genres) and the piece ends on the tonic, so the tonic is what a listener and a key estimator hear.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.compose.genres import GenreProfile
from pipeline.compose.structure import section_kind
from pipeline.compose.theory import MINOR_FAMILY, Chord, Scale, parse_chord
from pipeline.score import Section

# Sections that take a contrasting progression, entering away from the tonic.
_CONTRAST = {"bridge", "breakdown", "development", "solo"}
# Sections whose bass holds a tonic pedal under the changing chords (until the closing cadence).
_PEDAL = {"intro", "outro", "breakdown", "build"}


@dataclass(frozen=True)
class ChordSlot:
    start: float  # beat
    duration: float  # beats
    chord: Chord
    bass_pc: int  # what the bass plays: the root, or the tonic under a modal cadence (pedal)
    section: int  # index into the arrangement's sections
    cadence: bool = False  # the section's closing chord
    final: bool = False  # the last chord of the piece
    given: bool = False  # from a progression the spec asked for, not the genre's choice


def plan_chords(
    sections: list[Section],
    profile: GenreProfile,
    scale: Scale,
    bar_beats: float,
    rng: random.Random,
    given: list[Chord] | None = None,
) -> list[ChordSlot]:
    if given:
        return _follow(sections, scale, bar_beats, given)
    chosen: dict[str, tuple[str, ...]] = {}
    slots: list[ChordSlot] = []
    for index, section in enumerate(sections):
        kind = section_kind(section.name)
        if kind not in chosen:
            chosen[kind] = _pick(profile, scale, kind, chosen, rng)
        progression = chosen[kind]
        # How many chords fit: bars_per_chord, shortened for tiny sections so harmony still moves.
        per_chord = profile.bars_per_chord if section.bars >= 2 * profile.bars_per_chord else 1.0
        starts: list[float] = []
        pos = 0.0
        while pos < section.bars - 1e-9:
            starts.append(pos)
            pos += per_chord
        last = index == len(sections) - 1
        for i, bar in enumerate(starts):
            length = min(per_chord, section.bars - bar)
            symbol = progression[i % len(progression)]
            cadence = i == len(starts) - 1 and len(starts) > 1
            final = last and i == len(starts) - 1
            if final:
                symbol = _tonic(profile)
            elif last and i == len(starts) - 2:
                symbol = _dominant(profile)
            elif cadence:
                symbol = _cadence_symbol(profile, scale)
            chord = parse_chord(symbol, scale)
            # A modal cadence keeps the tonic in the bass, so bVII (or bII) still points home.
            pedal = (cadence and not final and symbol in ("VII", "II")) or (
                (kind in _PEDAL or profile.tonic_drone) and not cadence
            )
            start, duration = (section.start_bar + bar) * bar_beats, length * bar_beats
            previous = slots[-1].chord.degree if slots else 0
            if _needs_predominant(profile, scale, chord, previous, duration):
                # In major keys a bare V weighs like a second tonic (its root is the tonic's fifth);
                # approaching it from IV inside the same bar keeps the subdominant audible.
                half = round(duration / 2 / 0.5) * 0.5
                before = parse_chord(("ii" if profile.name == "jazz" else "IV") + _seventh(profile), scale)
                slots.append(ChordSlot(start, half, before, before.root_pc, index))
                start, duration = start + half, duration - half
            slots.append(
                ChordSlot(
                    start=start,
                    duration=duration,
                    chord=chord,
                    bass_pc=scale.tonic_pc if pedal or (i == 0 and kind not in _CONTRAST) else chord.root_pc,
                    section=index,
                    cadence=cadence,
                    final=final,
                )
            )
    return slots


def _follow(sections: list[Section], scale: Scale, bar_beats: float, given: list[Chord]) -> list[ChordSlot]:
    """A given progression, one chord per bar, restarting with every section; the bass plays the roots.

    Only the piece's last bar is not the progression's: it rests on the tonic chord (unless the
    progression already puts a chord on the tonic there), so the key still closes at home.
    """
    slots: list[ChordSlot] = []
    for index, section in enumerate(sections):
        for bar in range(section.bars):
            chord = given[bar % len(given)]
            final = index == len(sections) - 1 and bar == section.bars - 1
            if final and chord.root_pc != scale.tonic_pc:
                chord = parse_chord("I", scale)
            start = (section.start_bar + bar) * bar_beats
            slots.append(ChordSlot(start, bar_beats, chord, chord.root_pc, index, final=final, given=True))
    return slots


def _needs_predominant(profile: GenreProfile, scale: Scale, chord: Chord, previous: int, duration: float) -> bool:
    return (
        scale.mode not in MINOR_FAMILY
        and chord.degree == 4
        and (previous not in (1, 3) or profile.name == "jazz")  # jazz: ii–V in every dominant bar
        and duration >= 2.0
        and profile.name != "blues"
    )


def _pick(
    profile: GenreProfile, scale: Scale, kind: str, chosen: dict[str, tuple[str, ...]], rng: random.Random
) -> tuple[str, ...]:
    used = set(chosen.values())
    vocabulary = profile.progressions
    if profile.major_progressions and scale.mode not in MINOR_FAMILY:
        vocabulary = profile.major_progressions
    options = [tuple(p.split()) for p in vocabulary]
    fresh = [p for p in options if p not in used] or options
    progression = fresh[rng.randrange(len(fresh))]
    if kind in ("intro", "outro", "main") and chosen:
        progression = next(iter(chosen.values()))  # intros and outros recall the main material
    if kind in _CONTRAST and len(progression) > 2:
        progression = progression[1:] + progression[:1]  # enter away from home, still cadence back
    return progression


def _modal(profile: GenreProfile, scale: Scale) -> bool:
    # Dorian and lydian always close modally: a raised leading tone would blur them into the parallel
    # major (dorian) or pull them towards the dominant's key (lydian).
    if scale.mode in ("dorian", "lydian"):
        return True
    return profile.cadence == "modal" and scale.mode in ("mixolydian", "phrygian")


def _seventh(profile: GenreProfile) -> str:
    return "7" if profile.chord_size >= 4 else ""


def _tonic(profile: GenreProfile) -> str:
    return "I" + _seventh(profile) if profile.chord_size >= 4 and profile.name in ("jazz", "blues", "funk") else "I"


def _dominant(profile: GenreProfile) -> str:
    return "V" + _seventh(profile)


def _cadence_symbol(profile: GenreProfile, scale: Scale) -> str:
    """The chord that closes a section: V(7), or in modal genres the mode's own cadence chord."""
    if _modal(profile, scale):
        return {"dorian": "VII", "mixolydian": "VII", "phrygian": "II", "lydian": "II"}[scale.mode]
    if scale.mode == "mixolydian" and profile.name != "blues":
        return "VII"  # a raised leading tone would turn mixolydian into major
    return _dominant(profile)
