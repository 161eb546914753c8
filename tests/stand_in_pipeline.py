"""The one fast stand-in for `pipeline.produce`, for every test (and the load benchmark) that is about
the job system or a bot rather than the audio. In-process tests pass it to `JobService.open(pipeline=…)`;
worker and bot subprocesses get it with AMPA_PIPELINE=tests.stand_in_pipeline.

It has produce()'s signature, walks the real stage names through the real hooks, honours cancellation
between stages (and while held), and writes small real files: a WAV, an MP3, a PNG, a MIDI file, stems
and their zip, and a report.json — so uploads, downloads and pages handle what they will really get.

Switches, as ProduceOptions fields (in-process) or environment variables (subprocesses):
- stage_s / AMPA_FAKE_STAGE_S: simulated work per stage (so a status message has stages to show);
- audio_s / AMPA_FAKE_AUDIO_S: length of the audio files written (sizes for the upload-limit tests);
- hold_file / AMPA_FAKE_HOLD_FILE: stay in "rendering" while that file exists (to kill or restart a
  worker or a bot mid-job);
- qa_never_passes: every QA attempt fails, so the job fails with its reasons;
- first_master_gain_db > 0 (a real option): the first master is too loud, the retry passes;
- transient_failures: raise ENOSPC this many times per output folder's parent before working.
Module-level switches for in-process tests: STAGE_S and AUDIO_S (the defaults of the first two), GATE (clear it to hold a job in "rendering" until set),
FAIL_WITH (a message makes the next jobs fail with BadInput). A spec at FAILING_TEMPO fails QA; a
reference named *.bad is refused as the real pipeline refuses non-audio.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mido
import numpy as np
import soundfile as sf

import pipeline.produce
from pipeline.errors import BadInput, BadReference, Cancelled, QAFailed
from pipeline.produce import ProductionResult
from pipeline.spec import Spec

RATE = 44100
FAILING_TEMPO = 66.0
GATE = threading.Event()
GATE.set()
FAIL_WITH: list[str] = []
# Defaults when neither the option nor the environment variable says (a test may set these).
STAGE_S = 0.02
AUDIO_S = 2.0
_transient_failures: dict[str, int] = {}


@dataclass(frozen=True)
class ProduceOptions(pipeline.produce.ProduceOptions):
    """The real options (so whatever the runner passes always fits) plus the stand-in's switches."""

    stage_s: float | None = None
    audio_s: float | None = None
    hold_file: str | None = None
    qa_never_passes: bool = False
    transient_failures: int = 0


def _switch(value: Any, env: str, default: float) -> float:
    """The option if given, else the environment variable, else the module's default."""
    return float(value) if value is not None else float(os.environ.get(env, default))


def produce(
    spec: Spec,
    out_dir: Path,
    *,
    options: ProduceOptions,
    hooks: Any = None,
    reference: Path | None = None,
    seed_text: str = "",
) -> ProductionResult:
    stage_s = _switch(options.stage_s, "AMPA_FAKE_STAGE_S", STAGE_S)
    hold_file = options.hold_file or os.environ.get("AMPA_FAKE_HOLD_FILE")
    timings: dict[str, float] = {}

    def cancelled() -> bool:
        return hooks is not None and hooks.is_cancelled()

    def stage(name: str, attempt: int = 1) -> None:
        if cancelled():
            raise Cancelled("The job was cancelled.")
        if hooks is not None:
            hooks.on_stage(name, attempt)
        started = time.monotonic()
        time.sleep(stage_s)
        if name == "rendering":
            while (hold_file and Path(hold_file).exists()) or not GATE.wait(0.05):
                if cancelled():
                    raise Cancelled("The job was cancelled.")
                time.sleep(0.02)
        timings[name] = timings.get(name, 0.0) + time.monotonic() - started

    if reference is not None and reference.suffix == ".bad":
        raise BadReference("That reference file is not audio; attach an MP3, WAV, FLAC or OGG file.")
    failures_key = str(out_dir.parent)
    if _transient_failures.get(failures_key, 0) < options.transient_failures:
        _transient_failures[failures_key] = _transient_failures.get(failures_key, 0) + 1
        raise OSError(28, "No space left on device")

    stage("parsing")
    if reference is not None:
        stage("analysing")
    stage("composing")
    if FAIL_WITH:
        raise BadInput(FAIL_WITH[0])
    stage("rendering")

    reports: list[dict[str, Any]] = []
    attempt = 1
    while True:
        stage("mixing", attempt)
        stage("mastering", attempt)
        stage("qa", attempt)
        too_hot = options.qa_never_passes or (attempt == 1 and options.first_master_gain_db > 0)
        clipped = spec.tempo_bpm is not None and spec.tempo_bpm.value == FAILING_TEMPO
        failures = ["too loud: -9.6 LUFS, target -14 ± 0.5"] if too_hot else ["clipping"] if clipped else []
        report = {
            "passed": not failures,
            "attempt": attempt,
            "failures": failures,
            "checks": [
                {"name": "integrated_loudness", "measured": -9.6 if too_hot else -14.1, "target": -14.0,
                 "unit": "LUFS", "passed": not too_hot},
                {"name": "true_peak", "measured": -1.3, "target": -1.0, "unit": "dBTP", "passed": True},
            ],
        }  # fmt: skip
        reports.append(report)
        final = not failures or clipped or attempt > options.max_qa_retries
        if hooks is not None:
            hooks.on_qa(report, attempt, [] if final else ["lower master gain by 4.4 dB"])
        if not failures:
            break
        if final:
            what = "clipping; try a different tempo" if clipped else "too loud"
            raise QAFailed(f"The track kept failing its quality checks ({what}).", reasons=failures)
        attempt += 1

    seed = spec.seed.value if spec.seed else 0
    files = _write_files(out_dir, spec, reports, seed, _switch(options.audio_s, "AMPA_FAKE_AUDIO_S", AUDIO_S))
    timings["total"] = sum(timings.values())
    return ProductionResult(spec=spec, files=files, qa_reports=reports, timings=timings, passed=True, attempts=attempt)


def _write_files(
    out: Path, spec: Spec, reports: list[dict[str, Any]], seed: int, seconds: float
) -> dict[str, Path]:
    from pedalboard.io import AudioFile

    out.mkdir(parents=True, exist_ok=True)
    (out / "stems").mkdir(exist_ok=True)
    t = np.arange(int(seconds * RATE)) / RATE
    freq = 220.0 + seed % 200  # the seed is audible: another take is another file
    clicks = (np.sin(2 * np.pi * 60 * t) * np.exp(-30 * (t % 0.5))).astype(np.float32)
    stems = {
        "drums": 0.4 * clicks,
        "bass": (0.3 * np.sin(np.pi * freq * t)).astype(np.float32),
        "lead": (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32),
    }
    mix = np.stack([sum(stems.values())] * 2)
    files: dict[str, Path] = {}

    def keep(name: str) -> Path:
        files[name] = out / name
        return out / name

    sf.write(keep("mix.wav"), mix.T, RATE, subtype="PCM_24")
    with AudioFile(str(keep("mix.mp3")), "w", RATE, 2, quality="320k") as mp3:
        mp3.write(mix)
    keep("spectrogram.png").write_bytes(_png(64, 32, seed))
    midi = mido.MidiFile()
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for note in (57, 60, 64):
        track.append(mido.Message("note_on", note=note, velocity=90, time=0))
        track.append(mido.Message("note_off", note=note, velocity=0, time=480))
    midi.save(keep("song.mid"))
    with zipfile.ZipFile(keep("stems.zip"), "w", compression=zipfile.ZIP_STORED) as archive:
        for role, audio in stems.items():
            sf.write(keep(f"stems/{role}.wav"), audio, RATE)
            archive.write(out / "stems" / f"{role}.wav", f"{role}.wav")
    keep("report.json").write_text(json.dumps({"qa": reports, "spec": spec.to_dict()}))
    return files


def _png(width: int, height: int, seed: int) -> bytes:
    """A real greyscale PNG, so an upload is a picture the chat shows."""
    rows = b"".join(b"\x00" + bytes((x * 4 + y + seed) % 256 for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
