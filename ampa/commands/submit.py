"""`ampa submit PROMPT`: queue a track in the job system; the job id is printed alone on the last line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "submit",
        help="queue a track in the job system (prints the job id)",
        description="Queue a track. With REDIS_URL set, `ampa worker` processes make it; without, use --wait "
        "to make it in this process (or run `ampa worker`).",
    )
    parser.add_argument(
        "prompt", help='what to make, e.g. "dark atmospheric synthwave at 140 BPM in A minor, 2 minutes"'
    )
    parser.add_argument("--duration", type=float, metavar="S", help="length in seconds (overrides the prompt)")
    parser.add_argument("--seed", type=int, metavar="N", help="seed: the same seed and prompt make the same track")
    parser.add_argument("--reference", type=Path, metavar="FILE", help="a reference track (WAV, FLAC, MP3, OGG)")
    parser.add_argument(
        "--wait", action="store_true", help="follow the job until it finishes (exit 1 unless it succeeds)"
    )
    parser.add_argument("--user", default="cli", help="requester id for limits and listing (default: cli)")
    parser.add_argument(
        "--backend",
        metavar="NAME",
        help="generator backend (symbolic, stable-audio, musicgen, stable-audio-open; `ampa backends` says "
        "which are ready); default: the prompt's words, else AMPA_DEFAULT_BACKEND",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from worker.cli_support import CommandError, event_line, keep_reference, load_settings, run_command

    async def main() -> int:
        from worker.schemas import JobRequest, JobStatus
        from worker.service import JobService

        if args.duration is not None and args.duration <= 0:
            raise CommandError(f"--duration must be a positive number of seconds (got {args.duration:g}).", 2)
        settings = load_settings()
        reference = keep_reference(settings, args.reference) if args.reference else None
        service = await JobService.open(settings, run_jobs=args.wait, warm_parser=False)
        try:
            job = await service.submit(
                JobRequest(
                    prompt=args.prompt,
                    platform="cli",
                    requester_id=args.user,
                    duration_s=args.duration,
                    seed=args.seed,
                    reference_path=str(reference) if reference else None,
                    backend=args.backend,
                )
            )
            cost = f", about {job.predicted_credits:g} credits" if job.predicted_credits else ""
            print(f"Queued: {job.summary} (made with {job.backend}{cost})", file=sys.stderr)
            for note in job.notes:
                print(f"  note: {note}", file=sys.stderr)
            if not args.wait:
                if not settings.uses_arq:
                    print("No REDIS_URL: run `ampa worker` to make it (or submit with --wait).", file=sys.stderr)
                print(job.id)
                return 0
            async for event in service.events(job.id):
                print(event_line(event), file=sys.stderr)
            final = await service.get(job.id)
            assert final is not None
            if final.status == JobStatus.SUCCESS:
                for name, path in sorted(final.files.items()):
                    print(f"  {name}: {path}", file=sys.stderr)
            elif final.error:
                print(final.error, file=sys.stderr)
            print(job.id)
            return 0 if final.status == JobStatus.SUCCESS else 1
        finally:
            await service.close()

    return run_command(main)
