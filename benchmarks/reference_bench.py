"""How well ampa hears a reference: tempo, key, section boundaries and chords, on references with known truth.

    python benchmarks/reference_bench.py [--renders DIR] [--no-renders] [--quick]

Two sets, both made here:
- synthetic (tests/pipeline/reference_fixtures.py): drum grooves in six feels (rock, four-on-the-floor,
  funk 16ths, swung jazz ride, half-time, bossa) at six tempi; chord loops in eight keys (pads, stabs,
  arpeggios; with and without drums); pieces of six sections with their own progressions; and
  beatless material (rubato piano, a drone, white noise, speech-like babble) whose tempo must be refused;
- ampa's own renders of several genres at 45 s (`python -m ampa generate` at fixed seeds, cached in
  --renders), whose truth (tempo, key, sections, chords) is the arrangement recomposed from report.json.

Figures: tempo taken and right (within 2 %, or a half/double reading that the analysis states), key
right, section boundaries found within one bar (recall; precision also printed), chords right per bar
(a detected bar is right when its triad is the chord sounding at the bar's middle; for ampa's renders,
when its three notes are among the chord's, so an A minor heard in an Am7 counts), beatless refused.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.reference import analyse_audio  # noqa: E402
from pipeline.reference.chords import CHORDS, _INTERVALS  # noqa: E402
from pipeline.vocabulary import TONICS  # noqa: E402
from tests.pipeline import reference_fixtures as F  # noqa: E402

SR = F.SR
RENDERS = (  # genre prompt, seed: steady drums at 84-140 BPM, several feels
    ("jazz trio at 96 BPM in F major, 45 seconds", 11),
    ("funk groove at 108 BPM in E minor, 45 seconds", 12),
    ("house at 124 BPM in A minor, 45 seconds", 13),
    ("rock at 132 BPM in D major, 45 seconds", 14),
    ("lofi hip hop at 84 BPM in C minor, 45 seconds", 15),
    ("synthwave at 110 BPM in F# minor, 45 seconds", 16),
)


def tempo_right(found: float, truth: float, alternatives: tuple[float, ...]) -> tuple[bool, bool]:
    """(exactly right within 2 %, right as a stated half/double reading)."""
    exact = abs(found / truth - 1) <= 0.02
    relative = any(abs(found * r / truth - 1) <= 0.02 for r in (0.5, 2.0))
    return exact, exact or relative


def tally_tempo(tally: Tally, kind: str, grid, bpm: float) -> bool:
    """Count taken / right / right-or-stated for one reference; True when exactly right."""
    taken = grid is not None and grid.steady
    exact, stated = tempo_right(grid.bpm, bpm, grid.alternatives) if taken else (False, False)
    tally.add(f"{kind}: tempo taken", taken)
    tally.add(f"{kind}: tempo right (2 %)", exact)
    tally.add(f"{kind}: tempo right or stated half/double", stated)
    return exact


def chords_per_bar(ref, truth_at, bar_offset_s: float = 0.0) -> tuple[int, int]:
    """(right, total) over detected bars; truth_at(t) says whether a chord name is right at time t."""
    grid = ref.grid
    right = total = 0
    for i, name in enumerate(ref.chords):
        middle = grid.first_downbeat_s + (i + 0.5) * grid.bar_s - bar_offset_s
        verdict = truth_at(middle, name)
        if verdict is None:
            continue
        total += 1
        right += bool(verdict)
    return right, total


def boundaries_found(ref, truth_bars: list[int], bar_s: float, offset_s: float = 0.0) -> tuple[int, int, int]:
    """(truth boundaries matched within one bar, truth boundaries, detected boundaries)."""
    grid = ref.grid
    found_s = [grid.first_downbeat_s + s.start_bar * grid.bar_s for s in ref.sections[1:]]
    truth_s = [offset_s + b * bar_s for b in truth_bars]
    matched = sum(any(abs(f - t) <= bar_s * 1.0 + 1e-6 for f in found_s) for t in truth_s)
    return matched, len(truth_s), len(found_s)


class Tally:
    def __init__(self) -> None:
        self.rows: dict[str, list[float]] = {}

    def add(self, name: str, right: float, total: float = 1) -> None:
        row = self.rows.setdefault(name, [0.0, 0.0])
        row[0] += right
        row[1] += total

    def line(self, name: str) -> str:
        right, total = self.rows.get(name, [0, 0])
        share = f"{100 * right / total:.0f} %" if total else "—"
        return f"{name:44} {int(right):4d} / {int(total):<4d} {share:>6}"


def synthetic(tally: Tally, quick: bool) -> None:
    feels = ("rock", "four", "funk", "swing", "halftime", "bossa")
    tempi = (72, 96, 108, 128, 150, 174) if not quick else (96, 128)
    for feel in feels:
        for bpm in tempi:
            audio, truth = F.groove(bpm, 20, feel, lead_s=0.25, seed=bpm)
            ref = analyse_audio(audio, SR)
            grid = ref.grid
            if tally_tempo(tally, "grooves", grid, bpm):
                phase = ((grid.first_downbeat_s - 0.25) / grid.bar_s) % 1.0
                tally.add("grooves: downbeat within 1/8 beat (mod bar)", min(phase, 1 - phase) * 4 <= 0.125)
    for name, audio in (
        ("rubato piano", F.rubato_piano(20)),
        ("drone", F.drone(20)),
        ("white noise", F.white_noise(20)),
        ("speech-like", F.speech_like(20)),
        ("speech-like 2", F.speech_like(20, seed=7)),
    ):
        ref = analyse_audio(audio, SR)
        tally.add("beatless: tempo refused", not (ref.grid and ref.grid.steady))
    loops = (
        ("A", "minor", (1, 6, 3, 7), 100, "rock", "pad"),
        ("C", "major", (1, 5, 6, 4), 120, "four", "stabs"),
        ("Eb", "major", (1, 4, 5, 1), 90, "swing", "arp"),
        ("F#", "minor", (1, 4, 5, 1), 140, None, "pad"),
        ("D", "minor", (1, 7, 6, 7), 128, "funk", "stabs"),
        ("Bb", "major", (2, 5, 1, 6), 96, "bossa", "arp"),
        ("G", "major", (1, 4, 1, 5), 110, "rock", "pad"),
        ("C#", "minor", (1, 6, 7, 1), 84, "halftime", "stabs"),
    )
    for tonic, mode, degrees, bpm, feel, style in loops[: 3 if quick else None]:
        audio, truth = F.chord_loop(tonic, mode, degrees, bpm, 12, drums_feel=feel, style=style)
        ref = analyse_audio(audio, SR)
        tally.add("loops: key right", ref.key == truth["key"])
        if ref.grid and ref.grid.steady:
            bar_s = 240.0 / bpm
            right, total = chords_per_bar(
                ref,
                lambda t, n: truth["chords"][int(t // bar_s)] == n if 0 <= t < bar_s * len(truth["chords"]) else None,
            )
            tally.add("loops: chords right per bar", right, total)
            tally.add("loops: loop right", ref.loop == truth["loop"] or _rotation(ref.loop, truth["loop"]))
    for tonic, mode, bpm in (("A", "minor", 120), ("E", "major", 140), ("C", "minor", 100), ("G", "major", 90))[
        : 1 if quick else None
    ]:
        audio, truth = F.piece(tonic, mode, bpm)
        ref = analyse_audio(audio, SR)
        bar_s = 240.0 / bpm
        tally.add("pieces: key right", ref.key == truth["key"])
        if ref.grid and ref.grid.steady:
            matched, count, found = boundaries_found(ref, truth["boundaries"], bar_s)
            tally.add("pieces: boundaries within one bar (recall)", matched, count)
            tally.add("pieces: detected boundaries that are real", min(matched, found), found)
            right, total = chords_per_bar(
                ref,
                lambda t, n: truth["chords"][int(t // bar_s)] == n if 0 <= t < bar_s * len(truth["chords"]) else None,
            )
            tally.add("pieces: chords right per bar", right, total)


def _rotation(a: list[str], b: list[str]) -> bool:
    return len(a) == len(b) and any(a == b[i:] + b[:i] for i in range(len(b)))


def render(prompt: str, seed: int, folder: Path) -> Path:
    out = folder / f"seed{seed}"
    if not (out / "mix.wav").exists():
        subprocess.run(
            [sys.executable, "-m", "ampa", "generate", prompt, "--seed", str(seed), "--out", str(out), "--quiet"],
            cwd=REPO,
            check=True,
            capture_output=True,
            timeout=900,
            env={**__import__("os").environ, "PYTHONPATH": str(REPO)},
        )
    return out


def renders(tally: Tally, folder: Path) -> list[str]:
    import soundfile

    from pipeline.compose import compose
    from pipeline.spec import Spec

    lines = []
    for prompt, seed in RENDERS:
        out = render(prompt, seed, folder)
        spec = Spec.from_dict(json.loads((out / "report.json").read_text())["spec"])
        arrangement = compose(spec)
        audio, sr = soundfile.read(out / "mix.wav", dtype="float32", always_2d=True)
        started = time.perf_counter()
        ref = analyse_audio(audio.T, sr, genre=spec.genre)
        seconds = time.perf_counter() - started
        bpm = float(spec.tempo_bpm.value)
        grid = ref.grid
        exact = tally_tempo(tally, "renders", grid, bpm)
        key_truth = spec.key.value
        from pipeline.qa.key import MODE_FAMILY

        tonic, mode = key_truth.split()
        tally.add("renders: key right", ref.key == f"{tonic} {MODE_FAMILY.get(mode, mode)}")
        bar_s = arrangement.bar_seconds
        truth_bars = [s.start_bar for s in arrangement.sections[1:]]
        if exact:
            matched, count, found = boundaries_found(ref, truth_bars, bar_s)
            tally.add("renders: boundaries within one bar (recall)", matched, count)
            tally.add("renders: detected boundaries that are real", min(matched, found), found)
            right, total = chords_per_bar(ref, _arrangement_truth(arrangement))
            tally.add("renders: chords right per bar", right, total)
        lines.append(
            f"  {spec.genre:12} {bpm:5.0f} BPM {key_truth:9} → {grid.bpm:6.1f} ({grid.confidence:.2f}) {ref.key:9} "
            f"sections {[s.start_bar for s in ref.sections[1:]]} vs {truth_bars} loop {' '.join(ref.loop)} · {seconds:.1f} s"
        )
    return lines


def _arrangement_truth(arrangement):
    beat_s = 60.0 / arrangement.tempo_bpm
    starts = [start * beat_s for start, _ in arrangement.chords]
    sets = [{p % 12 for p in pitches} for _, pitches in arrangement.chords]

    def right(t: float, name: str):
        index = int(np.searchsorted(starts, t, side="right")) - 1
        if index < 0 or index >= len(sets) or not sets[index]:
            return None
        root, quality = name.split(":")
        triad = {(TONICS.index(root) + i) % 12 for i in _INTERVALS[quality]}
        return triad <= sets[index]

    return right


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--renders", type=Path, default=Path("/tmp/ampa-reference-bench"), help="where ampa's renders are cached"
    )
    parser.add_argument("--no-renders", action="store_true", help="synthetic references only")
    parser.add_argument("--quick", action="store_true", help="a few of each synthetic kind")
    args = parser.parse_args()
    tally = Tally()
    started = time.perf_counter()
    synthetic(tally, args.quick)
    lines = [] if args.no_renders else renders(tally, args.renders)
    print(f"reference analysis ({len(CHORDS)} chord classes), {time.perf_counter() - started:.0f} s")
    for name in tally.rows:
        print(tally.line(name))
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
