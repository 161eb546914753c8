"""The deterministic extractors, over many phrasings (table-driven)."""

from __future__ import annotations

import pytest

from pipeline.understanding.extractors import (
    extract_duration,
    extract_key,
    extract_tempo,
    extract_time_signature,
    numberise,
)


def _value(found):
    return None if found is None else found.value


@pytest.mark.parametrize(
    ("text", "bpm"),
    [
        ("dark synthwave at 140 BPM", 140),
        ("tempo 90, chill", 90),
        ("around 120bpm please", 120),
        ("house @ 128", 128),
        ("♩=100 march", 100),
        ("ninety bpm reggae", 90),
        ("something 120ish", 120),
        ("90-100 bpm", 95),
        ("between 90 and 100 bpm", 95),
        ("140-150 bpm rave", 145),
        ("half-time feel at 140", 140),
        ("dnb 174 liquid", 174),
        ("trance track 138, euphoric", 138),
        ("tempo around a hundred and twenty", 120),
        ("bpm=145; key=F minor", 145),
        ("BPM: 124", 124),
        ("tempo ~ 150", 150),
        ("5 BPM", 5),
        ("1000 BPM", 1000),
        ("~85bpm lofi", 85),
        ("90s boom bap", None),
        ("2 minutes of ambient", None),
        ("trap with 808s", None),
        ("in 6/8", None),
        ("", None),
    ],
)
def test_tempo(text: str, bpm: float | None) -> None:
    assert _value(extract_tempo(numberise(text))) == bpm


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("in A minor", "A minor"),
        ("Am", "A minor"),
        ("A min groove", "A minor"),
        ("a minor ballad", "A minor"),
        ("in F#", "F# major"),
        ("Eb major", "Eb major"),
        ("E flat major", "Eb major"),
        ("D dorian", "D dorian"),
        ("F#m trap", "F# minor"),
        ("Gm", "G minor"),
        ("Db major", "C# major"),
        ("A# minor", "Bb minor"),
        ("Bbm, 70 bpm", "Bb minor"),
        ("blues in A, 12 bar", "A major"),
        ("C lydian drone", "C lydian"),
        ("E mixolydian funk", "E mixolydian"),
        ("A aeolian", "A minor"),
        ("key of C#", "C# major"),
        ("Key: Gm", "G minor"),
        ("drop D riffs", None),
        ("I am happy", None),
        ("made in Berlin", None),
        ("", None),
    ],
)
def test_key(text: str, key: str | None) -> None:
    assert _value(extract_key(numberise(text))) == key


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2 minutes", 120),
        ("90 sec", 90),
        ("1:30", 90),
        ("two and a half minutes", 150),
        ("2 and a half min", 150),
        ("6 min pls", 360),
        ("2-3 minutes", 150),
        ("make it like 2 minutes 30 seconds", 150),
        ("about ninety seconds", 90),
        ("Length: 3:00", 180),
        ("duration=90s", 90),
        ("15 seconds intro", 15),
        ("under two minutes... like 1:45", 105),
        ("a minute and a half", 90),
        ("2 hours", 7200),
        ("kinda 80s", None),
        ("1920s speakeasy", None),
        ("hard 808s", None),
        ("short loop", None),
    ],
)
def test_duration(text: str, seconds: float | None) -> None:
    assert _value(extract_duration(numberise(text))) == seconds


@pytest.mark.parametrize(
    ("text", "meter"),
    [
        ("in 6/8", "6/8"),
        ("a waltz for a snowy evening", "3/4"),
        ("common time", "4/4"),
        ("7/8 groove", "7/8"),
        ("odd 5/4 prog", "5/4"),
        ("3/4 waltz feel", "3/4"),
        ("straight beat", None),
    ],
)
def test_time_signature(text: str, meter: str | None) -> None:
    assert _value(extract_time_signature(text)) == meter


def test_unsupported_meter_gives_a_note_not_a_value() -> None:
    found = extract_time_signature("in 9/8 please")
    assert found is not None and found.value is None and "9/8" in found.note
