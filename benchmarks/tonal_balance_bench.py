"""How far each genre's pre-master mix sits from its tonal target, with and without the correction EQ.

    python benchmarks/tonal_balance_bench.py [--seconds 20] [--genres house jazz …]

Composes and renders each genre once (seed 3), mixes it twice (MixParams(tonal_balance=False/True)),
and prints the octave-band deviation from the genre's target (pipeline.tonal_balance) as an RMS over
the bands that have content, plus the mixing CPU seconds. Also prints each band's deviation.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.backends.symbolic import SymbolicBackend
from pipeline.defaults import resolve
from pipeline.mixing import MixParams, mix_stems
from pipeline.styles import STYLES
from pipeline.tonal_balance import BAND_WEIGHTS, EMPTY_BAND_DB, OCTAVES_HZ, band_levels_db, deviation_db, target_for
from tests.pipeline.audio_fixtures import make_spec


def off_target_db(mix: np.ndarray, genre: str) -> tuple[float, np.ndarray]:
    target = target_for(genre).levels_db()
    measured = band_levels_db(mix, 44100)
    weights = BAND_WEIGHTS * (measured - target - np.median(measured - target) > -EMPTY_BAND_DB)
    deviation = deviation_db(measured, target, weights)
    return float(np.sqrt(np.average(deviation**2, weights=weights))), deviation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--genres", nargs="*", default=sorted(STYLES))
    args = parser.parse_args()
    print(f"{'genre':14s} {'off (plain)':>11s} {'off (fitted)':>12s} {'mix cpu s':>9s}   fitted deviation per octave "
          + " ".join(f"{f:g}" for f in OCTAVES_HZ))
    plain_all, fitted_all = [], []
    for genre in args.genres:
        spec = resolve(make_spec(genres=[genre], duration_s=args.seconds, seed=3))
        generated = SymbolicBackend(render_workers=1).generate(spec, on_stage=lambda _: None)
        plain = mix_stems(generated.stems, generated.arrangement, spec, MixParams(workers=1, tonal_balance=False))
        started = time.process_time()
        fitted = mix_stems(generated.stems, generated.arrangement, spec, MixParams(workers=1))
        cpu = time.process_time() - started
        before, _ = off_target_db(plain.mix, genre)
        after, deviation = off_target_db(fitted.mix, genre)
        plain_all.append(before)
        fitted_all.append(after)
        print(f"{genre:14s} {before:9.1f} dB {after:10.1f} dB {cpu:9.2f}   " + " ".join(f"{d:+.1f}" for d in deviation))
    print(f"median over {len(args.genres)} genres: {statistics.median(plain_all):.1f} dB plain, "
          f"{statistics.median(fitted_all):.1f} dB fitted (RMS over octave bands with content)")


if __name__ == "__main__":
    main()
