"""Recovery after SIGKILL: how long until another worker takes over a job whose worker was killed
mid-job, with the default lease (15 s) and reconcile period (5 s).

    python benchmarks/recovery.py [--runs 3] [--duration 20] [--backend stable-audio]

Two real `ampa worker` processes, the real pipeline, PostgreSQL + Redis. Each run submits one track,
waits until a worker is composing/rendering/mixing it, SIGKILLs that worker, starts a replacement
(so two workers are up again), and measures kill → picked up by the other worker, and kill → SUCCESS.
Checks exactly one SUCCESS and one artifact folder per job. Prints the median over the runs.

`--backend stable-audio`: the workers serve only stable-audio, against a local stand-in for
Stability's API (tests/stability_server.py) that holds each run's first request unanswered; the
worker is killed while that request is in flight, and the run also counts the requests the API
received for the job (the one in flight, and one more: no other charge).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import create_database, drop_database, flush_redis, start_workers, stop_workers, worker_env


async def one_run(
    service, workers, env, folder: Path, duration: float, stand_in=None
) -> tuple[float, float, float, int | None]:
    from worker import store
    from worker.schemas import JobRequest, JobStatus

    arrivals_before = stand_in.arrivals if stand_in else 0
    if stand_in:
        stand_in.arm()
    job = await service.submit(
        JobRequest(
            prompt=f"dark synthwave at 140 BPM in A minor, {duration:g} seconds",
            platform="cli",
            requester_id=f"bench{time.time_ns()}",
            backend="stable-audio" if stand_in else None,
        )
    )
    submitted = time.monotonic()
    if stand_in:
        await asyncio.to_thread(stand_in.held.wait, 300)  # the request is in flight
    while True:
        async with service.sessions() as session:
            row = await store.get_job(session, job_id=job.id)
        busy = row.stage in ("composing", "rendering", "mixing") or stand_in is not None
        if row.status == JobStatus.PROCESSING and busy and row.lease_owner:
            break
        await asyncio.sleep(0.02)
    pid = int(row.lease_owner.split(":")[1])
    victim = next(w for w in workers if w[0].pid == pid)
    victim[0].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    victim[0].wait(10)
    if stand_in:
        stand_in.release()  # its worker is gone: the answer goes nowhere
    workers.remove(victim)
    workers.extend(start_workers(1, env, folder / f"replacement{time.time_ns()}"))
    taken = None
    while True:
        async with service.sessions() as session:
            row = await store.get_job(session, job_id=job.id)
        if taken is None and row.execution_attempt >= 2 and row.lease_owner:
            taken = time.monotonic() - killed
        if JobStatus(row.status).is_terminal:
            break
        await asyncio.sleep(0.05)
    done = time.monotonic() - killed
    history = await service.history(job.id)
    assert row.status == JobStatus.SUCCESS, row.error
    assert sum(e.status == JobStatus.SUCCESS for e in history) == 1
    folders = list((Path(service.settings.resolved_artifacts_dir) / job.id).iterdir())
    assert len(folders) == 1, folders
    requests = stand_in.arrivals - arrivals_before if stand_in else None
    return killed - submitted, taken or float("nan"), done, requests


async def run(args: argparse.Namespace, db_url: str) -> int:
    from worker.service import JobService
    from worker.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="ampa-recovery-"))
    await flush_redis(args.redis_url)
    values = {
        "DATABASE_URL": db_url,
        "REDIS_URL": args.redis_url,
        "AMPA_DATA_DIR": str(data_dir),
        "AMPA_RENDER_WORKERS": "1",
    }
    stand_in = None
    if args.backend == "stable-audio":
        from tests.worker.stability_hold import HoldingStandIn

        stand_in = HoldingStandIn("sk-benchmark-key").start()
        values.update(
            STABILITY_API_KEY="sk-benchmark-key", STABILITY_API_URL=stand_in.url, AMPA_WORKER_BACKENDS="stable-audio"
        )
    env = worker_env(**values)
    settings = Settings(_env_file=None, **values)
    workers = start_workers(2, env, data_dir / "workers")
    results = []
    try:
        async with await JobService.open(settings) as service:
            for i in range(args.runs):
                killed_after, taken, done, requests = await one_run(
                    service, workers, env, data_dir / "workers", args.duration, stand_in
                )
                results.append((taken, done))
                said = f"; the API received {requests} requests" if requests is not None else ""
                print(
                    f"  run {i + 1}: killed {killed_after:.1f} s after submit; picked up again after {taken:.1f} s; "
                    f"SUCCESS {done:.1f} s after the kill{said}"
                )
    finally:
        stop_workers(workers)
        if stand_in:
            stand_in.release()
            stand_in.stop()
    print(
        f"recovery after SIGKILL (lease {settings.lease_s:g} s, reconcile every {settings.reconcile_every_s:g} s, "
        f"{args.duration:g} s tracks, real pipeline, {args.backend}, {args.runs} runs):"
    )
    print(
        f"  kill → another worker has the job: median {statistics.median(r[0] for r in results):.1f} s "
        f"(max {max(r[0] for r in results):.1f} s; bound lease + period + poll ≈ "
        f"{settings.lease_s + settings.reconcile_every_s + 0.1:.1f} s)"
    )
    print(f"  kill → SUCCESS: median {statistics.median(r[1] for r in results):.1f} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--backend", choices=("symbolic", "stable-audio"), default="symbolic")
    args = parser.parse_args()
    db_url = create_database("ampa_recovery")
    try:
        return asyncio.run(run(args, db_url))
    finally:
        drop_database(db_url)


if __name__ == "__main__":
    sys.exit(main())
