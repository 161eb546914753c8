"""Do the sections breathe? Every genre through the whole pipeline; per section: the stems that play,
notes per bar, drum hits per bar, mean velocity (from the score) and RMS level of the mastered mix.
Writes each genre's spectrogram and piano roll into --out to look at.

    python benchmarks/arrangement_contrast.py [--duration 60] [--genres house,rock] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.compose import compose  # noqa: E402
from pipeline.compose.contrast import quiet_and_big, section_levels_db, section_profiles  # noqa: E402
from pipeline.compose.pianoroll import save_pianoroll  # noqa: E402
from pipeline.errors import QAFailed  # noqa: E402
from pipeline.produce import ProduceOptions, produce  # noqa: E402
from pipeline.spec import Spec  # noqa: E402
from pipeline.vocabulary import GENRES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--genres", default=",".join(GENRES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "ampa-contrast")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    gaps = []
    for genre in args.genres.split(","):
        spec = Spec.from_dict({"genres": [genre], "duration_s": args.duration, "seed": args.seed})
        work = Path(tempfile.mkdtemp(prefix=f"contrast-{genre}-"))
        try:
            try:
                produce(spec, work, options=ProduceOptions())
            except QAFailed:
                pass
            report = json.loads((work / "report.json").read_text())
            resolved = Spec.from_dict(report["spec"])
            arrangement = compose(resolved)
            audio, rate = sf.read(work / "mix.wav", always_2d=True)
            levels = section_levels_db(audio.T, rate, arrangement)
            shutil.copy(work / "spectrogram.png", args.out / f"{genre}-spectrogram.png")
            save_pianoroll(arrangement, args.out / f"{genre}-pianoroll.png")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        profiles = section_profiles(arrangement)
        quiet, big = quiet_and_big(arrangement.sections)
        gap = min(levels[i] for i in big) - max(levels[i] for i in quiet) if quiet and big else float("nan")
        gaps.append(gap)
        print(f"{genre:14s} quietest big minus loudest quiet section: {gap:+5.1f} dB")
        for p, level in zip(profiles, levels):
            print(
                f"    {p.name:10s} {p.bars:3d} bars  {level:6.1f} dBFS  {len(p.stems)} stems"
                f"  {p.notes_per_bar:5.1f} notes/bar  {p.drum_hits_per_bar:5.1f} drums/bar  vel {p.mean_velocity:5.1f}"
                f"  {','.join(p.stems)}"
            )
    print(f"median gap {statistics.median(gaps):+.1f} dB, smallest {min(gaps):+.1f} dB over {len(gaps)} genres")
    print(f"pictures in {args.out}")


if __name__ == "__main__":
    main()
