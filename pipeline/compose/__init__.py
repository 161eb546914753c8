"""The symbolic composer: a resolved Spec becomes an Arrangement (the renderer's score).

    arrangement = compose(resolve(spec))

Seeded and deterministic: every part draws from its own `random.Random` derived from the spec's
seed, so the same spec gives the same notes, and changing one part never reshuffles another.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace

from pipeline.compose.arrange import Player, choose_band, fx_player, player_for, plays
from pipeline.compose.bass import bass_part
from pipeline.compose.comping import Voicer, harmony_part, pad_part
from pipeline.compose.context import Context
from pipeline.compose.genres import CLUB_DRUMS, CRASH, KICK, GenreProfile, profile_for
from pipeline.compose.harmony import plan_chords
from pipeline.compose.melody import Motif, lead_part
from pipeline.compose.rhythm import DrumBar, Grid, Humaniser, drum_bar, groove_for
from pipeline.compose.structure import bar_count, fit_form, form_energy, plan_sections, read_form, section_kind
from pipeline.compose.transitions import BUILD_KINDS, automation, markers, risers, shape_dynamics
from pipeline.compose.theory import CHORD_QUALITIES, Chord, Scale, lead_voices, parse_chord_name, place
from pipeline.defaults import resolve
from pipeline.errors import BadInput
from pipeline.score import RELEASE_TAIL_S, Arrangement, Note, Section, Track
from pipeline.spec import Spec
from pipeline.styles import ROLES, style_for
from pipeline.vocabulary import TONICS

TICKS = 960  # every time is a whole number of 1/960 beats, so MIDI files hold them exactly


def compose(spec: Spec) -> Arrangement:
    """Plan the form and the chords, then write each stem's part over them.

    Tempo, meter and key are the spec's exactly; the length is round((duration - release tail) / bar)
    bars (at least one), so the rendered file is within one bar of the asked duration. An unresolved
    spec is resolved first.
    """
    if not spec.is_resolved:
        spec = resolve(spec)
    try:
        key = spec.parsed_key
    except ValueError as exc:
        raise BadInput(f"cannot compose in key {spec.key.value if spec.key else None!r}: {exc}") from exc
    genre = spec.genre
    style, profile = style_for(genre), profile_for(genre)
    numerator, denominator = spec.meter
    grid = Grid(numerator, denominator)
    tempo = float(spec.tempo_bpm.value)
    seed = int(spec.seed.value)
    moods = tuple(spec.mood_values)
    bars = bar_count(float(spec.duration_s.value) - RELEASE_TAIL_S, grid.bar_beats * 60.0 / tempo)
    sections = _sections(spec, profile, bars, moods)
    scale = Scale(key.pitch_class, key.mode)
    progression = _progression(spec, scale)
    slots = plan_chords(sections, profile, scale, grid.bar_beats, _rng(seed, "harmony-plan"), progression)

    def context(part: str) -> Context:
        rng = _rng(seed, part)
        return Context(
            profile=profile,
            scale=scale,
            grid=grid,
            sections=sections,
            slots=slots,
            groove=groove_for(profile, grid),
            tempo_bpm=tempo,
            rng=rng,
            human=Humaniser(rng, profile, tempo, style.swing),
            moods=moods,
        )

    band = choose_band(spec, style, profile)
    tracks: list[Track] = []
    for role in ROLES:
        if role == "fx" or role not in band:
            continue  # the fx stem is written below, from the form alone
        player = player_for(role, band[role], profile)
        notes = _write_part(role, context(role), profile)
        tracks.append(_track(player, notes))
    if profile.risers:
        swells = risers(sections, grid.bar_beats, tempo)
        if swells:
            tracks.append(_track(fx_player(), swells))

    total = bars * grid.bar_beats
    _end_on_tonic(tracks, context("ending"), total)
    for track in tracks:
        track.notes = _tidy(track.notes, total)
    tracks = [t for t in tracks if t.notes]
    drums, fx = next((t.notes for t in tracks if t.is_drum), []), next((t.notes for t in tracks if t.role == "fx"), [])
    fills = [
        s.start_bar * grid.bar_beats for i, s in enumerate(sections) if i and _fills_into(sections, i - 1, profile)
    ]
    if not [t for t in tracks if t.role != "fx"]:
        raise BadInput(
            "every instrument that could play this piece was excluded ("
            + ", ".join(spec.exclude_values)
            + "); allow at least one instrument"
        )
    return Arrangement(
        tempo_bpm=tempo,
        beats_per_bar=numerator,
        beat_unit=denominator,
        key_tonic_pc=key.pitch_class,
        mode=key.mode,
        bars=bars,
        sections=sections,
        tracks=tracks,
        seed=seed,
        genre=genre,
        chords=_chord_listing(context("listing")),
        automation=automation(sections, profile, grid.bar_beats, {t.role for t in tracks}),
        markers=markers(sections, grid.bar_beats, drums, fx, fills if drums else []),
    )


def _sections(spec: Spec, profile: GenreProfile, bars: int, moods: tuple[str, ...]) -> list[Section]:
    """The prompt's sections, else a form to follow (fitted to the length), else the genre's own form."""
    energy = float(spec.energy.value)
    names = list(spec.sections.value) if spec.sections and spec.sections.value else None
    if spec.form is None or (names and spec.sections.source == "prompt"):
        return plan_sections(profile, bars, energy, names, moods)
    try:
        form = fit_form(read_form(spec.form.value), bars)
    except ValueError as exc:
        raise BadInput(f"cannot follow the song form: {exc}") from exc
    sections, start = [], 0
    for part in form:
        sections.append(Section(part.name, start, part.bars, form_energy(part.energy, energy)))
        start += part.bars
    return sections


def _progression(spec: Spec, scale: Scale) -> list[Chord] | None:
    """The spec's chord progression as chords, or None for the genre's own; BadInput names a bad chord."""
    if spec.progression is None or not spec.progression.value:
        return None
    chords = []
    for number, name in enumerate(spec.progression.value, 1):
        try:
            chords.append(parse_chord_name(name, scale))
        except ValueError as exc:
            raise BadInput(
                f"cannot follow the chord progression: chord {number}, {exc}; roots are "
                + ", ".join(TONICS)
                + " and qualities "
                + ", ".join(CHORD_QUALITIES)
            ) from exc
    return chords


def _rng(seed: int, part: str) -> random.Random:
    return random.Random(f"{seed}:{part}")


def _track(player: Player, notes: list[Note]) -> Track:
    return Track(
        role=player.role,
        instrument=player.instrument,
        program=player.program,
        voice=player.voice,
        is_drum=player.is_drum,
        pan=player.pan,
        notes=notes,
    )


def _write_part(role: str, ctx: Context, profile: GenreProfile) -> list[Note]:
    notes: list[Note] = []
    voicer = _voicer(role, profile)
    motifs: dict[str, Motif] = {}
    seen: dict[str, int] = defaultdict(int)
    top = max(s.energy for s in ctx.sections)
    for index, section in enumerate(ctx.sections):
        kind = section_kind(section.name)
        if not plays(role, section.name, section.energy, profile):
            continue
        if role == "drums":
            part = _drum_section(ctx, index, section)
        elif role == "bass":
            part = bass_part(ctx, section)
        elif role == "harmony":
            part = harmony_part(ctx, section, voicer)
        elif role == "pad":
            part = pad_part(ctx, section, voicer)
        else:
            part = lead_part(ctx, section, motifs, seen[kind])
        notes += shape_dynamics(part, section, top, ctx.bar_beats)
        seen[kind] += 1
    return notes


def _voicer(role: str, profile: GenreProfile) -> Voicer:
    size = profile.chord_size
    if role == "pad":
        return Voicer(low=55, high=79, size=min(size, 3) if profile.pad == "swell" else size, center=66, fifthless=True)
    if profile.comp in ("arp", "pulse"):
        return Voicer(low=57, high=79, size=3, center=66)
    if profile.comp == "ostinato":
        return Voicer(low=43, high=67, size=3, center=52)
    return Voicer(low=52, high=76, size=size, center=62 if size == 3 else 60)


def _is_build(section: Section, profile: GenreProfile) -> bool:
    return section_kind(section.name) in BUILD_KINDS and profile.drum_style in CLUB_DRUMS


def _fills_into(sections: list[Section], index: int, profile: GenreProfile) -> bool:
    """Whether the drums close section `index` with a fill into the next one."""
    section = sections[index]
    return (
        index + 1 < len(sections)
        and section.bars >= 2
        and not _is_build(section, profile)
        and plays("drums", section.name, section.energy, profile)
    )


def _drum_section(ctx: Context, index: int, section: Section) -> list[Note]:
    notes: list[Note] = []
    build = _is_build(section, ctx.profile)
    outro = section_kind(section.name) == "outro" and index == len(ctx.sections) - 1
    for bar in range(section.bars):
        last = bar == section.bars - 1
        if outro and section.bars >= 4 and bar >= (section.bars + 1) // 2:
            break  # the beat stops halfway through the outro; the final hit comes with the last chord
        spec = DrumBar(
            start=ctx.bar_start(section, bar),
            index=bar,
            energy=section.energy,
            fill=last and _fills_into(ctx.sections, index, ctx.profile),
            crash=bar == 0 and (index > 0 or section.energy >= 0.6),
            build=build,
            build_progress=bar / max(1, section.bars),
            thin=outro,  # an outro's groove winds down: hats on the beats, no upper layers
        )
        notes += drum_bar(spec, ctx.groove, ctx.profile, ctx.grid, ctx.human, ctx.rng)
    return notes


def _end_on_tonic(tracks: list[Track], ctx: Context, total: float) -> None:
    """The last bar: drums hit once, bass and chords hold the tonic to the end."""
    last_bar = total - ctx.bar_beats
    tonic_slot = ctx.slot_at(last_bar)
    for track in tracks:
        if track.role not in ("drums", "bass", "harmony", "pad"):
            continue
        ending = ctx.bar_start(ctx.sections[-1], 0) if track.role == "drums" else last_bar
        if not any(n.start >= ending - 1e-6 for n in track.notes) and track.role not in ("pad", "bass"):
            continue  # the part is resting in the final section; leave it resting (the bass comes home)
        track.notes = [n for n in track.notes if n.start < last_bar - 1e-6]
        if track.role == "drums":
            kick = KICK if ctx.profile.drum_style != "orchestral" else 35
            track.notes += [Note(last_bar, 1.0, CRASH, 110), Note(last_bar, 0.1, kick, 110)]
        elif track.role == "bass":
            track.notes.append(
                Note(last_bar, ctx.bar_beats, place(ctx.scale.tonic_pc, ctx.profile.bass_octave_low), 100)
            )
        else:
            if not any(n.start >= last_bar - 2 * ctx.bar_beats for n in track.notes):
                continue
            voicing = lead_voices(None, tonic_slot.chord, 55, 76, 3, 64 if track.role == "pad" else 60)
            track.notes += [Note(last_bar, ctx.bar_beats, p, 80) for p in voicing]


def _tidy(notes: list[Note], total: float) -> list[Note]:
    """Quantise to MIDI ticks, keep everything inside the piece, and stop same-pitch overlaps."""
    out: list[Note] = []
    last_end: dict[int, int] = {}
    end_tick = round(total * TICKS)
    for note in sorted(notes, key=lambda n: (n.start, n.pitch)):
        start = max(0, round(note.start * TICKS))
        end = min(end_tick, round((note.start + note.duration) * TICKS))
        if start >= end_tick:
            continue
        if last_end.get(note.pitch, -1) > start and out:
            # Cut the earlier note of the same pitch where this one begins.
            for i in range(len(out) - 1, -1, -1):
                if out[i].pitch == note.pitch:
                    prev_start = round(out[i].start * TICKS)
                    if start - prev_start < TICKS // 64:
                        out.pop(i)  # a doubled hit: keep the later, humanised one
                    else:
                        out[i] = replace(out[i], duration=(start - prev_start) / TICKS)
                    break
        if end - start < 1:
            continue
        out.append(Note(start / TICKS, (end - start) / TICKS, int(note.pitch), int(max(1, min(127, note.velocity)))))
        last_end[note.pitch] = end
    return sorted(out, key=lambda n: (n.start, n.pitch))


def _chord_listing(ctx: Context) -> list[tuple[float, list[int]]]:
    """Each chord as sounded: bass note plus a smoothly led voicing (for QA and inspection)."""
    listing = []
    previous = None
    for slot in ctx.slots:
        previous = lead_voices(previous, slot.chord, 52, 76, len(slot.chord.pcs), 62)
        listing.append((slot.start, [place(slot.bass_pc, 36)] + list(previous)))
    return listing


__all__ = ["compose"]
