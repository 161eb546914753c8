"""Output files: present, 24-bit, a small MP3, a zip of the stems, atomic writes, a spectrogram."""

from __future__ import annotations

import threading
import zipfile

import numpy as np
import pytest
import soundfile

from pipeline import outputs
from pipeline.outputs import mp3_bitrate_kbps, write_audio_outputs, write_spectrogram, write_wav
from tests.pipeline.audio_fixtures import SR, noise, song
from tests.patience import patience


@pytest.fixture(scope="module")
def short() -> np.ndarray:
    return song(120, "A", "minor", 4.0) * np.float32(0.5)


def test_all_files_are_written(tmp_path, short):
    stems = {"drums": short * 0.5, "bass": short * 0.5}
    files = write_audio_outputs(tmp_path, short, SR, stems)
    assert set(files) == {"mix.wav", "mix.mp3", "stems/drums.flac", "stems/bass.flac", "stems.zip"}
    assert all(p.exists() and p.stat().st_size > 0 for p in files.values())
    info = soundfile.info(files["mix.wav"])
    assert info.subtype == "PCM_24" and info.samplerate == SR and info.channels == 2
    stem_info = soundfile.info(files["stems/bass.flac"])
    assert (stem_info.format, stem_info.subtype) == ("FLAC", "PCM_24")
    with zipfile.ZipFile(files["stems.zip"]) as archive:
        assert sorted(archive.namelist()) == ["stems/bass.flac", "stems/drums.flac"]
        assert archive.read("stems/bass.flac") == files["stems/bass.flac"].read_bytes()
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]


def test_wav_round_trips_at_24_bit_precision(tmp_path, short):
    write_wav(tmp_path / "x.wav", short, SR)
    data, _ = soundfile.read(tmp_path / "x.wav", dtype="float32")
    assert np.max(np.abs(data.T - short)) < 2**-22


def test_hot_stems_are_scaled_together_to_avoid_clipping(tmp_path, short):
    stems = {"drums": short * 4.0, "bass": short * 2.0}
    files = write_audio_outputs(tmp_path, short, SR, stems)
    drums, _ = soundfile.read(files["stems/drums.flac"], dtype="float32")
    bass, _ = soundfile.read(files["stems/bass.flac"], dtype="float32")
    assert np.max(np.abs(drums)) <= 0.99
    assert np.allclose(drums, bass * 2.0, atol=1e-4)  # balance kept


def test_mix_only_backend_gets_no_stem_files(tmp_path, short):
    files = write_audio_outputs(tmp_path, short, SR, {})
    assert set(files) == {"mix.wav", "mix.mp3"}


def test_three_minute_mp3_fits_discord(tmp_path):
    # Noise is the worst case for an encoder; CBR makes the size depend on duration only.
    three_minutes = np.tile(noise(10.0, 0.1), (1, 18))
    files = write_audio_outputs(tmp_path, three_minutes, SR, {})
    assert files["mix.mp3"].stat().st_size < 8_000_000
    assert mp3_bitrate_kbps(180) == 256 and mp3_bitrate_kbps(600) <= 96


def test_writes_are_atomic(tmp_path, short, monkeypatch):
    """While a file is being written, its final name shows the old complete file or nothing."""
    final = tmp_path / "mix.wav"
    write_wav(final, short, SR)
    before = final.read_bytes()
    started, release = threading.Event(), threading.Event()
    real_write = soundfile.write

    def slow_write(path, *args, **kwargs):  # pause mid-write: the temp file exists, half done
        real_write(path, *args, **kwargs)
        started.set()
        release.wait(patience(10))

    monkeypatch.setattr(outputs.soundfile, "write", slow_write)
    worker = threading.Thread(target=write_wav, args=(final, short * 0.5, SR))
    worker.start()
    assert started.wait(patience(10))
    assert final.read_bytes() == before  # the final name still holds the previous, whole file
    assert [p for p in tmp_path.iterdir() if ".tmp" in p.name]
    release.set()
    worker.join(patience(10))
    assert final.read_bytes() != before
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch, short):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(outputs.soundfile, "write", broken)
    with pytest.raises(OSError):
        write_wav(tmp_path / "mix.wav", short, SR)
    assert list(tmp_path.iterdir()) == []


def test_spectrogram_png(tmp_path, short):
    path = write_spectrogram(tmp_path / "spectrogram.png", short, SR, "synthwave · 140 BPM · A minor · 0:04")
    from PIL import Image

    with Image.open(path) as image:
        assert image.size == (1600, 600)
    assert path.stat().st_size > 20_000
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_flac_stems_hold_the_same_samples_as_24_bit(tmp_path, short):
    files = write_audio_outputs(tmp_path, short, SR, {"bass": short * 0.5})
    data, _ = soundfile.read(files["stems/bass.flac"], dtype="float32")
    assert np.max(np.abs(data.T - short * 0.5)) < 2**-22  # lossless at 24-bit precision
    wav = write_wav(tmp_path / "bass.wav", short * 0.5, SR)
    assert files["stems/bass.flac"].stat().st_size < wav.stat().st_size


def test_pianoroll_png_draws_each_stem_in_its_colour(tmp_path):
    from PIL import Image

    from pipeline.score import Arrangement, Note, Section, Track

    drums = Track(role="drums", instrument="drums", program=0, is_drum=True,
                  notes=[Note(start=float(b), duration=0.25, pitch=36, velocity=127) for b in range(32)])  # fmt: skip
    lead = Track(role="lead", instrument="synth-lead", program=80,
                 notes=[Note(start=float(b), duration=1.0, pitch=60 + b % 12, velocity=127) for b in range(16, 32)])  # fmt: skip
    silent = Track(role="pad", instrument="pad", program=88)
    arrangement = Arrangement(
        tempo_bpm=120, beats_per_bar=4, beat_unit=4, key_tonic_pc=9, mode="minor", bars=8,
        sections=[Section("intro", 0, 4, 0.4), Section("drop", 4, 4, 1.0)], tracks=[drums, lead, silent],
        seed=1, genre="synthwave",
    )  # fmt: skip
    path = outputs.write_pianoroll(tmp_path / "pianoroll.png", arrangement, "synthwave · 120 BPM · A minor")
    with Image.open(path) as image:
        assert image.size == (1600, 600)
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)

    def share(hex_colour: str) -> float:
        rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
        return float(np.mean(np.abs(pixels - rgb).sum(axis=1) < 30))

    assert share(outputs.ROLE_COLOURS["drums"]) > 0.001
    assert share(outputs.ROLE_COLOURS["lead"]) > 0.005
    # The lead plays only in the second half: none of its colour left of the middle of the plot.
    with Image.open(path) as image:
        left = np.asarray(image.convert("RGB"))[:, 100:760].reshape(-1, 3).astype(int)
    lead_rgb = np.array([int(outputs.ROLE_COLOURS["lead"][i : i + 2], 16) for i in (1, 3, 5)])
    assert not np.any(np.abs(left - lead_rgb).sum(axis=1) < 30)
