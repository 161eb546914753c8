"""A fast stand-in for pipeline.produce with the same signature, for tests and the load benchmark
that measure the job system itself (AMPA_PIPELINE=tests.worker.fake_pipeline).

It walks the real stage names, calls the hooks as the real pipeline does, honours cancellation
between stages, and writes small real files. Behaviour switches are ProduceOptions fields (in-process
tests) or environment variables (worker subprocesses): AMPA_FAKE_STAGE_S seconds per stage,
AMPA_FAKE_HOLD_FILE stay in rendering while that file exists.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pipeline.produce
from pipeline.errors import BadReference, Cancelled, QAFailed
from pipeline.produce import ProductionResult
from pipeline.spec import Spec

STAGES = ("parsing", "composing", "rendering", "mixing", "mastering", "qa")
_transient_failures: dict[str, int] = {}


@dataclass(frozen=True)
class ProduceOptions(pipeline.produce.ProduceOptions):
    """The real options (so the runner's fields always fit) plus fake-only switches."""

    stage_s: float | None = None
    qa_never_passes: bool = False
    transient_failures: int = 0  # raise OSError this many times per output folder parent before working
    hold_file: str | None = None  # while this file exists, stay in "rendering"


def produce(
    spec: Spec, out_dir: Path, *, options: ProduceOptions, hooks: Any = None, reference: Path | None = None
) -> ProductionResult:
    stage_s = options.stage_s if options.stage_s is not None else float(os.environ.get("AMPA_FAKE_STAGE_S", "0.01"))
    hold_file = options.hold_file or os.environ.get("AMPA_FAKE_HOLD_FILE")
    if reference is not None and reference.suffix == ".bad":
        raise BadReference("That reference file is not audio; attach an MP3, WAV, FLAC or OGG file.")
    key = str(out_dir.parent)
    if _transient_failures.get(key, 0) < options.transient_failures:
        _transient_failures[key] = _transient_failures.get(key, 0) + 1
        raise OSError(28, "No space left on device")
    timings: dict[str, float] = {}
    reports: list[dict[str, Any]] = []

    def stage(name: str, attempt: int) -> None:
        if hooks is not None and hooks.is_cancelled():
            raise Cancelled("Cancelled.")
        if hooks is not None:
            hooks.on_stage(name, attempt)
        start = time.monotonic()
        time.sleep(stage_s)
        if name == "rendering" and hold_file:
            while Path(hold_file).exists():
                if hooks is not None and hooks.is_cancelled():
                    raise Cancelled("Cancelled.")
                time.sleep(0.05)
        timings[name] = timings.get(name, 0.0) + time.monotonic() - start

    for name in STAGES[:3] if reference is None else ("parsing", "analysing", "composing", "rendering"):
        stage(name, 1)
    attempt = 1
    while True:
        stage("mixing", attempt)
        stage("mastering", attempt)
        stage("qa", attempt)
        too_hot = options.qa_never_passes or (attempt == 1 and options.first_master_gain_db > 0)
        report = {
            "passed": not too_hot,
            "attempt": attempt,
            "failures": ["too loud: -9.6 LUFS, target -14 ± 0.5"] if too_hot else [],
            "checks": [
                {
                    "name": "loudness",
                    "measured": -9.6 if too_hot else -14.1,
                    "target": -14.0,
                    "unit": "LUFS",
                    "passed": not too_hot,
                }
            ],
        }
        reports.append(report)
        final = not too_hot or attempt > options.max_qa_retries
        actions = [] if final else ["lower master gain by 4.4 dB"]
        if hooks is not None:
            hooks.on_qa(report, attempt, actions)
        if not too_hot:
            break
        if final:
            raise QAFailed("The track kept failing its quality checks: too loud.", reasons=report["failures"])
        attempt += 1

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "stems").mkdir(exist_ok=True)
    files: dict[str, Path] = {}
    for name, data in (
        ("mix.wav", b"RIFF-fake"),
        ("mix.mp3", b"ID3-fake"),
        ("song.mid", b"MThd-fake"),
        ("spectrogram.png", b"\x89PNG-fake"),
    ):
        (out_dir / name).write_bytes(data)
        files[name] = out_dir / name
    (out_dir / "stems" / "drums.wav").write_bytes(b"RIFF-drums")
    files["stems/drums.wav"] = out_dir / "stems" / "drums.wav"
    with zipfile.ZipFile(out_dir / "stems.zip", "w") as archive:
        archive.write(out_dir / "stems" / "drums.wav", "drums.wav")
    files["stems.zip"] = out_dir / "stems.zip"
    (out_dir / "report.json").write_text(json.dumps({"qa": reports, "spec": spec.to_dict()}))
    files["report.json"] = out_dir / "report.json"
    return ProductionResult(spec=spec, files=files, qa_reports=reports, timings=timings, passed=True, attempts=attempt)
