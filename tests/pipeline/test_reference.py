"""Reference analysis: every format reads, the measurements are right, bad files get a message."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from pipeline.errors import BadReference
from pipeline.qa.loudness import integrated_lufs
from pipeline.reference import ReferenceAnalysis, analyse_reference, apply_reference
from pipeline.spec import Sourced, Spec
from tests.pipeline.audio_fixtures import SR, make_spec, song


@pytest.fixture(scope="module")
def reference_audio() -> np.ndarray:
    return song(128, "D", "minor", 12.0) * np.float32(0.5)


def _write(path, audio, fmt):
    from pedalboard.io import AudioFile

    if fmt in ("wav", "flac"):
        soundfile.write(path, audio.T, SR, subtype="PCM_16")
    else:
        with AudioFile(str(path), "w", samplerate=SR, num_channels=2, quality=192) as f:
            f.write(audio)
    return path


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_each_format_round_trips(tmp_path, reference_audio, fmt):
    path = _write(tmp_path / f"ref.{fmt}", reference_audio, fmt)
    ref = analyse_reference(path)
    assert abs(ref.tempo_bpm - 128) / 128 <= 0.02
    assert ref.key == "D minor"
    assert abs(ref.duration_s - 12.0) < 0.1
    assert abs(ref.loudness_lufs - integrated_lufs(reference_audio, SR)) < 0.5
    assert 0.0 <= ref.energy <= 1.0 and ref.brightness_hz > 100


def test_brightness_follows_the_spectrum(tmp_path):
    t = np.arange(SR * 3) / SR
    dark = np.stack([0.3 * np.sin(2 * np.pi * 200 * t)] * 2).astype(np.float32)
    bright = np.stack([0.3 * np.sin(2 * np.pi * 4000 * t)] * 2).astype(np.float32)
    soundfile.write(tmp_path / "d.wav", dark.T, SR)
    soundfile.write(tmp_path / "b.wav", bright.T, SR)
    assert abs(analyse_reference(tmp_path / "d.wav").brightness_hz - 200) < 30
    assert abs(analyse_reference(tmp_path / "b.wav").brightness_hz - 4000) < 100


def test_missing_file(tmp_path):
    with pytest.raises(BadReference, match="does not exist"):
        analyse_reference(tmp_path / "nope.wav")


def test_empty_file(tmp_path):
    (tmp_path / "empty.mp3").write_bytes(b"")
    with pytest.raises(BadReference, match="empty"):
        analyse_reference(tmp_path / "empty.mp3")


def test_not_audio(tmp_path):
    (tmp_path / "notes.wav").write_text("this is a text file, not a song\n" * 50)
    with pytest.raises(BadReference, match="not audio"):
        analyse_reference(tmp_path / "notes.wav")


def test_a_directory(tmp_path):
    with pytest.raises(BadReference, match="not a file"):
        analyse_reference(tmp_path)


def test_silent_file(tmp_path):
    soundfile.write(tmp_path / "silent.wav", np.zeros((SR * 3, 2), np.float32), SR)
    with pytest.raises(BadReference, match="silent"):
        analyse_reference(tmp_path / "silent.wav")


def test_too_short_file(tmp_path):
    soundfile.write(tmp_path / "blip.wav", np.full((100, 2), 0.1, np.float32), SR)
    with pytest.raises(BadReference, match="shorter"):
        analyse_reference(tmp_path / "blip.wav")


def test_too_long_file(tmp_path, reference_audio):
    path = _write(tmp_path / "long.wav", reference_audio, "wav")
    with pytest.raises(BadReference, match="too long"):
        analyse_reference(path, max_seconds=5)


def test_too_large_file(tmp_path, reference_audio):
    path = _write(tmp_path / "big.wav", reference_audio, "wav")
    with pytest.raises(BadReference, match="too large"):
        analyse_reference(path, max_bytes=1000)


def test_messages_name_the_file_and_never_leak_a_traceback(tmp_path):
    (tmp_path / "bad.ogg").write_bytes(b"OggS" + bytes(range(256)) * 4)
    with pytest.raises(BadReference) as caught:
        analyse_reference(tmp_path / "bad.ogg")
    assert "bad.ogg" in caught.value.user_message and "Traceback" not in caught.value.user_message


REF = ReferenceAnalysis(
    tempo_bpm=128.0,
    key="D minor",
    loudness_lufs=-9.0,
    brightness_hz=2000.0,
    duration_s=180.0,
    energy=0.8,
    tempo_confidence=0.7,
    key_confidence=0.8,
)


def test_reference_fills_what_the_prompt_left_unsaid():
    spec = apply_reference(Spec.from_dict({"genres": ["house"]}), REF)
    assert spec.tempo_bpm.value == 128.0 and spec.tempo_bpm.source == "reference"
    assert spec.key.value == "D minor" and spec.key.source == "reference"
    assert spec.energy.value == 0.8 and spec.energy.source == "reference"
    assert spec.loudness_lufs.value == -14.0  # the target is never taken from a reference


def test_the_prompt_wins_and_defaults_yield():
    spec = make_spec(tempo_bpm=140, key="A minor")
    spec = spec.with_updates(energy=Sourced[float](value=0.3, source="default").model_dump())
    out = apply_reference(spec, REF)
    assert out.tempo_bpm.value == 140 and out.tempo_bpm.source == "prompt"
    assert out.key.value == "A minor"
    assert out.energy.value == 0.8 and out.energy.source == "reference"
    assert any("keeping the prompt" in note for note in out.notes)


def test_a_48_khz_reference_reads_the_same(tmp_path, reference_audio):
    from scipy.signal import resample_poly

    audio_48k = resample_poly(reference_audio, 160, 147, axis=1).astype(np.float32)
    soundfile.write(tmp_path / "ref48.flac", audio_48k.T, 48000)
    ref = analyse_reference(tmp_path / "ref48.flac")
    assert abs(ref.tempo_bpm - 128) / 128 <= 0.02 and ref.key == "D minor"
    assert abs(ref.duration_s - 12.0) < 0.05


def test_a_reference_without_a_steady_beat_lends_no_tempo(tmp_path):
    """A sustained chord has no beat: its tempo guess must not become the track's tempo."""
    from tests.pipeline.audio_fixtures import harmonic_tone, stereo

    chord = sum(harmonic_tone(m, 12.0) for m in (57, 61, 64))
    path = tmp_path / "pad.wav"
    soundfile.write(path, stereo(chord).T, SR)
    ref = analyse_reference(path)
    spec = apply_reference(Spec(), ref)
    assert spec.tempo_bpm is None
    assert any("no steady beat" in note for note in spec.notes)
    assert spec.key is not None and spec.key.source == "reference"
