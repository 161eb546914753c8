"""What happens between and across sections: dynamics, risers, filter and fade automation, markers.

The parts are written section by section; this module shapes them over the form so the piece
breathes: quiet sections are softer as well as thinner, builds swell, outros fade, and every
transition the mixer could act on (a build's filter opening, a drop, a fill and its crash) is
written into the score as an `Automation` lane or a `Marker`.
"""

from __future__ import annotations

from pipeline.compose.genres import CRASH, GenreProfile
from pipeline.compose.structure import section_kind
from pipeline.score import Automation, Marker, Note, Section

BUILD_KINDS = ("build", "prechorus")
BIG_KINDS = ("chorus", "drop", "climax")
QUIET_KINDS = ("intro", "breakdown", "outro")
OPEN_HZ = 20000.0
# Reverse cymbal peak after note-on in FluidR3_GM (measured: 1.32 s at pitch 60).
RISER_PEAK_S = 1.32


def section_gain(section: Section, progress: float, top: float = 1.0) -> float:
    """Velocity factor for a note `progress` (0..1) of the way through `section`.

    The section's energy relative to the fullest one (`top`) sets the level (the fullest plays
    ×1.1, one a third as full ×0.7), so even a calm piece has quiet and full sections; builds swell
    towards the drop, outros fade to 40 %, intros rise a little into the first full section.
    """
    level, slope = _gain_line(section, top)
    return level + slope * progress


def _gain_line(section: Section, top: float) -> tuple[float, float]:
    """section_gain as a line: (gain at the section's start, change over the section)."""
    kind = section_kind(section.name)
    gain = 0.5 + 0.6 * min(1.0, section.energy / max(top, 1e-6))
    if kind in BUILD_KINDS:
        return gain * 0.85, gain * 0.25
    if kind == "outro":
        return gain, -gain * 0.6
    if kind == "intro":
        return gain * 0.9, gain * 0.1
    return gain, 0.0


def shape_dynamics(notes: list[Note], section: Section, top: float, bar_beats: float) -> list[Note]:
    """A section's notes with their velocities scaled by where they fall in it (see section_gain)."""
    level, slope = _gain_line(section, top)
    start, length = section.start_bar * bar_beats, section.bars * bar_beats
    out = []
    for note in notes:
        gain = level + slope * min(1.0, max(0.0, (note.start - start) / length))
        out.append(Note(note.start, note.duration, note.pitch, max(1, min(127, round(note.velocity * gain)))))
    return out


def risers(sections: list[Section], bar_beats: float, tempo: float) -> list[Note]:
    """A reverse cymbal swelling into every big section, peaking on its downbeat."""
    lead_in = RISER_PEAK_S * tempo / 60.0
    notes = []
    for index, section in enumerate(sections):
        if index == 0 or section_kind(section.name) not in BIG_KINDS:
            continue
        start = section.start_bar * bar_beats - lead_in
        if start >= 0:
            notes.append(Note(start, lead_in + 0.25, 60, 96))
    return notes


def automation(sections: list[Section], profile: GenreProfile, bar_beats: float, roles: set[str]) -> list[Automation]:
    """Filter opens over builds (and club intros), a closed filter through breakdowns, outros fading.

    These lanes are the only filter and fade moves the mix makes (pipeline.sound_design plays them;
    song.mid carries them as CC74/CC11), so a lane must say the whole move: a breakdown's filter is
    held shut by a lane of its own between closing and reopening (outside its lanes a stem is open).
    In club genres a big section that nothing builds up to still gets its filter opened over the
    bars before it.
    """
    lanes: list[Automation] = []
    club = profile.drum_style in ("four_on_floor", "breakbeat", "halftime") and profile.risers
    chords = [r for r in ("harmony", "pad") if r in roles]
    # Club genres sweep the lead with the chords (a breakdown's lead is filtered like its pads).
    swept = chords + (["lead"] if club and "lead" in roles else [])
    for index, section in enumerate(sections):
        kind = section_kind(section.name)
        start, end = section.start_bar * bar_beats, (section.start_bar + section.bars) * bar_beats
        after = section_kind(sections[index + 1].name) if index + 1 < len(sections) else None
        if kind in BUILD_KINDS:
            for role in swept + (["bass"] if "bass" in roles and club else []):
                lanes.append(Automation(role, "lowpass", start, end, 700.0 if club else 2500.0, OPEN_HZ))
        elif kind == "intro" and club and index == 0:
            for role in chords:
                lanes.append(Automation(role, "lowpass", start, end, 1200.0, OPEN_HZ))
        elif kind == "breakdown":
            # Close over the first bar, reopen over the last two (unless a build follows: it opens
            # the filter itself), held shut between; a short breakdown splits its length.
            close = min(bar_beats, (end - start) / 2)
            reopen = 0.0 if after in BUILD_KINDS else min(2 * bar_beats, end - start - close)
            for role in swept:
                lanes.append(Automation(role, "lowpass", start, start + close, OPEN_HZ, 3000.0))
                if end - reopen > start + close:
                    lanes.append(Automation(role, "lowpass", start + close, end - reopen, 3000.0, 3000.0))
                if reopen:
                    lanes.append(Automation(role, "lowpass", end - reopen, end, 3000.0, OPEN_HZ))
        elif kind == "outro" and index == len(sections) - 1 and section.bars >= 2:
            lanes.append(Automation("mix", "gain", start + bar_beats, end, 0.0, -6.0))
        if (
            club
            and after in BIG_KINDS
            and kind not in (*BUILD_KINDS, "breakdown")
            and not (kind == "intro" and index == 0)
        ):
            # A lift with no build before it (a verse into a chorus): open over its last bars.
            bars = min(4, max(1, section.bars // 2))
            for role in swept:
                lanes.append(Automation(role, "lowpass", end - bars * bar_beats, end, 700.0, OPEN_HZ))
    return lanes


def markers(
    sections: list[Section], bar_beats: float, drum_notes: list[Note], fx_notes: list[Note], fills: list[float]
) -> list[Marker]:
    """Where the transitions land: drops, breakdowns, fills (`fills`: the beats they lead into) and the
    crashes after them, riser peaks, a build's filter fully open."""
    out: list[Marker] = []
    crashes = {round(n.start, 2) for n in drum_notes if n.pitch == CRASH}
    for index, section in enumerate(sections):
        beat = section.start_bar * bar_beats
        kind = section_kind(section.name)
        if index and kind in BIG_KINDS:
            out.append(Marker(beat, "drop", index))
        if kind == "breakdown":
            out.append(Marker(beat, "breakdown", index))
        if any(abs(beat - f) < 1e-6 for f in fills):
            out.append(Marker(beat, "fill", index))
        if index and round(beat, 2) in crashes:
            out.append(Marker(beat, "crash", index))
        if index and kind in BIG_KINDS and any(abs(n.start + n.duration - 0.25 - beat) < 0.05 for n in fx_notes):
            out.append(Marker(beat, "riser", index))
        if kind in BUILD_KINDS and index + 1 < len(sections):
            out.append(Marker((section.start_bar + section.bars) * bar_beats, "filter_open", index + 1))
    return sorted(out, key=lambda m: (m.beat, m.kind))
