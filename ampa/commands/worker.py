"""`ampa worker [--burst]`: make queued tracks.

With REDIS_URL: an arq worker (one job at a time by default; run several with `--scale worker=N`).
Without: an embedded worker that takes PENDING jobs from the database (SQLite by default), so
`ampa submit` + `ampa worker` work on a laptop with no Redis.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="make queued tracks (arq worker on Redis, or embedded)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--max-jobs", type=int, default=1, metavar="N", help="jobs at once in this process (default 1)")
    parser.add_argument("--check", action="store_true", help="health check: exit 0 if a worker reported in recently")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from worker.cli_support import load_settings, run_command

    settings = load_settings()
    if args.max_jobs < 1:
        print("--max-jobs must be at least 1.", file=sys.stderr)
        return 2
    if not settings.uses_arq:
        if args.check:
            print("No REDIS_URL: the embedded worker has no health key; check the process instead.", file=sys.stderr)
            return 1
        return run_command(lambda: _embedded(settings, burst=args.burst, max_jobs=args.max_jobs))

    import logging

    from arq.worker import async_check_health

    from worker.tasks import build_worker, worker_options

    if args.check:
        import asyncio

        return asyncio.run(async_check_health(worker_options(settings)["redis_settings"]))
    logging.getLogger("arq").setLevel(logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO)
    worker = build_worker(settings, burst=args.burst, max_jobs=args.max_jobs)
    try:
        worker.run()
    except (OSError, ConnectionError) as exc:
        print(f"Could not reach Redis or the database: {exc}. Check REDIS_URL / DATABASE_URL.", file=sys.stderr)
        return 1
    return 0


async def _embedded(settings, *, burst: bool, max_jobs: int) -> int:
    import asyncio
    import signal

    from worker.schemas import JobStatus
    from worker.service import JobService

    settings = settings.model_copy(update={"in_process_concurrency": max_jobs})
    service = await JobService.open(settings, run_jobs=True, warm_parser=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("ampa worker (embedded, no Redis): taking jobs from the database.", file=sys.stderr)
    try:
        if burst:
            assert service.reconciler is not None
            while not stop.is_set():
                await service.reconciler.run_once()
                waiting = await service.list_jobs(statuses=[JobStatus.PENDING], limit=1)
                if not waiting and await service.queue.idle():  # type: ignore[union-attr]
                    break
                await asyncio.sleep(0.5)
        else:
            await stop.wait()
    finally:
        await service.close()
    return 0
