"""Load: N jobs submitted at once against W `ampa worker` processes on PostgreSQL + Redis.

    python benchmarks/load.py                 # 200 jobs, fast fake pipeline (measures the job system)
    python benchmarks/load.py --real --jobs 20 --duration 10  # the real pipeline, 10-second tracks

Checks that every job ends SUCCESS exactly once (one SUCCESS history row, one artifact folder) and
prints throughput (jobs/min), queue latency p50/p95 (created → picked up), end-to-end p50/p95, and
SQL round trips per job (every statement, submitter + workers, counted with SQLAlchemy's
before_cursor_execute; the workers' reconciler passes are included).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import (
    count_round_trips,
    create_database,
    drop_database,
    flush_redis,
    percentile,
    start_workers,
    stop_workers,
    worker_env,
)

PROMPTS = [
    "dark atmospheric synthwave at 140 BPM in A minor",
    "chill lofi hip-hop with piano, 85 BPM",
    "uplifting house, 124 BPM",
    "melancholic piano ballad in E minor",
    "energetic drum and bass, 174 BPM",
]


async def run(args: argparse.Namespace, db_url: str) -> int:
    from sqlalchemy import func, select

    from worker.models import Job, JobEventRow
    from worker.schemas import JobRequest, JobStatus
    from worker.service import JobService
    from worker.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="ampa-load-"))
    await flush_redis(args.redis_url)
    values = {
        "DATABASE_URL": db_url,
        "REDIS_URL": args.redis_url,
        "AMPA_DATA_DIR": str(data_dir),
        "AMPA_QUEUE_DEPTH_CAP": str(args.jobs + 10),
        "AMPA_RENDER_WORKERS": "1",
    }
    if not args.real:
        values.update({"AMPA_PIPELINE": "tests.stand_in_pipeline", "AMPA_FAKE_STAGE_S": str(args.stage_s)})
    workers = start_workers(args.workers, worker_env(**values), data_dir / "workers")
    counter = count_round_trips()
    settings = Settings(_env_file=None, **values)
    try:
        async with await JobService.open(settings) as service:
            from worker.service import _parse_prompt

            await asyncio.to_thread(_parse_prompt, "warm up the prompt parser")  # not part of the figures
            counter[0] = 0
            started = time.perf_counter()
            requests = [
                JobRequest(
                    prompt=f"{PROMPTS[i % len(PROMPTS)]}, {args.duration:g} seconds",
                    platform="api",
                    requester_id=f"user{i}",
                    client_ref=f"load-{i}",
                )
                for i in range(args.jobs)
            ]
            jobs = await asyncio.gather(*(service.submit(r) for r in requests))
            submit_s = time.perf_counter() - started
            submitter_trips = counter[0]  # the polling below is the benchmark's, not the job system's
            ids = [job.id for job in jobs]
            assert len(set(ids)) == args.jobs, "duplicate job ids"
            deadline = time.monotonic() + args.timeout
            while True:
                async with service.sessions() as session:
                    done = (
                        await session.execute(
                            select(func.count())
                            .select_from(Job)
                            .where(Job.status.in_(["SUCCESS", "FAILED", "CANCELLED"]))
                        )
                    ).scalar_one()
                if done >= args.jobs:
                    break
                if time.monotonic() > deadline:
                    print(f"TIMEOUT: {done}/{args.jobs} finished after {args.timeout} s", file=sys.stderr)
                    return 1
                await asyncio.sleep(0.5)
            wall_s = time.perf_counter() - started
            async with service.sessions() as session:
                rows = (await session.execute(select(Job))).scalars().all()
                success_rows = dict(
                    (
                        await session.execute(
                            select(JobEventRow.job_id, func.count())
                            .where(JobEventRow.status == "SUCCESS")
                            .group_by(JobEventRow.job_id)
                        )
                    ).all()
                )
    finally:
        worker_trips = stop_workers(workers)
    statuses = {row.status for row in rows}
    failures = collections.Counter(row.error for row in rows if row.status != JobStatus.SUCCESS.value)
    exactly_once = all(success_rows.get(row.id) == 1 for row in rows)
    one_folder = all(len(list((data_dir / "artifacts" / row.id).iterdir())) == 1 for row in rows)
    queue_latency = [(row.started_at - row.created_at).total_seconds() for row in rows]
    end_to_end = [(row.finished_at - row.created_at).total_seconds() for row in rows]
    first, last = min(r.created_at for r in rows), max(r.finished_at for r in rows)
    span_s = (last - first).total_seconds()
    mode = "fake pipeline" if not args.real else f"real pipeline, {args.duration:g} s tracks"
    print(f"load: {args.jobs} jobs, {args.workers} workers, PostgreSQL + Redis, {mode}")
    print(f"  all SUCCESS: {statuses == {JobStatus.SUCCESS.value}} ({len(rows)} rows, statuses {sorted(statuses)})")
    print(f"  exactly one SUCCESS event per job: {exactly_once}; one artifact folder per job: {one_folder}")
    print(f"  submit {args.jobs} concurrently: {submit_s:.2f} s")
    print(
        f"  throughput: {args.jobs / span_s * 60:.1f} jobs/min (first submit → last finish {span_s:.1f} s; wall {wall_s:.1f} s)"
    )
    print(f"  queue latency p50 {percentile(queue_latency, 50):.2f} s, p95 {percentile(queue_latency, 95):.2f} s")
    print(f"  end-to-end p50 {percentile(end_to_end, 50):.2f} s, p95 {percentile(end_to_end, 95):.2f} s")
    print(
        f"  SQL round trips per job: {(submitter_trips + worker_trips) / args.jobs:.1f} "
        f"(submit side {submitter_trips / args.jobs:.1f}, workers {worker_trips / args.jobs:.1f})"
    )
    for reason, n in failures.most_common(5):
        print(f"  FAILED x{n}: {reason}")
    print(f"  mean execution attempts: {statistics.mean(r.execution_attempt for r in rows):.2f}")
    return 0 if statuses == {JobStatus.SUCCESS.value} and exactly_once and one_folder else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--real", action="store_true", help="the real pipeline instead of the fast fake")
    parser.add_argument("--duration", type=float, default=5.0, help="track length in seconds")
    parser.add_argument("--stage-s", type=float, default=0.01, help="fake pipeline: seconds per stage")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    db_url = create_database("ampa_load")
    try:
        return asyncio.run(run(args, db_url))
    finally:
        drop_database(db_url)


if __name__ == "__main__":
    sys.exit(main())
