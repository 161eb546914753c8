"""Times the whole `generate` for 30 s, 2 min and 4 min tracks: seconds per stage and peak memory.

Each run is a fresh process (`ampa generate`), as a user would run it, so model and SoundFont
loading are included; the per-stage seconds come from the run's report.json and the peak RSS
from the child's rusage. Prints the median of several runs.

    python benchmarks/generate_bench.py [--runs 3] [--durations 30 120 240]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPT = "dark atmospheric synthwave at 140 BPM in A minor"
STAGES = ("parsing", "composing", "rendering", "mixing", "mastering", "qa", "export")


def run_once(duration: float, seed: int, out: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "ampa", "generate", PROMPT, "--duration", str(duration), "--seed", str(seed),
         "--out", str(out), "--quiet"],
        capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"generate failed: {proc.stderr}")
    # ru_maxrss of children is the max over all children so far; runs go from small to large.
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    report = json.loads((out / "report.json").read_text())
    return {"wall": wall, "timings": report["timings"], "peak_mb": peak_mb, "attempts": report["attempts"],
            "mp3_mb": (out / "mix.mp3").stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--durations", type=float, nargs="+", default=[30, 120, 240])
    args = parser.parse_args()
    print(f"ampa generate benchmark · {os.cpu_count()} cores · median of {args.runs} runs · prompt: {PROMPT!r}")
    header = f"{'length':>7} {'wall s':>7} {'in-proc':>7} " + " ".join(f"{s[:7]:>7}" for s in STAGES)
    print(header + f" {'peakMB':>7} {'mp3 MB':>7} {'s/min':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for duration in args.durations:
            runs = [run_once(duration, seed=11 + i, out=Path(tmp) / f"{duration:g}-{i}") for i in range(args.runs)]
            med = statistics.median
            wall = med(r["wall"] for r in runs)
            total = med(r["timings"]["total"] for r in runs)
            stages = " ".join(f"{med(r['timings'].get(s, 0.0) for r in runs):7.2f}" for s in STAGES)
            peak = max(r["peak_mb"] for r in runs)
            mp3 = med(r["mp3_mb"] for r in runs)
            print(f"{duration:6.0f}s {wall:7.2f} {total:7.2f} {stages} {peak:7.0f} {mp3:7.2f} {total / duration * 60:6.2f}")
    print("wall = whole process (imports, model and SoundFont load); in-proc = produce() only; s/min = in-proc seconds per minute of audio")


if __name__ == "__main__":
    main()
