"""MIDI export: a Type-1 file whose tempo, meter, key, programs, channels and note times read back exactly."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from pipeline.compose import compose
from pipeline.defaults import resolve
from pipeline.midi import DRUM_CHANNEL, TICKS_PER_BEAT, key_signature, write_midi
from pipeline.score import Arrangement, Note, Section, Track
from pipeline.spec import Spec


def _arrangement(genre: str, tempo: float, meter: str, key: str) -> Arrangement:
    spec = resolve(
        Spec.from_dict(
            {"genres": [genre], "tempo_bpm": tempo, "time_signature": meter, "key": key, "duration_s": 45, "seed": 4}
        )
    )
    return compose(spec)


def _notes(track: mido.MidiTrack) -> list[tuple[int, int, int, int, int]]:
    """(start tick, end tick, pitch, velocity, channel) per note, pairing note-ons with note-offs."""
    now, open_notes, out = 0, {}, []
    for msg in track:
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            open_notes[(msg.channel, msg.note)] = (now, msg.velocity)
        elif msg.type in ("note_off", "note_on"):
            start, velocity = open_notes.pop((msg.channel, msg.note))
            out.append((start, now, msg.note, velocity, msg.channel))
    assert not open_notes, "every note is closed"
    return sorted(out)


@pytest.mark.parametrize(
    "genre,tempo,meter,key",
    [
        ("synthwave", 140, "4/4", "A minor"),
        ("jazz", 97.5, "3/4", "Eb major"),
        ("folk", 100, "6/8", "D dorian"),
        ("techno", 128, "7/8", "F# phrygian"),
        ("rock", 121, "5/4", "G mixolydian"),
    ],
)
def test_round_trip(tmp_path: Path, genre: str, tempo: float, meter: str, key: str) -> None:
    arr = _arrangement(genre, tempo, meter, key)
    path = tmp_path / "song.mid"
    write_midi(arr, path)
    midi = mido.MidiFile(str(path))
    assert midi.type == 1 and midi.ticks_per_beat == TICKS_PER_BEAT
    assert len(midi.tracks) == 1 + len(arr.tracks)

    meta = {m.type: m for m in midi.tracks[0] if m.is_meta}
    assert mido.tempo2bpm(meta["set_tempo"].tempo) == pytest.approx(tempo, abs=1e-3)
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (arr.beats_per_bar, arr.beat_unit)
    assert meta["key_signature"].key == key_signature(arr.key_tonic_pc, arr.mode)
    markers = [m.text for m in midi.tracks[0] if m.type == "marker"]
    assert markers == [s.name for s in arr.sections]

    for track, midi_track in zip(arr.tracks, midi.tracks[1:]):
        programs = [m for m in midi_track if m.type == "program_change"]
        assert programs and programs[0].program == track.program
        read = _notes(midi_track)
        assert len(read) == len(track.notes)
        expected = sorted(
            (round(n.start * TICKS_PER_BEAT), round((n.start + n.duration) * TICKS_PER_BEAT), n.pitch, n.velocity)
            for n in track.notes
        )
        assert [r[:4] for r in read] == expected  # exact: the composer writes whole ticks
        channels = {r[4] for r in read}
        assert channels == ({DRUM_CHANNEL} if track.is_drum else channels - {DRUM_CHANNEL})
        assert len(channels) == 1
    # The file lasts exactly the arrangement (the conductor track runs to the last bar line).
    assert midi.length == pytest.approx(arr.duration_s, abs=0.01)


def test_times_are_exact_in_beats(tmp_path: Path) -> None:
    arr = Arrangement(
        tempo_bpm=120.0,
        beats_per_bar=4,
        beat_unit=4,
        key_tonic_pc=0,
        mode="major",
        bars=1,
        sections=[Section("main", 0, 1, 0.5)],
        seed=1,
        genre="pop",
        tracks=[
            Track(
                "lead", "piano", 0, notes=[Note(0.0, 1.0, 60, 100), Note(1.0 / 3, 0.5, 64, 90), Note(2.0, 2.0, 67, 80)]
            ),
            Track("drums", "drums", 0, is_drum=True, notes=[Note(0.0, 0.1, 36, 110)]),
        ],
    )
    path = tmp_path / "tiny.mid"
    write_midi(arr, path)
    midi = mido.MidiFile(str(path))
    lead = _notes(midi.tracks[1])
    assert lead[0][:3] == (0, 960, 60)
    assert lead[1][:3] == (320, 800, 64)  # a triplet lands on its exact tick
    assert lead[2][:3] == (1920, 3840, 67)
    assert _notes(midi.tracks[2])[0][4] == DRUM_CHANNEL  # drums on channel 10


def test_same_pitch_repeats_close_before_they_reopen(tmp_path: Path) -> None:
    arr = Arrangement(
        tempo_bpm=100.0,
        beats_per_bar=4,
        beat_unit=4,
        key_tonic_pc=0,
        mode="major",
        bars=1,
        sections=[Section("main", 0, 1, 0.5)],
        seed=1,
        genre="pop",
        tracks=[Track("bass", "bass", 33, notes=[Note(0.0, 1.0, 36, 100), Note(1.0, 1.0, 36, 100)])],
    )
    path = tmp_path / "repeat.mid"
    write_midi(arr, path)
    read = _notes(mido.MidiFile(str(path)).tracks[1])
    assert [(s, e) for s, e, *_ in read] == [(0, 960), (960, 1920)]


@pytest.mark.parametrize(
    "tonic_pc,mode,expected",
    [
        (9, "minor", "Am"),
        (3, "major", "Eb"),
        (2, "dorian", "Am"),
        (7, "mixolydian", "C"),
        (6, "minor", "F#m"),
        (4, "phrygian", "Am"),
        (5, "lydian", "C"),
        (1, "major", "Db"),
    ],
)
def test_key_signature_uses_the_parent_scale(tonic_pc: int, mode: str, expected: str) -> None:
    assert key_signature(tonic_pc, mode) == expected
