"""The symbolic composer: exact tempo/meter/length, audible key, determinism, instrumentation,
grooves locked and swung, genres that differ. Fast: composes only, never renders audio."""

from __future__ import annotations

import collections
import functools
import random
import time

import pytest

from pipeline.compose import compose
from pipeline.score import RELEASE_TAIL_S
from pipeline.compose.genres import CLAP, CLOSED_HAT, CRASH, KICK, OPEN_HAT, RIDE, SNARE, profile_for
from pipeline.compose.harmony import plan_chords
from pipeline.compose.rhythm import Grid, swing
from pipeline.compose.structure import plan_sections
from pipeline.compose.theory import MODE_SCALES, Scale, parse_chord
from pipeline.defaults import resolve
from pipeline.render.drums import DRUM_VOICES as RENDER_DRUM_VOICES
from pipeline.render.fonts import KIT_FILES
from pipeline.render.hydrogen import HYDROGEN_KITS
from pipeline.render.stems import VOICES as RENDER_VOICES
from pipeline.errors import BadInput
from pipeline.score import Arrangement
from pipeline.spec import Spec
from pipeline.styles import ROLES, STYLES
from pipeline.vocabulary import GENRES, INSTRUMENTS

# Every voice the renderer plays: its built-in voices, the SoundFont and the sampled kits (SF2, Hydrogen).
VOICES = {"sf2", *RENDER_VOICES, *KIT_FILES, *HYDROGEN_KITS}
DRUM_VOICES = {"sf2", *KIT_FILES, *HYDROGEN_KITS, *(cls.name for cls in RENDER_DRUM_VOICES)}
CORE = (
    "lofi-hiphop",
    "synthwave",
    "house",
    "techno",
    "trap",
    "drum-and-bass",
    "ambient",
    "cinematic",
    "pop",
    "rock",
    "jazz",
    "funk",
)
# Per genre: its default tempo in 4/4 A minor, its slowest tempo in a triple meter, its fastest in an odd meter.
VARIANTS = (
    ("lo", "Eb major", "3/4"),
    ("mid", "A minor", "4/4"),
    ("hi", "D dorian", "7/8"),
    ("mid", "F# mixolydian", "6/8"),
    ("lo", "C phrygian", "5/4"),
)


def _tempo(genre: str, which: str) -> float:
    lo, hi = STYLES[genre].tempo_range
    return {"lo": lo, "hi": hi, "mid": STYLES[genre].default_tempo}[which]


def make_spec(
    genre: str,
    *,
    tempo: float | None = None,
    key: str = "A minor",
    meter: str = "4/4",
    duration: float = 75.0,
    seed: int = 11,
    **extra,
) -> Spec:
    data = {"genres": [genre], "key": key, "time_signature": meter, "duration_s": duration, "seed": seed, **extra}
    if tempo is not None:
        data["tempo_bpm"] = tempo
    return resolve(Spec.from_dict(data))


@functools.cache
def composed(genre: str, variant: int) -> tuple[Spec, Arrangement]:
    which, key, meter = VARIANTS[variant]
    spec = make_spec(genre, tempo=_tempo(genre, which), key=key, meter=meter)
    return spec, compose(spec)


MATRIX = [(g, v) for g in GENRES for v in range(3)] + [(g, v) for g in CORE for v in (3, 4)]


def _scale(arr: Arrangement) -> set[int]:
    return {(arr.key_tonic_pc + s) % 12 for s in MODE_SCALES[arr.mode]}


def _pitched(arr: Arrangement):
    return [n for t in arr.tracks if not t.is_drum and t.role != "fx" for n in t.notes]


@pytest.mark.parametrize("genre,variant", MATRIX)
def test_exact_tempo_meter_and_length(genre: str, variant: int) -> None:
    spec, arr = composed(genre, variant)
    assert arr.tempo_bpm == spec.tempo_bpm.value
    assert (arr.beats_per_bar, arr.beat_unit) == spec.meter
    assert arr.bars >= 1
    # The rendered file adds the release tail; bars are counted so that the file is within half a bar.
    assert abs(arr.duration_s + RELEASE_TAIL_S - spec.duration_s.value) <= arr.bar_seconds / 2 + 1e-9
    # Sections tile the piece exactly.
    assert arr.sections[0].start_bar == 0
    for a, b in zip(arr.sections, arr.sections[1:]):
        assert b.start_bar == a.start_bar + a.bars
    assert sum(s.bars for s in arr.sections) == arr.bars
    end = arr.bars * arr.quarter_beats_per_bar
    for track in arr.tracks:
        for note in track.notes:
            assert 0 <= note.start < end and note.duration > 0
            assert note.start + note.duration <= end + 1e-9, (track.role, note)
            assert 1 <= note.velocity <= 127 and 0 <= note.pitch <= 127


@pytest.mark.parametrize("genre,variant", MATRIX)
def test_harmony_stays_in_key(genre: str, variant: int) -> None:
    _, arr = composed(genre, variant)
    notes = _pitched(arr)
    inside = sum(n.pitch % 12 in _scale(arr) for n in notes) / len(notes)
    # Leading tones on dominants and chromatic approach notes are allowed, but the key must dominate.
    assert inside >= 0.8, f"{genre}: only {inside:.0%} of notes in {arr.mode} scale"


@pytest.mark.parametrize("genre,variant", MATRIX)
def test_tonic_carries_the_bass(genre: str, variant: int) -> None:
    _, arr = composed(genre, variant)
    bass = arr.track("bass")
    assert bass is not None
    weight = collections.Counter()
    for note in bass.notes:
        weight[note.pitch % 12] += note.duration
    ranked = [pc for pc, _ in weight.most_common()]
    if profile_for(genre).bass == "walking":
        assert arr.key_tonic_pc in ranked[:2]  # a walking line spreads its weight; the tonic stays near the top
    else:
        assert ranked[0] == arr.key_tonic_pc, f"{genre}: bass weights {weight.most_common(3)}"
    # The piece ends at home: last bass note and last chord on the tonic.
    assert max(bass.notes, key=lambda n: n.start).pitch % 12 == arr.key_tonic_pc
    assert arr.chords[-1][1][0] % 12 == arr.key_tonic_pc


@pytest.mark.parametrize("genre", GENRES)
def test_sections_end_with_cadences_and_start_at_home(genre: str) -> None:
    profile = profile_for(genre)
    for key in ("A minor", "C major", "D dorian"):
        tonic, mode = key.split()
        scale = Scale(("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B").index(tonic), mode)
        sections = plan_sections(profile, 64, 0.6)
        slots = plan_chords(sections, profile, scale, 4.0, random.Random(1))
        for i, section in enumerate(sections):
            mine = [s for s in slots if s.section == i]
            closing = mine[-1]
            if i == len(sections) - 1:
                assert closing.final and closing.chord.degree == 0
            elif len(mine) > 1:
                assert closing.cadence and closing.chord.degree in (4, 6, 1), (genre, key, section.name, closing)
                if closing.chord.degree == 4 and mode != "mixolydian":
                    assert scale.leading_tone_pc in closing.chord.pcs  # V has its leading tone
                if closing.chord.degree in (1, 6):
                    assert closing.bass_pc == scale.tonic_pc  # modal cadences ride a tonic pedal
        first = next(s for s in slots if s.section == 0)
        assert first.chord.degree == 0 and first.bass_pc == scale.tonic_pc


def test_same_seed_same_arrangement_other_seed_differs() -> None:
    a = compose(make_spec("lofi-hiphop", seed=5))
    b = compose(make_spec("lofi-hiphop", seed=5))
    c = compose(make_spec("lofi-hiphop", seed=6))
    assert a == b
    assert [t.notes for t in a.tracks] != [t.notes for t in c.tracks]


def test_composing_leaves_global_random_alone() -> None:
    random.seed(123)
    expected = random.random()
    random.seed(123)
    compose(make_spec("techno"))
    assert random.random() == expected


@pytest.mark.parametrize("genre", GENRES)
def test_tracks_are_well_formed(genre: str) -> None:
    _, arr = composed(genre, 1)
    roles = [t.role for t in arr.tracks]
    assert len(roles) == len(set(roles)) and set(roles) <= set(ROLES)
    for track in arr.tracks:
        assert track.notes, f"{genre}: {track.role} is silent"
        assert track.voice in VOICES
        assert 0 <= track.program <= 127 and -1 <= track.pan <= 1
        assert track.instrument != "vocals"
        assert track.instrument in INSTRUMENTS or track.instrument == "fx"
        assert track.is_drum == (track.role == "drums")
    drums = arr.track("drums")
    if STYLES[genre].drum_kit == "none":
        assert drums is None
    else:
        assert drums is not None and drums.voice in DRUM_VOICES


@pytest.mark.parametrize(
    "genre,excluded",
    [
        ("lofi-hiphop", "drums"),
        ("lofi-hiphop", "piano"),
        ("house", "piano"),
        ("jazz", "saxophone"),
        ("rock", "electric-guitar"),
        ("cinematic", "strings"),
        ("trap", "synth-bass"),
        ("pop", "bass"),
    ],
)
def test_excluded_instruments_are_never_played(genre: str, excluded: str) -> None:
    arr = compose(make_spec(genre, exclude=[excluded]))
    assert excluded not in {t.instrument for t in arr.tracks}
    if excluded == "drums":
        assert arr.track("drums") is None
    elif excluded == "bass":
        assert arr.track("bass") is None  # "no bass" means no bass line
    else:
        # A stand-in takes the part: the role still plays.
        default_roles = {r for r, i in STYLES[genre].band.items() if i == excluded}
        assert default_roles <= {t.role for t in arr.tracks}


def test_excluding_every_instrument_is_a_clear_error() -> None:
    with pytest.raises(BadInput, match="excluded"):
        compose(make_spec("ambient", exclude=list(INSTRUMENTS)))


@pytest.mark.parametrize(
    "genre,instrument,role",
    [
        ("lofi-hiphop", "strings", "pad"),
        ("synthwave", "saxophone", "lead"),
        ("ambient", "piano", "harmony"),
        ("house", "organ", "pad"),
        ("ambient", "drums", "drums"),
    ],
)
def test_requested_instruments_join_the_band(genre: str, instrument: str, role: str) -> None:
    spec = make_spec(genre, instruments=[instrument, "vocals"])
    arr = compose(spec)
    track = arr.track(role)
    assert track is not None and track.instrument == instrument and track.notes
    assert "vocals" not in {t.instrument for t in arr.tracks}


LOCKED = ("lofi-hiphop", "hip-hop", "trap", "pop", "rnb", "drum-and-bass")


def _onsets(track, arr: Arrangement, keys=None) -> list[float]:
    return [n.start for n in track.notes if keys is None or n.pitch in keys]


@pytest.mark.parametrize("genre", LOCKED)
def test_bass_locks_to_the_kick(genre: str) -> None:
    arr = compose(make_spec(genre, duration=60))
    kicks = sorted(_onsets(arr.track("drums"), arr, {KICK}))
    drummed = [(s.start_bar * 4.0, (s.start_bar + s.bars) * 4.0) for s in arr.sections]
    bass = [
        b
        for b in _onsets(arr.track("bass"), arr)
        if any(a <= b < e for a, e in drummed) and kicks[0] - 0.1 <= b <= kicks[-1] + 0.1
    ]
    together = sum(any(abs(b - k) <= 0.08 for k in kicks) for b in bass)
    assert together / len(bass) >= 0.75, f"{genre}: only {together}/{len(bass)} bass notes on kicks"


def _offbeat_delays(arr: Arrangement, unit: float, keys) -> list[float]:
    """How late off-beat hits of the swung unit land, relative to the straight grid."""
    delays = []
    for note in arr.track("drums").notes:
        if note.pitch not in keys:
            continue
        phase = note.start / unit - int(note.start / unit)
        # Off-beats of the swung unit only (finer notes between them are not swung).
        if int(note.start / unit) % 2 == 1 and phase < 0.4:
            delays.append(phase * unit)
    return delays


@pytest.mark.parametrize("genre", [g for g in GENRES if STYLES[g].swing > 0 and STYLES[g].drum_kit != "none"])
def test_swing_delays_the_off_beats(genre: str) -> None:
    arr = compose(make_spec(genre, duration=40))
    profile = profile_for(genre)
    delays = _offbeat_delays(arr, profile.swing_unit, {CLOSED_HAT, RIDE, SNARE, OPEN_HAT, KICK, 44})
    assert delays, genre
    expected = STYLES[genre].swing * 2 / 3 * profile.swing_unit
    mean = sum(delays) / len(delays)
    assert mean == pytest.approx(expected, abs=0.35 * expected + 0.01), (genre, mean, expected)


def test_straight_genres_are_not_swung() -> None:
    arr = compose(make_spec("house", duration=40))
    for note in arr.track("drums").notes:
        assert note.start * 4 == pytest.approx(round(note.start * 4), abs=1e-6)  # every hit on the 16th grid


def test_swing_helper() -> None:
    assert swing(0.5, 0.5, 0.5) == pytest.approx(0.5 + 1 / 6)  # full triplet swing of 8ths
    assert swing(1.0, 0.5, 0.5) == 1.0
    assert swing(0.25, 0.0, 0.25) == 0.25


def _drum_signature(arr: Arrangement) -> dict[str, list[float]]:
    """Per drum family: hits per 16th step of the bar, averaged over bars (the groove's fingerprint)."""
    families = {"kick": {KICK, 35}, "snare": {SNARE, CLAP, 37}, "hat": {CLOSED_HAT, OPEN_HAT, RIDE, 44, 53, 82, 54}}
    drums = arr.track("drums")
    out = {}
    for name, keys in families.items():
        hist = [0.0] * 16
        for note in drums.notes if drums else []:
            if note.pitch in keys:
                hist[round((note.start % 4.0) * 4) % 16] += 1
        out[name] = [h / arr.bars for h in hist]
    return out


def test_core_genres_are_measurably_distinct() -> None:
    grooves, bands = {}, {}
    for genre in CORE:
        arr = compose(make_spec(genre, tempo=120, duration=64))
        grooves[genre] = _drum_signature(arr)
        profile = profile_for(genre)
        bands[genre] = (profile.bass, profile.comp, tuple(sorted((t.role, t.instrument, t.voice) for t in arr.tracks)))
    names = list(grooves)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            # L1 distance between the per-step hit histograms of kick, snare and hats (hits per bar).
            distance = sum(abs(x - y) for fam in grooves[a] for x, y in zip(grooves[a][fam], grooves[b][fam]))
            assert distance > 2.0, f"{a} and {b} grooves look alike (distance {distance:.2f})"
    assert len(set(bands.values())) == len(CORE)  # bass line, comping and band differ too


@pytest.mark.parametrize("meter", ["4/4", "3/4", "6/8", "7/8", "5/4"])
def test_grooves_fit_the_meter(meter: str) -> None:
    arr = compose(make_spec("rock", meter=meter, duration=60))
    bar = arr.quarter_beats_per_bar
    drums = arr.track("drums")
    downbeats = {
        round(n.start / bar)
        for n in drums.notes
        if n.pitch == KICK and abs(n.start / bar - round(n.start / bar)) < 0.03
    }
    drummed_bars = {int(n.start // bar) for n in drums.notes}
    assert len(downbeats & drummed_bars) / len(drummed_bars) >= 0.9  # the kick marks the one
    grid = Grid(arr.beats_per_bar, arr.beat_unit)
    assert grid.bar_beats == bar


def test_sections_fills_crashes_and_risers() -> None:
    arr = compose(make_spec("house", duration=180))
    kinds = [s.name for s in arr.sections]
    assert {"intro", "drop", "outro"} <= set(kinds)
    assert max(s.energy for s in arr.sections) > min(s.energy for s in arr.sections) + 0.3  # an energy curve
    drums = arr.track("drums")
    for section in arr.sections[1:]:
        start, end = section.start_bar * 4.0, (section.start_bar + section.bars) * 4.0
        if not any(start <= n.start < end for n in drums.notes):
            continue  # the drums rest here (breakdown)
        assert any(n.pitch == CRASH and abs(n.start - start) < 0.05 for n in drums.notes), section.name
    fx = arr.track("fx")
    drops = [s.start_bar * 4.0 for s in arr.sections if s.name == "drop"]
    assert fx is not None and len(fx.notes) == len(drops)
    for note, drop in zip(fx.notes, drops):
        assert note.start < drop <= note.start + note.duration  # the riser swells into the drop
    # A breakdown drops the drums; the lead and pad carry it.
    breakdown = next(s for s in arr.sections if s.name == "breakdown")
    a, b = breakdown.start_bar * 4.0, (breakdown.start_bar + breakdown.bars) * 4.0
    assert not [n for n in drums.notes if a <= n.start < b - 4.0]


def test_requested_sections_are_honoured() -> None:
    arr = compose(make_spec("pop", duration=90, sections=["intro", "verse", "chorus", "bridge", "chorus", "outro"]))
    assert [s.name for s in arr.sections] == ["intro", "verse", "chorus", "bridge", "chorus", "outro"]


def test_short_pieces_are_intro_main_outro() -> None:
    arr = compose(make_spec("pop", tempo=120, duration=11))
    assert arr.bars == 5
    assert [s.name for s in arr.sections] == ["intro", "main", "outro"]


@pytest.mark.parametrize(("tempo", "duration"), [(40, 8), (60, 5), (200, 5)])
def test_very_short_slow_pieces_stay_within_one_bar_of_the_asked_length(tempo, duration) -> None:
    arr = compose(make_spec("ambient", tempo=tempo, duration=duration))
    assert abs(arr.duration_s + RELEASE_TAIL_S - duration) <= arr.bar_seconds
    assert sum(s.bars for s in arr.sections) == arr.bars >= 1


def test_energy_scales_density() -> None:
    quiet = compose(make_spec("rock", duration=60, energy=0.1))
    loud = compose(make_spec("rock", duration=60, energy=1.0))
    assert len(loud.track("drums").notes) > len(quiet.track("drums").notes)


def test_chords_are_listed() -> None:
    _, arr = composed("jazz", 1)
    starts = [c[0] for c in arr.chords]
    assert starts == sorted(starts) and starts[0] == 0.0
    assert all(len(p) >= 3 and all(0 <= x <= 127 for x in p) for _, p in arr.chords)


def test_unresolved_spec_is_resolved_first() -> None:
    arr = compose(Spec.from_dict({"genres": ["funk"], "seed": 3}))
    assert arr.genre == "funk" and arr.bars >= 4


def test_four_minute_track_composes_fast() -> None:
    spec = make_spec("drum-and-bass", duration=240)
    best = min(_timed(spec) for _ in range(3))
    assert best < 0.5, f"composing 4 minutes took {best:.2f} s"


def _timed(spec: Spec) -> float:
    start = time.perf_counter()
    compose(spec)
    return time.perf_counter() - start


@pytest.mark.parametrize("genre", GENRES)
def test_every_piece_starts_sounding_on_its_first_beat(genre) -> None:
    """QA fails a track with over a second of silence at the start; the composer never writes one."""
    for seed in range(12):
        arr = compose(make_spec(genre, tempo=60, duration=20, seed=seed))
        first = min(n.start for t in arr.tracks for n in t.notes)
        assert first * arr.seconds_per_beat <= 0.5, (seed, first)


@pytest.mark.parametrize("mode", ["dorian", "mixolydian", "phrygian", "major"])
def test_only_minor_keys_raise_the_leading_tone(mode: str) -> None:
    """An upper-case V is diatonic outside minor: a C# in D dorian is heard as D major."""
    scale = Scale(2, mode)  # D
    for symbol in ("V", "V7", "v"):
        assert set(parse_chord(symbol, scale).pcs) <= scale.pitch_classes, (mode, symbol)
    assert scale.leading_tone_pc in parse_chord("V", Scale(2, "minor")).pcs  # D minor: A major, C#
