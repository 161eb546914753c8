"""`ampa generate PROMPT`: make a track on this machine, no server needed."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

MAX_PROMPT_CHARS = 4000


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="make a mastered track with stems and MIDI from a prompt (offline)",
        description="Make a mastered track (mix.wav, mix.mp3, stems, song.mid, spectrogram.png, report.json).",
    )
    parser.add_argument("prompt", help='what to make, e.g. "dark atmospheric synthwave at 140 BPM in A minor, 2 minutes"')
    parser.add_argument("--duration", type=float, metavar="S", help="length in seconds (overrides the prompt)")
    parser.add_argument("--seed", type=int, metavar="N", help="seed: the same seed and prompt make the same track")
    parser.add_argument("--reference", type=Path, metavar="FILE", help="a reference track (WAV, FLAC, MP3, OGG)")
    parser.add_argument(
        "--match-reference",
        action="store_true",
        help="master to the reference's loudness and tonal balance (also: 'match the reference' in the prompt)",
    )
    parser.add_argument(
        "--align-to-reference",
        action="store_true",
        help="start bar 1 on the reference's first downbeat, after a lead-in of silence",
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: ./ampa-output/<time>)")
    parser.add_argument(
        "--backend",
        metavar="NAME",
        help="generator: symbolic (default, offline), stable-audio, musicgen, stable-audio-open "
        "(`ampa backends` lists which are ready here)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True)
    prompt = (args.prompt or "").strip()
    if not prompt:
        console.print("[red]The prompt is empty.[/] Describe the track, e.g. ampa generate \"chill lofi beat, 85 BPM, 1 minute\"")
        return 2
    if args.reference is not None and not args.reference.is_file():
        console.print(f"[red]Reference file not found:[/] {args.reference}. Give the path of a WAV, FLAC, MP3 or OGG file.")
        return 2
    if args.duration is not None and args.duration <= 0:
        console.print(f"[red]--duration must be a positive number of seconds[/] (got {args.duration:g}).")
        return 2
    from pipeline.backends.registry import BACKEND_NAMES
    from pipeline.errors import PipelineError
    from pipeline.produce import ProduceOptions, produce
    from pipeline.spec import Sourced
    from worker.cli_support import load_settings
    from worker.settings import backend_config

    if args.backend is not None and args.backend not in BACKEND_NAMES:
        console.print(f"[red]Unknown backend {args.backend!r}.[/] Choose one of: {', '.join(BACKEND_NAMES)}.")
        return 2
    settings = load_settings()
    notes: list[str] = []
    if len(prompt) > MAX_PROMPT_CHARS:
        notes.append(f"the prompt was {len(prompt)} characters; only the first {MAX_PROMPT_CHARS} were read")
        prompt = prompt[:MAX_PROMPT_CHARS]

    spec, parse_notes, is_music = _parse(prompt)
    notes += parse_notes
    if not is_music:
        console.print(
            "[red]That doesn't sound like a request for music.[/] Describe a track: a genre, a mood, "
            'maybe a tempo or key — e.g. "dreamy ambient with soft pads, 70 BPM".'
        )
        if parse_notes:  # the parser's answer to a question ("how do I download the stems?")
            console.print(parse_notes[0])
        return 2
    updates: dict[str, Any] = {}
    if args.duration is not None:
        updates["duration_s"] = Sourced[float](value=args.duration, source="prompt").model_dump()
    if args.seed is not None:
        updates["seed"] = Sourced[int](value=args.seed, source="prompt").model_dump()
    updates.update(_reference_switches(prompt, args))
    if args.backend is not None:
        updates["backend"] = args.backend  # the flag wins over words in the prompt
    elif spec.backend == "symbolic" and settings.default_backend != "symbolic":
        updates["backend"] = settings.default_backend
    if notes:
        updates["notes"] = list(spec.notes) + notes
    if updates:
        spec = spec.with_updates(**updates)

    out_dir = args.out or Path("ampa-output") / time.strftime("%Y%m%d-%H%M%S")
    options = ProduceOptions(
        soundfont=settings.soundfont,
        max_qa_retries=settings.max_qa_retries,
        loudness_lufs=settings.loudness_target_lufs,
        ceiling_dbtp=settings.true_peak_ceiling_dbtp,
        render_workers=settings.render_workers,
        keep_soundfont=settings.keep_soundfont_loaded,
        scratch_dir=settings.scratch_dir,
        backends=backend_config(settings),
    )
    hooks = _TerminalProgress(console, quiet=args.quiet)
    try:
        with hooks:
            result = produce(spec, out_dir, options=options, hooks=hooks, reference=args.reference, seed_text=prompt)
    except PipelineError as exc:
        console.print(f"[red]Could not make the track:[/] {exc.user_message}")
        if (out_dir / "report.json").exists():
            console.print(f"Details: {out_dir / 'report.json'}")
        # Each generator failure has its own code (pipeline.backends.stability: 21 key rejected, 22 out
        # of credits, 23 flagged, 24 request rejected, 25 rate-limited, 26 unavailable); others 1.
        return getattr(exc, "exit_code", 1)
    except OSError as exc:  # the output folder: unwritable, or the disk is full
        where = exc.filename or out_dir
        console.print(
            f"[red]Could not write the files:[/] {exc.strerror or exc} ({where}). "
            "Choose another folder with --out, or free some disk space."
        )
        return 1

    console.print(f"[bold green]Done[/] — {result.spec.summary()}")
    console.print(f"QA passed on attempt {result.attempts} · total {result.timings.get('total', 0):.1f} s")
    for note in result.notes:
        console.print(f"[yellow]Note:[/] {note}")
    for name in ("mix.wav", "mix.mp3", "song.mid", "spectrogram.png", "pianoroll.png", "stems.zip", "report.json"):
        if name in result.files:
            console.print(f"  {name:16} {result.files[name]}")
    print(json.dumps({"out_dir": str(out_dir), "seed": result.spec.seed.value if result.spec.seed else None}))
    return 0


def _reference_switches(prompt: str, args: argparse.Namespace) -> dict[str, Any]:
    """"match the reference" / "line it up with the reference", from the flags or the prompt's words."""
    from pipeline.reference import wants_alignment, wants_match
    from pipeline.spec import Sourced

    switches: dict[str, Any] = {}
    if args.match_reference or wants_match(prompt):
        switches["match_reference"] = Sourced[bool](value=True, source="prompt").model_dump()
    if getattr(args, "align_to_reference", False) or wants_alignment(prompt):
        switches["align_to_reference"] = Sourced[bool](value=True, source="prompt").model_dump()
    return switches


def _parse(prompt: str) -> tuple[Any, list[str], bool]:
    """Parse with the prompt-understanding package."""
    from pipeline.understanding import parse_prompt

    parsed = parse_prompt(prompt)
    return parsed.spec, [] if parsed.is_music_request else [parsed.reply], parsed.is_music_request


class _TerminalProgress:
    """Shows each stage on the terminal as the pipeline reaches it."""

    def __init__(self, console: Any, *, quiet: bool) -> None:
        self.console = console
        self.quiet = quiet or not console.is_terminal
        self._status: Any = None
        self._started = time.perf_counter()

    def __enter__(self) -> _TerminalProgress:
        if not self.quiet:
            self._status = self.console.status("starting…")
            self._status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)

    def on_stage(self, stage: str, attempt: int) -> None:
        elapsed = time.perf_counter() - self._started
        label = f"{stage}" + (f" (attempt {attempt})" if attempt > 1 else "")
        if self._status is not None:
            self._status.update(f"{label}…")
        else:
            print(f"[{elapsed:5.1f}s] {label}", file=sys.stderr)

    def on_qa(self, report: dict[str, Any], attempt: int, actions: list[str]) -> None:
        if report.get("passed"):
            self.console.print(f"QA attempt {attempt}: passed")
        else:
            failures = "; ".join(report.get("failures") or [])
            fix = f" → fixing: {', '.join(actions)}" if actions else ""
            self.console.print(f"[yellow]QA attempt {attempt}: {failures}{fix}[/]")

    def is_cancelled(self) -> bool:
        return False
