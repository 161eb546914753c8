"""Renderer benchmark: seconds to render 30 s, 2 min and 4 min arrangements, and peak memory.

    python benchmarks/render_bench.py [--runs 3] [--workers 2] [--voices synth|sf2|both] [--composed]
    python benchmarks/render_bench.py --composed --genre all --lengths 120   # every genre, composed
    python benchmarks/render_bench.py --gallery DIR   # one WAV + spectrogram PNG per built-in voice

Prints the median of `--runs` renders per length: wall seconds, CPU seconds (all threads: on a
machine others load, the better measure of the work), and peak memory (psutil, sampled while
rendering: RSS, and PSS with any children). The first (cold) render of each length, which reads the
SoundFont presets and their samples, is timed apart. By default the arrangement is synthetic (a busy
6-track band, ~16 notes per bar per track) so figures do not depend on the composer; with --composed,
pipeline.compose.compose writes it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Self

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.score import Arrangement, Note, Section, Track

CHORDS = ([57, 60, 64], [53, 57, 60], [48, 52, 55], [55, 59, 62])  # Am F C G


def synthetic_arrangement(seconds: float, *, voices: str = "both", tempo: float = 120.0, seed: int = 7) -> Arrangement:
    """A dense 4/4 band: 16th hats, kick/snare, 8th bass, chord stabs, a pad and a 16th-note lead."""
    bars = max(1, round(seconds / (4 * 60.0 / tempo)))
    synth = voices in ("synth", "both")
    sf2 = voices in ("sf2", "both")
    drums = Track("drums", "drums", 0, voice="edrums" if synth else "sf2", is_drum=True)
    bass = Track("bass", "synth-bass", 38, voice="analog_bass" if synth else "sf2")
    harmony = Track("harmony", "piano", 0, voice="sf2" if sf2 else "supersaw", pan=-0.2)
    pad = Track("pad", "synth-pad", 89, voice="warm_pad" if synth else "sf2")
    lead = Track("lead", "synth-lead", 80, voice="supersaw" if synth and not sf2 else "sf2", pan=0.15)
    fx = Track("fx", "strings", 48, voice="sf2" if sf2 else "square_lead")
    for bar in range(bars):
        b0 = bar * 4.0
        chord = CHORDS[bar % 4]
        for s in range(16):
            drums.notes.append(Note(b0 + s / 4, 0.1, 42, 70 + (s % 4 == 0) * 30))
        for beat in range(4):
            drums.notes.append(Note(b0 + beat, 0.2, 36 if beat % 2 == 0 else 38, 110))
        if bar % 8 == 0:
            drums.notes.append(Note(b0, 1.0, 49, 100))
        for e in range(8):
            bass.notes.append(Note(b0 + e / 2, 0.45, chord[0] - 24, 90 + (e % 2) * 10))
        for beat in range(4):
            harmony.notes.extend(Note(b0 + beat + 0.5, 0.4, p, 80) for p in chord)
        pad.notes.extend(Note(b0, 4.0, p + 12, 70) for p in chord)
        for s in range(16):
            lead.notes.append(Note(b0 + s / 4, 0.22, chord[s % 3] + 12 + 12 * (s % 2), 85))
        if bar % 2 == 0:
            fx.notes.extend(Note(b0, 8.0, p + 12, 60) for p in chord)
    return Arrangement(
        tempo_bpm=tempo,
        beats_per_bar=4,
        beat_unit=4,
        key_tonic_pc=9,
        mode="minor",
        bars=bars,
        sections=[Section("main", 0, bars, 0.7)],
        tracks=[drums, bass, harmony, pad, lead, fx],
        seed=seed,
        genre="synthwave",
    )


def composed_arrangement(seconds: float, genre: str = "synthwave") -> Arrangement:
    from pipeline.compose import compose
    from pipeline.spec import Sourced, Spec

    spec = Spec(
        genres=[Sourced[str](value=genre, source="prompt")], duration_s=Sourced[float](value=seconds, source="prompt")
    )
    return compose(spec)


def gallery(out_dir: Path) -> None:
    """Write a short demo of every built-in voice as WAV and spectrogram PNG, to look at and listen to."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import soundfile
    from scipy import signal

    from pipeline.render import VOICES, find_soundfont, render_stems

    melody = [69, 72, 76, 74, 72, 71, 69, 64]
    kit = [Note(i * 0.25, 0.1, 42, 60 + (i % 4 == 0) * 40) for i in range(32)]
    kit += [Note(b, 0.1, 36, 110) for b in range(8)] + [Note(b, 0.1, 38, 110) for b in (1, 3, 5, 7)]
    kit += [Note(9 + i * 0.5, 0.1, k, 110) for i, k in enumerate((39, 46, 42, 49, 51, 41, 45, 48, 50, 37))]
    demos = {
        "supersaw": [Note(i, 0.9, p, 60 + 8 * i) for i, p in enumerate(melody)]
        + [Note(8 + i * 2, 1.9, p, 100) for i, p in enumerate([57, 60, 64])],
        "square_lead": [Note(i, 0.9, p + 12, 100) for i, p in enumerate(melody)] + [Note(8, 4, 81, 110)],
        "analog_bass": [
            Note(i * 0.5, 0.45, (33, 33, 45, 33, 36, 36, 48, 36)[i % 8], 70 + (i % 4) * 15) for i in range(32)
        ],
        "bass_808": [Note(0, 3, 33, 110), Note(4, 1.5, 36, 110), Note(6, 2, 31, 110), Note(8, 8, 33, 127)],
        "wobble_bass": [Note(0, 4, 33, 100), Note(4, 4, 36, 120), Note(8, 8, 31, 127)],
        "warm_pad": [Note(0, 8, p, 90) for p in (57, 60, 64, 69)] + [Note(8, 8, p, 60) for p in (53, 57, 60, 65)],
        "riser": [Note(0, 6, 60, 100), Note(8, 4, 60, 127)],
        "reese_bass": [Note(0, 4, 33, 100), Note(4, 4, 36, 120), Note(8, 8, 31, 127)],
        "pwm_pad": [Note(0, 8, p, 90) for p in (57, 60, 64, 69)] + [Note(8 + i * 0.25, 0.2, p, 100) for i, p in enumerate(melody * 4)],
        "fm_epiano": [Note(i * 2, 1.8, p, 60 + 8 * i) for i, p in enumerate((57, 60, 64, 67))] + [Note(8 + i, 0.9, p, 100) for i, p in enumerate(melody)],
        "fm_bells": [Note(i, 0.9, p + 12, 90) for i, p in enumerate(melody)] + [Note(8, 4, 81, 110)],
        "edrums": kit,
        "tr808": kit,
        "tr909": kit,
        "chipdrums": kit,
        "kit_black_pearl": kit,
        "kit_red_zeppelin": kit,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    soundfont = find_soundfont()
    for name in [*VOICES, "kit_black_pearl", "kit_red_zeppelin"]:
        is_drum = name.endswith("drums") or name.startswith(("tr", "kit_"))
        track = Track("lead", "synth-lead", 0, voice=name, is_drum=is_drum, notes=demos[name])
        arrangement = Arrangement(
            tempo_bpm=120.0, beats_per_bar=4, beat_unit=4, key_tonic_pc=9, mode="minor", bars=4,
            sections=[Section("demo", 0, 4, 0.5)], tracks=[track], seed=11, genre="demo",
        )  # fmt: skip
        stem = render_stems(arrangement, soundfont=soundfont)["lead"]
        soundfile.write(out_dir / f"{name}.wav", stem.T, 44100)
        freqs, times, power = signal.spectrogram(stem.mean(axis=0), 44100, nperseg=2048, noverlap=1536)
        fig, ax = plt.subplots(figsize=(12, 5))
        ax.pcolormesh(times, freqs, 10 * np.log10(power + 1e-12), vmin=-120, vmax=-20, shading="auto")
        ax.set_yscale("symlog", linthresh=200)
        ax.set_ylim(20, 22050)
        ax.set_title(name)
        ax.set_xlabel("s")
        ax.set_ylabel("Hz")
        fig.savefig(out_dir / f"{name}.png", dpi=70)
        plt.close(fig)
        print(f"{name}: {out_dir / name}.wav/.png")


class PeakMemory:
    """Samples memory in a background thread: this process's RSS, and the proportional set size (PSS)
    of this process plus its render children (forked children share the SoundFont and the stems with
    us; PSS splits shared pages between sharers, so the sum is the real total)."""

    def __init__(self, *, pss: bool, interval: float = 0.01) -> None:
        self.pss = pss  # reading PSS (smaps) costs milliseconds: only in a run that is not timed
        self.rss = 0
        self.total_pss = 0
        self._interval = interval
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        self.rss = max(self.rss, self._proc.memory_info().rss)
        if not self.pss:
            return
        total = 0
        for proc in (self._proc, *self._proc.children()):
            try:
                total += proc.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        self.total_pss = max(self.total_pss, total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--voices", choices=("synth", "sf2", "both"), default="both")
    parser.add_argument("--lengths", default="30,120,240", help="seconds, comma-separated")
    parser.add_argument("--composed", action="store_true")
    parser.add_argument("--genre", default="synthwave", help="with --composed")
    parser.add_argument("--gallery", type=Path, help="write a WAV and spectrogram PNG per voice here, then stop")
    args = parser.parse_args()
    if args.gallery:
        gallery(args.gallery)
        return 0

    from pipeline.render import find_soundfont, render_stems
    from pipeline.vocabulary import GENRES

    soundfont = find_soundfont()
    print(f"SoundFont {soundfont.name} · voices={args.voices} workers={args.workers} runs={args.runs}")
    genres = GENRES if args.genre == "all" else [args.genre]
    for genre in genres if args.composed else ["synthetic"]:
        for seconds in (float(s) for s in args.lengths.split(",")):
            arrangement = (
                composed_arrangement(seconds, genre)
                if args.composed
                else synthetic_arrangement(seconds, voices=args.voices)
            )
            n_notes = sum(len(t.notes) for t in arrangement.tracks)
            cold = _timed(lambda: render_stems(arrangement, soundfont=soundfont, workers=args.workers, keep_soundfont=False))
            times = []
            with PeakMemory(pss=False) as memory:
                for _ in range(args.runs):
                    times.append(_timed(lambda: render_stems(arrangement, soundfont=soundfont, workers=args.workers)))
            with PeakMemory(pss=True, interval=0.05) as total:  # one more run, untimed, for the total
                render_stems(arrangement, soundfont=soundfont, workers=args.workers, keep_soundfont=False)
            wall = statistics.median(t[0] for t in times)
            cpu = statistics.median(t[1] for t in times)
            print(
                f"{genre:14s} {arrangement.duration_s:6.1f} s, {len(arrangement.tracks)} tracks, {n_notes:5d} notes: "
                f"cold {cold[0]:.2f} s (cpu {cold[1]:.2f}), warm median {wall:.2f} s (cpu {cpu:.2f}; "
                f"runs {', '.join(f'{t[0]:.2f}' for t in times)}), "
                f"peak RSS {memory.rss / 2**20:.0f} MiB, PSS {total.total_pss / 2**20:.0f} MiB",
                flush=True,
            )
    return 0


def _timed(work) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process's threads) for one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


if __name__ == "__main__":
    raise SystemExit(main())
