"""Arrangements that breathe: sections differ in stems, density and dynamics; transitions are in the
score; genre idioms are played; the lead leaves space. Composes only (fast); the rendered-audio
check of the same property is in test_arrangement_audio.py."""

from __future__ import annotations

import functools
import statistics

import numpy as np
import pytest

from pipeline.compose import compose
from pipeline.compose.contrast import section_profiles
from pipeline.compose.genres import CLOSED_HAT, KICK, OPEN_HAT, SNARE
from pipeline.compose.structure import section_kind
from pipeline.defaults import resolve
from pipeline.score import Arrangement
from pipeline.spec import Spec
from pipeline.vocabulary import GENRES

BIG = ("chorus", "drop", "climax", "head", "solo")


@functools.cache
def piece(genre: str, duration: float = 90.0, seed: int = 5) -> Arrangement:
    return compose(resolve(Spec.from_dict({"genres": [genre], "duration_s": duration, "seed": seed})))


def _big(arr: Arrangement) -> list[int]:
    big = [i for i, s in enumerate(arr.sections) if section_kind(s.name) in BIG]
    top = max(s.energy for s in arr.sections)
    return big or [i for i, s in enumerate(arr.sections) if s.energy >= top - 1e-9]


@pytest.mark.parametrize("genre", GENRES)
@pytest.mark.parametrize("duration", [60.0, 150.0])
def test_quiet_sections_are_thinner_and_softer_than_big_ones(genre: str, duration: float) -> None:
    arr = piece(genre, duration)
    kinds = [section_kind(s.name) for s in arr.sections]
    assert kinds[0] == "intro" and kinds[-1] == "outro" and len(kinds) >= 3, kinds
    profiles = section_profiles(arr)
    big = [profiles[i] for i in _big(arr)]
    quiet = [p for p in profiles if p.kind in ("intro", "breakdown", "outro")]
    fullest = max(len(p.stems) for p in big)
    for p in quiet:
        assert len(p.stems) <= fullest, (genre, p)
        assert p.notes_per_bar < 0.8 * min(b.notes_per_bar for b in big), (genre, p.name, p.notes_per_bar)
        assert p.mean_velocity < min(b.mean_velocity for b in big) - 8, (genre, p.name, p.mean_velocity)
    intro = profiles[0]
    assert len(intro.stems) < fullest, (genre, intro.stems)
    assert intro.drum_hits_per_bar <= min(b.drum_hits_per_bar for b in big), genre


@pytest.mark.parametrize("genre", [g for g in GENRES if g != "ambient"])
def test_the_lead_answers_and_leaves_space(genre: str) -> None:
    arr = piece(genre, 150.0)
    lead = arr.track("lead")
    assert lead is not None
    bar = arr.quarter_beats_per_bar
    sounding = {int((n.start + 0.1) // bar) for n in lead.notes}  # humanised downbeats may come early
    # Outside the full sections the lead leaves whole bars empty between its phrases.
    calm = [
        b
        for s in arr.sections
        if section_kind(s.name) in ("verse", "bridge", "breakdown", "theme", "development", "main")
        for b in range(s.start_bar, s.start_bar + s.bars)
    ]
    if calm:
        resting = [b for b in calm if b not in sounding]
        assert len(resting) >= 0.3 * len(calm), f"{genre}: the lead rests in {len(resting)}/{len(calm)} calm bars"
    # Answers sit in another register: bar-mean pitches spread over more than half an octave.
    means = [statistics.mean(n.pitch for n in lead.notes if int((n.start + 0.1) // bar) == b) for b in sorted(sounding)]
    assert max(means) - min(means) >= 7, (genre, min(means), max(means))


def test_transitions_are_written_into_the_score() -> None:
    arr = piece("house", 180.0)
    kinds = [section_kind(s.name) for s in arr.sections]
    assert "build" in kinds and "drop" in kinds and "breakdown" in kinds
    bar = arr.quarter_beats_per_bar
    for index, section in enumerate(arr.sections):
        start, end = section.start_bar * bar, (section.start_bar + section.bars) * bar
        if section_kind(section.name) == "build":
            opens = [a for a in arr.automation if a.target == "lowpass" and a.start == start and a.end == end]
            assert {a.role for a in opens} >= {"harmony", "pad"}
            assert all(a.begin < 2000 and a.finish >= 18000 and a.value_at(end) >= 18000 for a in opens)
            assert any(m.kind == "filter_open" and m.beat == end for m in arr.markers)
        if section_kind(section.name) == "breakdown":
            # The mixer plays only the lanes: the filter must be held shut by one, not left open between moves.
            for beat in np.arange(start + bar, end - 2 * bar, 0.5):
                held = [a.value_at(beat) for a in arr.automation
                        if a.role == "harmony" and a.target == "lowpass" and a.start <= beat <= a.end]
                assert held and min(held) <= 3000.0, (section, beat)
        if section_kind(section.name) == "drop":
            at = {m.kind for m in arr.markers if m.beat == start}
            assert {"drop", "crash", "riser"} <= at, (section, at)
    fade = [a for a in arr.automation if a.role == "mix" and a.target == "gain"]
    assert len(fade) == 1 and fade[0].finish < -3 and fade[0].end == arr.bars * bar
    fills = [m.beat for m in arr.markers if m.kind == "fill"]
    crashes = {m.beat for m in arr.markers if m.kind == "crash"}
    drums = arr.track("drums").notes
    drummed = {
        s.start_bar * bar for s in arr.sections if any(s.start_bar * bar - 0.1 <= n.start < (s.start_bar + 1) * bar for n in drums)
    }
    assert fills and {f for f in fills if f in drummed} <= crashes  # a fill into a drummed section lands on a crash


def test_the_midi_file_carries_the_transitions(tmp_path) -> None:
    import mido

    from pipeline.midi import write_midi

    arr = piece("house", 180.0)
    write_midi(arr, tmp_path / "song.mid")
    midi = mido.MidiFile(str(tmp_path / "song.mid"))
    cues = [m.text for m in midi.tracks[0] if m.type == "cue_marker"]
    assert cues.count("drop") == sum(section_kind(s.name) == "drop" for s in arr.sections) and "fill" in cues
    pad = next(t for t in midi.tracks if t.name.startswith("pad"))
    brightness = [m.value for m in pad if m.type == "control_change" and m.control == 74]
    assert min(brightness) < 60 and max(brightness) == 127  # the build's filter opens all the way
    expression = [m.value for m in pad if m.type == "control_change" and m.control == 11]
    assert expression[0] == 127 and expression[-1] < 80  # the outro fades


def test_the_outro_thins_out_stops_halfway_and_ends_with_a_final_hit() -> None:
    arr = piece("rock", 150.0)
    outro = arr.sections[-1]
    bar = arr.quarter_beats_per_bar
    drums = arr.track("drums").notes
    def hits(first_bar: int) -> int:
        return sum(1 for n in drums if first_bar * bar <= n.start < (first_bar + 1) * bar)

    per_bar = [hits(outro.start_bar + i) for i in range(outro.bars)]
    half = (outro.bars + 1) // 2
    assert all(per_bar[:half]) and not any(per_bar[half:-1]) and 0 < per_bar[-1] <= 3, per_bar
    before = arr.sections[-2]
    last_full = hits(before.start_bar + before.bars - 2)
    assert per_bar[0] < last_full  # thinner than the groove before it


def _triplet_gaps(notes, key) -> int:
    onsets = sorted(n.start for n in notes if n.pitch == key)
    return sum(1 for a, b in zip(onsets, onsets[1:]) if abs((b - a) - 1 / 6) < 0.01 or abs((b - a) - 1 / 3) < 0.01)


def test_trap_hats_roll_in_triplets_and_32nds() -> None:
    drums = piece("trap", 90.0).track("drums").notes
    onsets = sorted(n.start for n in drums if n.pitch == CLOSED_HAT)
    gaps = {round(b - a, 3) for a, b in zip(onsets, onsets[1:])}
    assert 0.125 in gaps and _triplet_gaps(drums, CLOSED_HAT) >= 4


def test_drum_and_bass_plays_a_two_bar_break() -> None:
    arr = piece("drum-and-bass", 90.0)
    drop = next(s for s in arr.sections if section_kind(s.name) == "drop")
    bar = arr.quarter_beats_per_bar
    def kicks(b: int) -> tuple[int, ...]:
        start = (drop.start_bar + b) * bar
        notes = arr.track("drums").notes
        return tuple(sorted(round((n.start - start) * 4) for n in notes if n.pitch == KICK and start <= n.start < start + bar))
    assert kicks(1) != kicks(2) and kicks(1) == kicks(3)  # the pattern alternates bar by bar


def test_house_builds_open_the_hats() -> None:
    arr = piece("house", 180.0)
    build = next(s for s in arr.sections if section_kind(s.name) == "build")
    bar = arr.quarter_beats_per_bar
    def count(b: int, key: int) -> int:
        start = (build.start_bar + b) * bar
        return sum(1 for n in arr.track("drums").notes if n.pitch == key and start <= n.start < start + bar)
    last = build.bars - 1
    assert count(last, OPEN_HAT) > count(0, OPEN_HAT) >= 4 and count(last, SNARE) > count(0, SNARE)


def test_jazz_bass_plays_in_two_then_walks_for_the_solos() -> None:
    arr = piece("jazz", 200.0)
    kinds = [section_kind(s.name) for s in arr.sections]
    assert "solo" in kinds
    bar = arr.quarter_beats_per_bar
    def per_bar(kind: str) -> float:
        section = next(s for s in arr.sections if section_kind(s.name) == kind)
        a, b = section.start_bar * bar, (section.start_bar + section.bars - 1) * bar
        return sum(1 for n in arr.track("bass").notes if a <= n.start < b) / (section.bars - 1)
    assert per_bar("head") == pytest.approx(2, abs=0.3) and per_bar("solo") == pytest.approx(4, abs=0.3)


def test_ambient_pads_keep_evolving() -> None:
    arr = piece("ambient", 120.0)
    pad = arr.track("pad")
    high = [n for n in pad.notes if n.pitch >= 76]
    assert len({n.pitch for n in high}) >= 3 and len({n.velocity for n in high}) >= 4  # a moving halo line


def test_same_seed_same_arrangement_with_its_transitions() -> None:
    a = compose(resolve(Spec.from_dict({"genres": ["trance"], "duration_s": 120, "seed": 9})))
    b = compose(resolve(Spec.from_dict({"genres": ["trance"], "duration_s": 120, "seed": 9})))
    assert a == b and a.automation and a.markers
