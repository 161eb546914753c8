"""QA pass rates over the production matrix (every genre x 3 tempos, keys and meters), as figures.

The matrix is the one tests/pipeline/test_production_matrix.py asserts on; this prints how many of
its tracks meet each criterion, measuring loudness and true peak with ffmpeg's ebur128 meter (not
ampa's own), plus stage timings. Takes ~3 minutes on 2 cores.

    python benchmarks/matrix_report.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.errors import QAFailed  # noqa: E402
from pipeline.produce import ProduceOptions, produce  # noqa: E402
from pipeline.spec import Spec  # noqa: E402
from tests.pipeline.test_production_matrix import CASES, DURATION_S, _case_id, _ffmpeg_r128  # noqa: E402


def _check(report: dict, name: str) -> dict:
    return next(c for c in report["qa"][-1]["checks"] if c["name"] == name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=len(CASES), help="only the first N cases")
    args = parser.parse_args()
    cases = CASES[: args.limit]
    counts: Counter[str] = Counter()
    attempts: Counter[int] = Counter()
    misses: dict[str, list[str]] = {}
    seconds: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, case in enumerate(cases):
            genre, tempo, key, meter = case
            spec = Spec.from_dict(
                {"genres": [genre], "tempo_bpm": tempo, "key": key, "time_signature": meter,
                 "duration_s": DURATION_S, "seed": 1000 + index}
            )
            out = Path(tmp) / _case_id(case)
            started = time.perf_counter()
            try:
                produce(spec, out, options=ProduceOptions())
            except QAFailed:
                pass
            seconds.append(time.perf_counter() - started)
            report = json.loads((out / "report.json").read_text())
            final = Spec.from_dict(report["spec"])
            attempts[report["attempts"]] += 1

            def tally(name: str, ok: bool, detail: str, case_id: str = _case_id(case)) -> None:
                counts[name] += ok
                if not ok:
                    misses.setdefault(name, []).append(f"{case_id}: {detail}")

            tally("QA passed within its retries", report["passed"], str(report["qa"][-1]["failures"]))
            integrated, true_peak = _ffmpeg_r128(out / "mix.wav")
            tally("loudness within ±0.5 LU (ffmpeg)", abs(integrated - final.loudness_lufs.value) <= 0.5,
                  f"{integrated:.2f} LUFS")
            tally("true peak ≤ ceiling (ffmpeg)", true_peak <= final.true_peak_dbtp.value + 0.1, f"{true_peak:.2f} dBTP")
            audio, rate = sf.read(out / "mix.wav", dtype="float32")
            tally("no clipped samples", int(np.sum(np.abs(audio) >= 0.9999)) == 0, "clipped")
            num, den = final.meter
            bar_s = num * 4.0 / den * 60.0 / final.tempo_bpm.value
            tally("length within one bar", abs(len(audio) / rate - DURATION_S) <= bar_s, f"{len(audio) / rate:.2f} s")
            measured = float(_check(report, "tempo")["measured"])
            beats = [tempo, tempo * 2 / 3] if meter == "6/8" else [tempo]
            tally("tempo within ±2 %", min(abs(measured - b) / b for b in beats) <= 0.02, f"{measured:.1f} BPM")
            key_check = _check(report, "key")
            tally("key heard as asked", bool(key_check["passed"]), f"heard {key_check['measured']}")
            quiet = []
            for stem in sorted((out / "stems").glob("*.flac")):
                data, _ = sf.read(stem, dtype="float32")
                if 20 * math.log10(float(np.sqrt(np.mean(data**2))) + 1e-12) <= -60.0:
                    quiet.append(stem.name)
            tally("no silent stem", not quiet, ", ".join(quiet))
            print(f"  {index + 1:2d}/{len(cases)} {_case_id(case):40s} {seconds[-1]:5.1f} s  attempts {report['attempts']}",
                  flush=True)
    total = len(cases)
    print(f"\nproduction matrix · {total} tracks of {DURATION_S:g} s · median {statistics.median(seconds):.2f} s per track")
    for name, passed in counts.items():
        print(f"  {name:36s} {passed:3d} / {total}")
    print("  attempts: " + ", ".join(f"{n} attempt(s): {count}" for n, count in sorted(attempts.items())))
    for name, items in misses.items():
        print(f"  misses, {name}: " + "; ".join(items))


if __name__ == "__main__":
    main()
