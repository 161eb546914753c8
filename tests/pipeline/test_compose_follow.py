"""The composer follows a given song form and chord progression (as a reference track lends them),
unless the prompt says otherwise. Fast: composes only."""

from __future__ import annotations

import pytest

from pipeline.compose import compose
from pipeline.compose.structure import FormSection, fit_form
from pipeline.compose.theory import Scale, parse_chord_name
from pipeline.defaults import resolve
from pipeline.errors import BadInput
from pipeline.score import RELEASE_TAIL_S, Arrangement
from pipeline.spec import Spec

FORM = [
    {"name": "intro", "bars": 4, "energy": 0.2},
    {"name": "verse", "bars": 8, "energy": 0.5},
    {"name": "chorus", "bars": 8, "energy": 0.9},
    {"name": "breakdown", "bars": 4, "energy": 0.35},
    {"name": "chorus", "bars": 8, "energy": 0.8},
    {"name": "outro", "bars": 4, "energy": 0.25},
]
PROGRESSION = ["A:min", "F:maj", "C:maj", "G:maj", "D:min7", "E:7"]


def _spec(genre: str = "pop", **fields) -> Spec:
    data = {"genres": [genre], "key": "A minor", "tempo_bpm": 120, "seed": 4}
    for name, value in fields.items():
        data[name] = {"value": value, "source": "reference"} if name in ("form", "progression") else value
    return resolve(Spec.from_dict(data))


def _ranks(values: list[float]) -> list[int]:
    return sorted(range(len(values)), key=lambda i: values[i])


@pytest.mark.parametrize("genre", ["pop", "house", "jazz", "ambient"])
def test_a_form_sets_the_sections_their_bars_and_their_energy_order(genre: str) -> None:
    spec = _spec(genre, form=FORM)
    arr = compose(spec)
    assert [(s.name, s.bars) for s in arr.sections] == [(f["name"], f["bars"]) for f in FORM]
    assert _ranks([s.energy for s in arr.sections]) == _ranks([f["energy"] for f in FORM])
    # No length was asked: the piece is the form's length, and the spec says so (QA checks it).
    assert arr.bars == 36
    assert spec.duration_s.source == "reference"
    assert abs(arr.duration_s + RELEASE_TAIL_S - spec.duration_s.value) < 1e-6


def test_an_asked_length_fits_the_form_to_it_on_bar_lines() -> None:
    spec = _spec(form=FORM, duration_s=37.0)  # 18 bars of 2 s, plus the release tail
    arr = compose(spec)
    assert arr.bars == 18 and spec.duration_s.value == 37.0
    assert [s.name for s in arr.sections] == [f["name"] for f in FORM]
    assert [s.bars for s in arr.sections] == [2, 4, 4, 2, 4, 2]  # half of every section
    assert any("fitted to the asked length (18 bars)" in note for note in spec.notes)


def test_the_prompts_sections_win_over_a_form() -> None:
    spec = _spec(form=FORM, sections=["intro", "drop", "outro"], duration_s=41.0)
    assert [s.name for s in compose(spec).sections] == ["intro", "drop", "outro"]


def test_fit_form_keeps_proportions_and_every_section() -> None:
    form = [FormSection("intro", 8, 0.3), FormSection("drop", 16, 1.0), FormSection("outro", 8, 0.3)]
    assert [s.bars for s in fit_form(form, 32)] == [8, 16, 8]
    assert [s.bars for s in fit_form(form, 13)] == [3, 7, 3]
    assert sum(s.bars for s in fit_form(form, 50)) == 50
    assert [s.bars for s in fit_form(form, 2)] == [1, 1]


def _chord_of_bar(arr: Arrangement, bar: int, chords) -> object:
    section = next(s for s in arr.sections if s.start_bar <= bar < s.start_bar + s.bars)
    return chords[(bar - section.start_bar) % len(chords)]  # looped, restarting with each section


@pytest.mark.parametrize("genre", ["pop", "lofi-hiphop", "synthwave", "rock", "jazz", "cinematic", "ambient"])
def test_a_progression_is_the_harmony_of_every_bar(genre: str) -> None:
    arr = compose(_spec(genre, progression=PROGRESSION, form=FORM))
    chords = [parse_chord_name(c, Scale(9, "minor")) for c in PROGRESSION]
    bar_beats = arr.quarter_beats_per_bar
    sounded = set()
    for track in arr.tracks:
        if track.role not in ("harmony", "pad", "bass"):
            continue
        for note in track.notes:
            bar = int((note.start + 0.1) // bar_beats)  # humanised notes may land just before the bar line
            if bar >= arr.bars - 1:
                continue  # the last bar closes on the tonic
            chord = _chord_of_bar(arr, bar, chords)
            on_the_one = abs(note.start - bar * bar_beats) < 0.1
            if track.role != "bass" or on_the_one:  # walking lines pass through other notes between chords
                assert note.pitch % 12 in chord.pcs, (genre, track.role, bar, chord.symbol, note)
            if track.role == "bass" and on_the_one:
                assert note.pitch % 12 == chord.root_pc, (genre, bar, chord.symbol, note)
            sounded.add(bar)
    assert len(sounded) >= arr.bars - 2  # (nearly) every bar has harmony to check
    # The key is still established: the piece ends on the tonic, in the bass and the chord.
    assert arr.chords[-1][1][0] % 12 == 9
    bass = arr.track("bass")
    assert max(bass.notes, key=lambda n: n.start).pitch % 12 == 9


def test_the_same_seed_follows_the_same_way() -> None:
    a = compose(_spec("house", progression=PROGRESSION, form=FORM))
    b = compose(_spec("house", progression=PROGRESSION, form=FORM))
    assert a == b


@pytest.mark.parametrize(
    "name,pcs",
    [
        ("A:min", (9, 0, 4)),
        ("Am", (9, 0, 4)),
        ("f#:maj7", (6, 10, 1, 5)),
        ("Bb:7", (10, 2, 5, 8)),
        ("Db:min7", (1, 4, 8, 11)),
        ("D:sus4", (2, 7, 9)),
        ("G:sus2", (7, 9, 2)),
        ("B:dim", (11, 2, 5)),
        ("C:aug", (0, 4, 8)),
        ("C:maj/3", (0, 4, 7)),
        ("E:min9", (4, 7, 11)),  # an unknown quality: the triad its third names
        ("E:hdim7", (4, 7, 11)),
        ("E:11", (4, 8, 11)),
    ],
)
def test_chord_names_are_read_robustly(name: str, pcs: tuple[int, ...]) -> None:
    assert parse_chord_name(name, Scale(9, "minor")).pcs == pcs


@pytest.mark.parametrize("bad", ["H:maj", "", "7:min", ":maj"])
def test_a_bad_chord_name_is_a_clear_error(bad: str) -> None:
    with pytest.raises(BadInput, match=r"chord progression: chord 2, .*ROOT:QUALITY.*roots are C, C#"):
        compose(_spec(progression=["A:min", bad, "C:maj"]))


@pytest.mark.parametrize(
    "form,reason",
    [
        ([{"name": "intro", "bars": 0}], "whole number of bars"),
        ([{"name": "intro", "bars": 2.5}], "whole number of bars"),
        ([{"bars": 8}], "has no name"),
        ([{"name": "drop", "bars": 8, "energy": 3}], "energy between 0 and 1"),
        ([], "no sections"),
    ],
)
def test_a_bad_form_is_a_clear_error(form, reason: str) -> None:
    with pytest.raises(BadInput, match=f"song form: .*{reason}"):
        compose(_spec(form=form))
