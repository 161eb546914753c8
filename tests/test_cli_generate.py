"""`ampa generate` as a user runs it: real process, real files, clear words for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


def _ampa(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ampa", "generate", *args, "--quiet"],
        capture_output=True, text=True, env=full_env, cwd=cwd, timeout=300,
    )


def _assert_no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr


def test_generate_writes_every_output_at_the_asked_tempo_key_and_length(tmp_path):
    out = tmp_path / "out"
    proc = _ampa("dark atmospheric synthwave at 140 BPM in A minor, 12 seconds", "--seed", "3", "--out", str(out))
    _assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    for name in ("mix.wav", "mix.mp3", "song.mid", "spectrogram.png", "pianoroll.png", "report.json", "stems.zip"):
        assert (out / name).is_file(), name
    assert len(list((out / "stems").glob("*.flac"))) >= 3
    info = sf.info(out / "mix.wav")
    assert info.subtype == "PCM_24" and info.samplerate == 44100 and info.channels == 2
    report = json.loads((out / "report.json").read_text())
    spec = report["spec"]
    assert spec["tempo_bpm"]["value"] == 140 and spec["tempo_bpm"]["source"] == "prompt"
    assert spec["key"]["value"] == "A minor"
    assert spec["genres"][0]["value"] == "synthwave"
    assert report["passed"] and report["qa"]
    for stage in ("composing", "rendering", "mixing", "mastering", "qa"):
        assert report["timings"][stage] > 0
    assert json.loads(proc.stdout.strip().splitlines()[-1])["out_dir"] == str(out)


def test_stems_sum_to_the_premaster_mix_and_match_its_length(tmp_path):
    out = tmp_path / "out"
    proc = _ampa("upbeat funk, 105 bpm, 8 seconds", "--seed", "5", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    stems = [sf.read(p, dtype="float64")[0] for p in sorted((out / "stems").glob("*.flac"))]
    mix, _ = sf.read(out / "mix.wav", dtype="float64")
    assert all(s.shape == mix.shape for s in stems)
    # Stems are pre-master; their sum is the mix bus. It must correlate strongly with the master.
    bus = np.sum(stems, axis=0)
    corr = np.corrcoef(bus[:, 0], mix[:, 0])[0, 1]
    assert corr > 0.9


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("",), "prompt is empty"),
        (("   ",), "prompt is empty"),
        (("lofi beat", "--duration", "-3"), "--duration"),
        (("lofi beat", "--reference", "/nonexistent/file.wav"), "Reference file not found"),
        (("what's the weather like in berlin tomorrow?",), "doesn't sound like a request for music"),
    ],
)
def test_bad_input_gets_a_clear_message_and_a_non_zero_exit(tmp_path, args, expected):
    proc = _ampa(*args, "--out", str(tmp_path / "o"))
    _assert_no_traceback(proc)
    assert proc.returncode != 0
    assert expected in proc.stderr


def test_unreadable_and_empty_and_non_audio_references_are_refused(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp3"
    text.write_text("this is not audio")
    for ref in (empty, text):
        proc = _ampa("chill lofi, 8 seconds", "--reference", str(ref), "--out", str(tmp_path / ref.stem))
        _assert_no_traceback(proc)
        assert proc.returncode == 1, proc.stderr
        assert "Could not make the track" in proc.stderr


def test_missing_soundfont_says_how_to_install_one(tmp_path):
    proc = _ampa(
        "lofi beat, 8 seconds", "--out", str(tmp_path / "o"),
        env={"AMPA_SOUNDFONT": str(tmp_path / "missing.sf2")},
    )
    _assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "SoundFont" in proc.stderr


@pytest.mark.parametrize(
    ("prompt", "field", "value"),
    [
        ("techno at 1000 BPM, 8 seconds", "tempo_bpm", 220.0),
        ("ambient at 5 BPM, 8 seconds", "tempo_bpm", 40.0),
    ],
)
def test_out_of_range_values_are_clamped_and_reported(tmp_path, prompt, field, value):
    out = tmp_path / "o"
    proc = _ampa(prompt, "--out", str(out))
    _assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["spec"][field]["value"] == value
    assert any(field.split("_")[0] in note for note in report["notes"]), report["notes"]


def test_two_hour_duration_is_clamped_and_reported_without_rendering_two_hours(tmp_path):
    from pipeline.spec import MAX_DURATION_S, Spec
    from pipeline.defaults import resolve

    spec = resolve(Spec.from_dict({"genres": ["ambient"], "duration_s": 7200}))
    assert spec.duration_s.value == MAX_DURATION_S
    assert any("7200" in note for note in spec.notes)


def test_ten_thousand_character_prompt_is_truncated_with_a_note(tmp_path):
    out = tmp_path / "o"
    prompt = "chill lofi beat with rhodes, 8 seconds. " + "la " * 3400
    proc = _ampa(prompt, "--out", str(out))
    _assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert any("characters" in note for note in report["notes"])


def test_unknown_key_is_reported_not_crashed(tmp_path):
    out = tmp_path / "o"
    proc = _ampa("house in H minor, 8 seconds", "--out", str(out))
    _assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["spec"]["key"]["source"] == "default"


def test_an_unwritable_output_folder_is_a_clear_message(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = _ampa("chill lofi beat, 8 seconds", "--out", str(blocker / "out"))
    _assert_no_traceback(proc)
    assert proc.returncode == 1
    assert "Could not write the files" in proc.stderr and "--out" in proc.stderr


def test_a_full_scratch_disk_fails_the_track_with_what_to_do(tmp_path):
    """No room for the stems must fail the job with a message, not kill the process (SIGBUS)."""
    script = (
        "import resource, signal\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"  # an oversized file fails with EFBIG instead
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))\n"
        "from ampa.cli import main\n"
        "raise SystemExit(main())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "generate", "dark synthwave, 20 seconds", "--out", str(tmp_path / "out"),
         "--quiet"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "AMPA_SCRATCH_DIR": str(tmp_path)},
    )
    _assert_no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    assert "no room for this track's stems" in proc.stderr and "AMPA_SCRATCH_DIR" in proc.stderr
