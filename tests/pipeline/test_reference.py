"""Reference analysis: files read or refused, tempo people can trust, chords, form, character, and the spec.

Every reference is made here with its truth known (tests/pipeline/reference_fixtures.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from pipeline.errors import BadReference
from pipeline.qa.loudness import integrated_lufs
from pipeline.qa.tempo import to_analysis_mono
from pipeline.reference import analyse_audio, analyse_reference, apply_reference, wants_alignment, wants_match
from pipeline.reference.beats import beat_grid
from pipeline.reference.chords import transpose
from pipeline.spec import Spec
from tests.pipeline import reference_fixtures as F

SR = F.SR


def _write(path, audio, fmt):
    from pedalboard.io import AudioFile

    if fmt in ("wav", "flac"):
        soundfile.write(path, audio.T, SR, subtype="PCM_16")
    else:
        with AudioFile(str(path), "w", samplerate=SR, num_channels=2, quality=192) as f:
            f.write(audio)
    return path


@pytest.fixture(scope="module")
def loop_reference():
    """A minor i–VI–iv–v loop at 100 BPM over a rock groove, 12 bars."""
    return F.chord_loop("A", "minor", (1, 6, 4, 5), 100, 12, drums_feel="rock", style="stabs")


@pytest.fixture(scope="module")
def loop_analysis(loop_reference):
    audio, _ = loop_reference
    return analyse_audio(audio, SR)


# ----- files -----
@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_each_format_reads_with_its_tempo_key_and_length(tmp_path, loop_reference, fmt):
    audio, truth = loop_reference
    ref = analyse_reference(_write(tmp_path / f"ref.{fmt}", audio, fmt))
    assert abs(ref.tempo_bpm - 100) / 100 <= 0.02 and ref.grid.steady
    assert ref.key == "A minor"
    assert abs(ref.duration_s - audio.shape[1] / SR) < 0.1
    assert abs(ref.character.loudness_lufs - integrated_lufs(audio, SR)) < 0.5


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("nope.wav", None, "does not exist"),
        ("empty.mp3", lambda p: p.write_bytes(b""), "empty"),
        ("notes.wav", lambda p: p.write_text("this is a text file, not a song\n" * 50), "not audio"),
        ("bad.ogg", lambda p: p.write_bytes(b"OggS" + bytes(range(256)) * 4), "not audio"),
    ],
)
def test_unreadable_files_get_a_message_naming_them(tmp_path, name, make, message):
    path = tmp_path / name
    if make:
        make(path)
    with pytest.raises(BadReference, match=message) as caught:
        analyse_reference(path)
    assert name in caught.value.user_message and "Traceback" not in caught.value.user_message


def test_a_directory_is_not_a_reference(tmp_path):
    with pytest.raises(BadReference, match="not a file"):
        analyse_reference(tmp_path)


def test_over_the_caps_is_refused(tmp_path, loop_reference):
    path = _write(tmp_path / "long.wav", loop_reference[0], "wav")
    with pytest.raises(BadReference, match="too long"):
        analyse_reference(path, max_seconds=10)
    with pytest.raises(BadReference, match="too large"):
        analyse_reference(path, max_bytes=1000)


# ----- what kind of sound: the job runs on the prompt when the reference adds nothing -----
@pytest.mark.parametrize(
    ("verdict", "audio"),
    [
        ("silent", np.zeros((2, SR * 6), np.float32)),
        ("too short", F.groove(120, 3.0)[0][:, : int(3.0 * SR)]),
        ("noise", F.white_noise(8)),
        ("speech", F.speech_like(10)),
    ],
)
def test_a_reference_that_adds_nothing_says_why_and_leaves_the_spec_to_the_prompt(verdict, audio):
    ref = analyse_audio(audio, SR, name="ref.wav")
    assert ref.verdict == verdict and not ref.usable
    spec, use = apply_reference(Spec.from_dict({"genres": ["house"]}), ref)
    assert spec.tempo_bpm is None and spec.key is None and spec.form is None and spec.progression is None
    assert not use.taken and "ref.wav" in use.not_taken["anything"]
    assert any("made from the prompt alone" in note for note in spec.notes)


# ----- tempo -----
@pytest.mark.parametrize(
    ("feel", "bpm"),
    [("swing", 96), ("funk", 108), ("rock", 128), ("four", 124), ("bossa", 100), ("halftime", 140), ("funk", 150)],
)
def test_a_steady_groove_is_taken_at_its_tempo_in_any_feel(feel, bpm):
    audio, _ = F.groove(bpm, 14, feel, seed=bpm)
    grid = beat_grid(to_analysis_mono(audio, SR))
    assert grid.steady, grid.reason
    assert grid.confidence >= 0.8
    exact = abs(grid.bpm / bpm - 1) <= 0.02
    relative = any(abs(grid.bpm / (bpm * r) - 1) <= 0.02 for r in (0.5, 2.0))
    assert exact or (relative and any(abs(a / bpm - 1) <= 0.02 for a in grid.alternatives)), (
        grid.bpm,
        grid.alternatives,
    )


def test_the_genre_picks_the_metrical_level_and_the_other_reading_is_stated():
    audio, _ = F.groove(174, 14, "halftime", seed=1)
    mono = to_analysis_mono(audio, SR)
    dnb, hiphop = beat_grid(mono, genre="drum-and-bass"), beat_grid(mono, genre="hip-hop")
    assert abs(dnb.bpm - 174) / 174 <= 0.02 and "drum-and-bass" in dnb.level
    assert abs(hiphop.bpm - 87) / 87 <= 0.02 and any(abs(a - 174) < 3 for a in hiphop.alternatives)
    assert "hip-hop" in hiphop.level


@pytest.mark.parametrize("make", [lambda: F.rubato_piano(14), lambda: F.drone(14)], ids=["rubato", "drone"])
def test_rubato_and_drones_lend_no_tempo_but_their_key(make):
    ref = analyse_audio(make(), SR)
    assert ref.usable and not ref.grid.steady and ref.grid.confidence < 0.5
    spec, use = apply_reference(Spec(), ref)
    assert spec.tempo_bpm is None and "no steady beat" in use.not_taken["tempo"]
    assert spec.key is not None and spec.key.source == "reference"
    assert spec.form is None and spec.progression is None


def test_the_downbeat_is_found_after_a_lead_in():
    audio, truth = F.chord_loop("C", "major", (1, 5, 6, 4), 120, 10, drums_feel="rock", style="stabs")
    lead = 0.37
    audio = np.concatenate([np.zeros((2, int(lead * SR)), np.float32), audio], axis=1)
    ref = analyse_audio(audio, SR)
    assert abs(ref.grid.first_downbeat_s - lead) < 0.03
    assert ref.chords[:4] == truth["chords"][:4]


# ----- chords -----
def test_chords_per_bar_of_a_loop(loop_analysis, loop_reference):
    _, truth = loop_reference
    right = np.mean([a == b for a, b in zip(loop_analysis.chords, truth["chords"])])
    assert right >= 0.8
    assert loop_analysis.loop == truth["loop"] and loop_analysis.loop_fit >= 0.9


@pytest.mark.parametrize(
    ("tonic", "mode", "degrees", "bpm", "feel", "style"),
    [("Eb", "major", (1, 4, 5, 1), 90, "swing", "arp"), ("Bb", "major", (2, 5, 1, 6), 108, "bossa", "pad")],
)
def test_chords_in_other_keys_and_textures(tonic, mode, degrees, bpm, feel, style):
    audio, truth = F.chord_loop(tonic, mode, degrees, bpm, 8, drums_feel=feel, style=style)
    ref = analyse_audio(audio, SR)
    right = np.mean([a == b for a, b in zip(ref.chords, truth["chords"])])
    assert right >= 0.8, (ref.chords, truth["chords"])


def test_transposing_keeps_the_degrees():
    loop = ["A:min", "F:maj", "C:maj", "G:maj"]
    assert transpose(loop, "A minor", "D minor") == ["D:min", "Bb:maj", "F:maj", "C:maj"]
    # another mode family: the degrees stay, the new key's qualities and tonic apply
    assert transpose(loop, "A minor", "C major") == ["C:maj", "A:min", "E:min", "B:min"]
    assert transpose(["C#:maj"], "A minor", "D minor") == ["F#:maj"]  # outside the key: moved by the interval


# ----- form -----
@pytest.fixture(scope="module")
def piece():
    audio, truth = F.piece("E", "minor", 140)
    return analyse_audio(audio, SR), truth


def test_section_boundaries_within_one_bar(piece):
    ref, truth = piece
    found = [s.start_bar for s in ref.sections[1:]]
    matched = sum(any(abs(f - t) <= 1 for f in found) for t in truth["boundaries"])
    assert matched / len(truth["boundaries"]) >= 0.8, (found, truth["boundaries"])
    assert sum(s.bars for s in ref.sections) == len(ref.chords)


def test_sections_are_named_by_position_and_energy(piece):
    ref, _ = piece
    names = [s.name for s in ref.sections]
    from pipeline.compose.structure import SECTION_ENERGY

    assert set(names) <= set(SECTION_ENERGY)
    assert names[0] == "intro" and names[-1] == "outro" and "chorus" in names
    loudest = max(ref.sections, key=lambda s: s.energy)
    assert loudest.name == "chorus" and loudest.energy == 1.0


# ----- into the spec -----
def test_the_reference_fills_what_the_prompt_left_unsaid(piece):
    ref, truth = piece
    spec, use = apply_reference(Spec.from_dict({"genres": ["pop"]}), ref)
    assert spec.tempo_bpm.value == pytest.approx(140, rel=0.02) and spec.tempo_bpm.source == "reference"
    assert spec.key.value == "E minor" and spec.key.source == "reference"
    assert spec.form.source == "reference" and [s["name"] for s in spec.form.value][0] == "intro"
    bars = sum(s["bars"] for s in spec.form.value)
    assert spec.duration_s.value == pytest.approx(bars * 240 / spec.tempo_bpm.value, rel=0.02)
    assert spec.progression is not None and all(":" in c for c in spec.progression.value)
    assert spec.tone.source == "reference" and spec.energy.source == "reference"
    assert spec.loudness_lufs.value == -14.0  # only "match the reference" takes its loudness
    assert {"tempo", "key", "form", "chords", "energy", "character"} <= set(use.taken)
    assert any(note.startswith("from the reference:") for note in spec.notes)


def test_the_prompt_wins_and_the_progression_moves_to_its_key(loop_analysis):
    spec = Spec.from_dict({"genres": ["house"], "tempo_bpm": 124, "key": "D minor", "duration_s": 30})
    out, use = apply_reference(spec, loop_analysis)
    assert out.tempo_bpm.value == 124 and out.tempo_bpm.source == "prompt"
    assert out.key.value == "D minor" and "the prompt asks for 124 BPM" in use.not_taken["tempo"]
    assert out.progression.value == ["D:min", "Bb:maj", "G:min", "A:min"]
    assert "moved from A minor to D minor" in use.taken["chords"]


def test_a_drumless_reference_excludes_drums_unless_the_prompt_wants_them():
    audio, _ = F.chord_loop("G", "major", (1, 4, 1, 5), 90, 8, drums_feel=None, style="pad")
    ref = analyse_audio(audio, SR)
    assert not ref.character.drums
    spec, _ = apply_reference(Spec(), ref)
    assert [(e.value, e.source) for e in spec.exclude] == [("drums", "reference")]
    asked, use = apply_reference(Spec.from_dict({"instruments": ["drums"]}), ref)
    assert "drums" not in asked.exclude_values and "prompt asks for drums" in use.not_taken["no drums"]


def test_drums_are_heard_in_a_groove(loop_analysis):
    assert loop_analysis.character.drums


def test_matching_takes_the_reference_loudness_within_limits_and_aligning_takes_the_downbeat(loop_analysis):
    spec = Spec.from_dict({"match_reference": True, "align_to_reference": True})
    out, use = apply_reference(spec, loop_analysis)
    expected = min(-8.0, max(-20.0, loop_analysis.character.loudness_lufs))
    assert out.loudness_lufs.value == pytest.approx(expected, abs=0.06) and out.loudness_lufs.source == "reference"
    assert out.lead_in_s.value == pytest.approx(loop_analysis.grid.first_downbeat_s, abs=1e-3)
    assert "downbeat" in use.taken


@pytest.mark.parametrize(
    ("prompt", "match", "align"),
    [
        ("like this but darker, match the reference", True, False),
        ("master it like the reference track", True, False),
        ("funky, as loud as this", True, False),
        ("line it up with the reference's downbeat", False, True),
        ("like this but darker", False, False),
        ("a matching pair of synth leads", False, False),
    ],
)
def test_prompt_words_for_matching_and_aligning(prompt, match, align):
    assert wants_match(prompt) is match and wants_alignment(prompt) is align
