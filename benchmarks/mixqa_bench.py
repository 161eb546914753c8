"""Time the post-render stages on a synthetic 2-minute track: mixing, mastering, QA, outputs.

    python benchmarks/mixqa_bench.py [--seconds 120] [--runs 3]

Prints the median wall time of each stage over the runs (the first call of each is a warm-up).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.mastering import MasterParams, master
from pipeline.mixing import MixParams, mix_stems
from pipeline.outputs import write_audio_outputs, write_spectrogram
from pipeline.qa import run_qa
from tests.pipeline.audio_fixtures import SR, chord_progression, clicks, kick_pattern, make_spec, noise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    seconds, bpm = args.seconds, 124.0
    harmony = chord_progression("A", "minor", seconds, bpm=bpm)
    stems = {
        "drums": kick_pattern(bpm, seconds) + 0.3 * clicks(bpm, seconds),
        "bass": harmony * 0.5,
        "harmony": harmony,
        "pad": noise(seconds, 0.05),
        "lead": harmony * 0.3,
    }
    spec = make_spec(tempo_bpm=bpm, key="A minor", duration_s=seconds)
    times: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}

    def timed(name, fn):
        # CPU time too: on a shared machine wall time mostly measures the neighbours.
        started, started_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.setdefault(name, []).append(time.perf_counter() - started)
        cpu.setdefault(name, []).append(time.process_time() - started_cpu)
        return result

    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs + 1):
            mixed = timed("mixing", lambda: mix_stems(stems, None, spec, MixParams()))
            mastered = timed("mastering", lambda m=mixed: master(m.mix, SR, MasterParams()))
            report = timed("qa", lambda m=mixed, a=mastered: run_qa(a, SR, spec, stems=m.stems))
            timed("audio files", lambda m=mixed, a=mastered: write_audio_outputs(Path(folder), a, SR, m.stems))
            timed("spectrogram", lambda a=mastered: write_spectrogram(Path(folder) / "s.png", a, SR, spec.summary()))
    print(f"{seconds:g} s track, median of {args.runs} runs after a warm-up (QA passed: {report.passed})")
    print(f"  {'stage':12s} {'wall':>7s} {'cpu':>7s}")
    for name, values in times.items():
        print(f"  {name:12s} {statistics.median(values[1:]):6.2f}s {statistics.median(cpu[name][1:]):6.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
