"""Times the whole `generate` for 30 s, 2 min and 4 min tracks: seconds per stage and peak memory.

Each run is a fresh process (`ampa generate`), as a user would run it, so model and SoundFont
loading are included; the per-stage seconds come from the run's report.json, the peak RSS and the
CPU seconds (user + system, all threads and children) from the child's rusage. Prints the median of
several runs. On a machine other people load, wall seconds measure the load as much as ampa: the
CPU seconds do not (on an idle 2-core machine the wall time is at least CPU / 2).

    python benchmarks/generate_bench.py [--runs 3] [--durations 30 120 240] [--prompt TEXT]
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


def run_once(duration: float, seed: int, out: Path, prompt: str = PROMPT) -> dict:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "ampa", "generate", prompt, "--duration", str(duration), "--seed", str(seed),
         "--out", str(out), "--quiet"],
        capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"generate failed: {proc.stderr}")
    # ru_maxrss of children is the max over all children so far; runs go from small to large.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = max(usage.ru_maxrss, before) / 1024
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    report = json.loads((out / "report.json").read_text())
    return {"wall": wall, "cpu": cpu, "timings": report["timings"], "peak_mb": peak_mb, "attempts": report["attempts"],
            "mp3_mb": (out / "mix.mp3").stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--durations", type=float, nargs="+", default=[30, 120, 240])
    parser.add_argument("--prompt", default=PROMPT)
    args = parser.parse_args()
    print(f"ampa generate benchmark · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f} · median of {args.runs} runs · prompt: {args.prompt!r}")
    header = f"{'length':>7} {'wall s':>7} {'cpu s':>7} {'in-proc':>7} " + " ".join(f"{s[:7]:>7}" for s in STAGES)
    print(header + f" {'peakMB':>7} {'mp3 MB':>7} {'s/min':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for duration in args.durations:
            runs = [run_once(duration, seed=11 + i, out=Path(tmp) / f"{duration:g}-{i}", prompt=args.prompt) for i in range(args.runs)]
            med = statistics.median
            wall = med(r["wall"] for r in runs)
            cpu = med(r["cpu"] for r in runs)
            total = med(r["timings"]["total"] for r in runs)
            stages = " ".join(f"{med(r['timings'].get(s, 0.0) for r in runs):7.2f}" for s in STAGES)
            peak = max(r["peak_mb"] for r in runs)
            mp3 = med(r["mp3_mb"] for r in runs)
            print(f"{duration:6.0f}s {wall:7.2f} {cpu:7.2f} {total:7.2f} {stages} {peak:7.0f} {mp3:7.2f} {total / duration * 60:6.2f}")
    print("wall = whole process (imports, model and SoundFont load); cpu = its CPU seconds; in-proc = produce() only; s/min = in-proc seconds per minute of audio")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
