"""A fast stand-in for pipeline.produce (same signature), injected into the real JobService for the
Slack tests that are about the app rather than the audio. The end-to-end test uses the real pipeline.

It walks the real stage names through the hooks, writes small real files, fails QA for a spec at
66 BPM (so a test can make a job fail on purpose), and holds in "rendering" while `hold_file` exists.
"""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pipeline.produce
from pipeline.errors import QAFailed
from pipeline.produce import ProductionResult
from pipeline.spec import Spec

FAILING_TEMPO = 66.0


@dataclass(frozen=True)
class ProduceOptions(pipeline.produce.ProduceOptions):
    """The real options plus fake-only switches."""

    stage_s: float = 0.02
    hold_file: str | None = None


def produce(
    spec: Spec,
    out_dir: Path,
    *,
    options: ProduceOptions,
    hooks: Any = None,
    reference: Path | None = None,
    seed_text: str = "",
) -> ProductionResult:
    timings: dict[str, float] = {}
    stages = ["parsing", "analysing"] if reference is not None else ["parsing"]
    for stage in [*stages, "composing", "rendering", "mixing", "mastering", "qa"]:
        if hooks is not None:
            hooks.on_stage(stage, 1)
        started = time.monotonic()
        time.sleep(options.stage_s)
        while stage == "rendering" and options.hold_file and Path(options.hold_file).exists():
            time.sleep(0.02)
        timings[stage] = time.monotonic() - started
    report = {
        "passed": True,
        "checks": [
            {"name": "integrated_loudness", "measured": -14.1, "passed": True},
            {"name": "true_peak", "measured": -1.3, "passed": True},
        ],
    }
    if spec.tempo_bpm is not None and spec.tempo_bpm.value == FAILING_TEMPO:
        if hooks is not None:
            hooks.on_qa({**report, "passed": False}, 1, [])
        raise QAFailed("The track kept failing its quality checks (clipping); try a different tempo.", ["clipping"])
    if hooks is not None:
        hooks.on_qa(report, 1, [])
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "mix.mp3": b"ID3" + b"\x00" * 2000,
        "mix.wav": b"RIFF" + b"\x00" * 2000,
        "spectrogram.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 500,
        "song.mid": b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0",
        "stems.zip": _zip({"drums.wav": b"RIFF" + b"\x00" * 100}),
        "report.json": b"{}",
    }
    paths = {}
    for name, data in files.items():
        (out_dir / name).write_bytes(data)
        paths[name] = out_dir / name
    timings["total"] = sum(timings.values())
    return ProductionResult(spec=spec, files=paths, qa_reports=[report], timings=timings, passed=True, attempts=1)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
