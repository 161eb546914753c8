"""`ampa worker [--backends symbolic,stable-audio] [--burst]`: make queued tracks.

With REDIS_URL: an arq worker (one job at a time by default; run several with `--scale worker=N`)
that takes only the jobs of the generator backends it serves: the ones named by --backends (or
AMPA_WORKER_BACKENDS), each of which must be ready here, or else every backend that is ready here
(`ampa backends` says which and why not). A GPU box: `--backends musicgen,stable-audio-open`.
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
    parser.add_argument(
        "--backends",
        metavar="NAMES",
        help="comma-separated generator backends to serve (default: every backend ready here)",
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
    from worker.routing import parse_backends

    try:
        backends = parse_backends(args.backends or settings.worker_backends, settings)
    except ValueError as exc:
        print(f"{exc} (`ampa backends` lists what each backend needs.)", file=sys.stderr)
        return 2
    if not settings.uses_arq:
        if args.check:
            print("No REDIS_URL: the embedded worker has no health key; check the process instead.", file=sys.stderr)
            return 1
        return run_command(lambda: _embedded(settings, backends, burst=args.burst, max_jobs=args.max_jobs))

    import logging

    from arq.worker import async_check_health

    from worker.routing import queue_name
    from worker.tasks import build_worker, worker_options

    if args.check:
        import asyncio

        redis_settings = worker_options(settings)["redis_settings"]
        return asyncio.run(async_check_health(redis_settings, queue_name=queue_name(backends[0])))
    logging.getLogger("arq").setLevel(logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO)
    worker = build_worker(settings, backends=backends, burst=args.burst, max_jobs=args.max_jobs)
    try:
        worker.run()
    except (OSError, ConnectionError) as exc:
        print(f"Could not reach Redis or the database: {exc}. Check REDIS_URL / DATABASE_URL.", file=sys.stderr)
        return 1
    return 0


async def _embedded(settings, backends: list[str], *, burst: bool, max_jobs: int) -> int:
    import asyncio
    import signal

    from worker.schemas import JobStatus
    from worker.service import JobService

    settings = settings.model_copy(update={"in_process_concurrency": max_jobs, "worker_backends": ",".join(backends)})
    service = await JobService.open(settings, run_jobs=True, warm_parser=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"ampa worker (embedded, no Redis): taking {', '.join(backends)} jobs from the database.", file=sys.stderr)
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
