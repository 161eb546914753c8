"""A fast stand-in for pipeline.produce with the same signature, for the bot tests that are not the
end-to-end one (which runs the real pipeline). It walks the real stage names through the real hooks
and writes real, small files: a WAV, an MP3 encoded by ffmpeg, a PNG, a MIDI file and a stems zip.

`GATE` lets a test hold a job inside the rendering stage (to restart the bot mid-job); it is open
by default. `FAIL_WITH` makes the next jobs fail with a PipelineError.
"""

from __future__ import annotations

import struct
import subprocess
import threading
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import mido
import numpy as np
import soundfile as sf

from pipeline.errors import BadInput, Cancelled
from pipeline.produce import ProduceOptions, ProductionResult
from pipeline.spec import Spec

GATE = threading.Event()
GATE.set()
FAIL_WITH: list[str] = []  # a message here makes jobs fail with BadInput(message)
SECONDS = 6.0
STAGE_SECONDS = 0.6  # simulated work per stage, so a status message has stages to show
RATE = 44100


def produce(
    spec: Spec, out_dir: Path, *, options: ProduceOptions, hooks: Any = None, reference: Path | None = None
) -> ProductionResult:
    def stage(name: str, attempt: int = 1) -> None:
        if hooks is not None:
            if hooks.is_cancelled():
                raise Cancelled("Cancelled.")
            hooks.on_stage(name, attempt)
        time.sleep(STAGE_SECONDS)

    if FAIL_WITH:
        stage("composing")
        raise BadInput(FAIL_WITH[0])
    if reference is not None:
        stage("analysing")
    stage("composing")
    stage("rendering")
    if not GATE.wait(timeout=60):
        raise RuntimeError("test gate never opened")
    seed = spec.seed.value if spec.seed else 0
    t = np.arange(int(SECONDS * RATE)) / RATE
    freq = 220.0 + (seed % 200)
    stems = {"bass": 0.3 * np.sin(2 * np.pi * freq / 2 * t), "lead": 0.2 * np.sin(2 * np.pi * freq * t)}
    reports = []
    attempt = 1
    while True:
        stage("mixing", attempt)
        mix = sum(stems.values())
        stage("mastering", attempt)
        gain = 10 ** (options.first_master_gain_db / 20) if attempt == 1 else 1.0
        mix = np.clip(mix * gain, -1, 1)
        stage("qa", attempt)
        too_loud = gain > 1.5
        report = {
            "passed": not too_loud,
            "failures": ["too loud (-8.1 LUFS)"] if too_loud else [],
            "checks": [
                {"name": "loudness", "measured": -8.1 if too_loud else -14.0},
                {"name": "true_peak", "measured": -1.2},
            ],
        }
        reports.append(report)
        if hooks is not None:
            hooks.on_qa(report, attempt, ["lower master gain"] if too_loud else [])
        if not too_loud:
            break
        attempt += 1
    out_dir.mkdir(parents=True, exist_ok=True)
    files = _write_files(out_dir, mix, stems, seed)
    return ProductionResult(
        spec=spec,
        files=files,
        qa_reports=reports,
        timings={"composing": 0.01, "rendering": 0.02, "total": 0.1},
        passed=True,
        attempts=attempt,
    )


def _write_files(out: Path, mix: np.ndarray, stems: dict[str, np.ndarray], seed: int) -> dict[str, Path]:
    files: dict[str, Path] = {}
    sf.write(out / "mix.wav", np.stack([mix, mix], axis=1), RATE)
    files["mix.wav"] = out / "mix.wav"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(out / "mix.wav"),
            "-b:a",
            "320k",
            str(out / "mix.mp3"),
        ],
        check=True,
    )
    files["mix.mp3"] = out / "mix.mp3"
    (out / "spectrogram.png").write_bytes(_png(64, 32, seed))
    files["spectrogram.png"] = out / "spectrogram.png"
    midi = mido.MidiFile()
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for note in (57, 60, 64):
        track.append(mido.Message("note_on", note=note, velocity=90, time=0))
        track.append(mido.Message("note_off", note=note, velocity=0, time=480))
    midi.save(out / "song.mid")
    files["song.mid"] = out / "song.mid"
    (out / "stems").mkdir(exist_ok=True)
    with zipfile.ZipFile(out / "stems.zip", "w", compression=zipfile.ZIP_STORED) as archive:
        for role, audio in stems.items():
            path = out / "stems" / f"{role}.wav"
            sf.write(path, audio, RATE)
            archive.write(path, f"{role}.wav")
            files[f"stems/{role}.wav"] = path
    files["stems.zip"] = out / "stems.zip"
    return files


def _png(width: int, height: int, seed: int) -> bytes:
    """A real (greyscale) PNG, so the upload is a picture Discord would show."""
    rows = b"".join(b"\x00" + bytes((x * 4 + y + seed) % 256 for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
