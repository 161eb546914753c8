"""The job system on its production parts: PostgreSQL, Redis, real arq workers.

Burst workers run in this process (the fast fake pipeline at the runner's seam); the SIGKILL case
runs real `ampa worker` processes on the real pipeline."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.worker.conftest import ARQ_MARKS, make_settings, subprocess_env, wait_for
from worker import store
from worker.schemas import JobRequest, JobStatus
from worker.service import JobService
from worker.tasks import build_worker
from tests.patience import patience

pytestmark = ARQ_MARKS


def request(n: int = 0, **kw) -> JobRequest:
    values = {
        "prompt": "chill lofi hip-hop with piano, 90 BPM, 8 seconds",
        "platform": "slack",
        "requester_id": f"u{n}",
    }
    values.update(kw)
    return JobRequest(**values)


async def run_burst(settings) -> None:
    worker = build_worker(settings, burst=True, handle_signals=False)
    try:
        await asyncio.wait_for(worker.async_run(), 60)
    finally:
        await worker.close()


async def test_arq_worker_runs_jobs_and_events_reach_another_process(arq_settings) -> None:
    async with await JobService.open(arq_settings) as service:
        jobs = [await service.submit(request(n)) for n in range(3)]
        assert await service.queue.depth() == 3
        assert [await service.queue_position(j.id) for j in jobs] == [1, 2, 3]
        watcher = asyncio.create_task(_collect(service, jobs[0].id))
        await asyncio.sleep(0)  # let the watcher subscribe (it replays what it misses anyway)
        await run_burst(arq_settings)
        events = await asyncio.wait_for(watcher, patience(20))
        for job in jobs:
            view = await service.get(job.id)
            assert view.status == JobStatus.SUCCESS and view.files
        assert events[-1].status == JobStatus.SUCCESS
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert await service.queue.depth() == 0


async def _collect(service: JobService, job_id: str) -> list:
    return [event async for event in service.events(job_id)]


async def test_enqueue_is_idempotent_on_the_job_id(arq_settings) -> None:
    async with await JobService.open(arq_settings) as service:
        job = await service.submit(request())
        await service.queue.enqueue(job.id)
        await service.queue.enqueue(job.id)
        assert await service.queue.depth() == 1


async def test_redis_emptied_the_reconciler_requeues_waiting_and_running_jobs(arq_settings) -> None:
    from worker.queue import ArqQueue
    from worker.reconciler import Reconciler

    async with await JobService.open(arq_settings) as service:
        waiting = await service.submit(request(1))
        running = await service.submit(request(2))
        # `running` was taken by a worker that then vanished: its lease runs out.
        async with service.sessions.begin() as session:
            assert await store.claim(session, job_id=running.id, owner="dead-worker", lease_s=0.2)
            await store.transition(
                session,
                job_id=running.id,
                owner="dead-worker",
                change=store.Change(JobStatus.PROCESSING, "Rendering", stage="rendering"),
            )
        await service.redis.flushdb()  # this test's Redis db only: the machine's Redis is shared
        assert await service.queue.depth() == 0
        reconciler = Reconciler(sessions=service.sessions, queue=ArqQueue(service.redis), bus=service.bus)
        await asyncio.sleep(1.1)  # past the lease and the PENDING grace period
        report = await reconciler.run_once()
        assert (report.requeued_stale, report.requeued_pending) == (1, 1)
        assert await service.queue.depth() == 2
        assert (await reconciler.run_once()).requeued_pending == 0  # nothing twice
        await run_burst(arq_settings)
        for job_id in (waiting.id, running.id):
            view = await service.get(job_id)
            assert view.status == JobStatus.SUCCESS
        history = await service.history(running.id)
        assert any("stopped" in e.message for e in history)
        assert sum(e.status == JobStatus.SUCCESS for e in history) == 1


async def test_postgres_connections_killed_the_next_operations_reconnect(arq_settings, pg_url: str) -> None:
    import asyncpg

    async with await JobService.open(arq_settings) as service:
        job = await service.submit(request())
        assert (await service.get(job.id)).status == JobStatus.PENDING
        admin = await asyncpg.connect(pg_url.replace("+asyncpg", "").rsplit("/", 1)[0] + "/postgres")
        try:
            name = pg_url.rsplit("/", 1)[1]
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
        finally:
            await admin.close()
        assert killed >= 1
        # pool_pre_ping replaces the dead pooled connections on checkout.
        assert (await service.get(job.id)).status == JobStatus.PENDING
        again = await service.submit(request(2))
        await run_burst(arq_settings)
        assert (await service.get(again.id)).status == JobStatus.SUCCESS
        assert (await service.health()) == {"database": "ok", "redis": "ok"}


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ampa.cli", "worker"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.timeout(240)
async def test_worker_killed_mid_job_another_worker_finishes_it_exactly_once(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    """Real `ampa worker` processes and the real pipeline; one is SIGKILLed while making the track."""
    env = subprocess_env(
        {
            "DATABASE_URL": pg_url,
            "REDIS_URL": redis_url,
            "AMPA_DATA_DIR": str(tmp_path / "data"),
            "AMPA_LEASE_SECONDS": "3",
            "AMPA_RECONCILE_SECONDS": "0.5",
            "AMPA_RENDER_WORKERS": "1",
        }
    )
    settings = make_settings(tmp_path, DATABASE_URL=pg_url, REDIS_URL=redis_url, AMPA_PIPELINE=None)
    workers = [_start_worker(env, tmp_path / f"worker{i}.log") for i in range(2)]
    try:
        async with await JobService.open(settings) as service:
            job = await service.submit(request(prompt="dark synthwave at 140 BPM in A minor", duration_s=12.0))

            async def holder() -> str | None:
                async with service.sessions() as session:
                    row = await store.get_job(session, job_id=job.id)
                if row.status == JobStatus.PROCESSING and row.stage in ("composing", "rendering", "mixing"):
                    return row.lease_owner
                return None

            owner = await wait_for(holder, timeout=120, interval=0.02, what="a worker making the track")
            pid = int(owner.split(":")[1])
            victim = next(w for w in workers if w.pid == pid)
            victim.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            victim.wait(patience(10))

            async def taken_over() -> bool:
                async with service.sessions() as session:
                    row = await store.get_job(session, job_id=job.id)
                return row.execution_attempt == 2 and row.lease_owner is not None

            await wait_for(taken_over, timeout=30, what="another worker to take the job")
            recovery_s = time.monotonic() - killed_at
            final = await wait_for(lambda: _terminal(service, job.id), timeout=120, what="the job to finish")
            history = await service.history(job.id)
        assert final.status == JobStatus.SUCCESS, final.error
        assert sum(e.status == JobStatus.SUCCESS for e in history) == 1
        assert any("stopped" in e.message for e in history)
        # How fast the job is taken over (lease 3 s + reconcile period + arq poll) is measured by
        # benchmarks/recovery.py; a loaded machine stretches it, so it is not asserted here.
        job_dir = tmp_path / "data" / "artifacts" / job.id
        assert sorted(p.name for p in job_dir.iterdir()) == ["2"]  # one set of artifacts
        assert all(Path(p).is_file() for p in final.files.values())
        assert Path(final.files["mix.mp3"]).stat().st_size > 10_000
        print(f"recovery after SIGKILL: {recovery_s:.1f} s")
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(patience(15))
            except subprocess.TimeoutExpired:
                w.kill()


async def _terminal(service: JobService, job_id: str):
    job = await service.get(job_id)
    return job if job is not None and job.status.is_terminal else None


def test_worker_command_refuses_bad_settings(tmp_path: Path) -> None:
    env = subprocess_env({"AMPA_DATA_DIR": str(tmp_path), "AMPA_LEASE_SECONDS": "zero"})
    out = subprocess.run(
        [sys.executable, "-m", "ampa.cli", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "AMPA_LEASE_SECONDS" in out.stderr and "Traceback" not in out.stderr
    _ = os


async def test_worker_stopped_with_sigterm_gives_its_job_back_at_once(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    """A deploy: SIGTERM makes the running job PENDING again immediately (no lease wait)."""
    hold = tmp_path / "hold"
    hold.touch()
    env = subprocess_env(
        {
            "DATABASE_URL": pg_url,
            "REDIS_URL": redis_url,
            "AMPA_DATA_DIR": str(tmp_path / "data"),
            "AMPA_PIPELINE": "tests.stand_in_pipeline",
            "AMPA_FAKE_HOLD_FILE": str(hold),
        }
    )
    settings = make_settings(tmp_path, DATABASE_URL=pg_url, REDIS_URL=redis_url)
    worker = _start_worker(env, tmp_path / "worker.log")
    try:
        async with await JobService.open(settings) as service:
            job = await service.submit(request())
            await wait_for(lambda: _at_stage(service, job.id, "rendering"), timeout=60, what="rendering")
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(patience(30)) == 0
            view = await service.get(job.id)
            assert view.status == JobStatus.PENDING
            assert (await service.history(job.id))[-1].message.startswith("Worker stopping")
            hold.unlink()
            await run_burst(settings)  # another worker takes it straight away
            assert (await service.get(job.id)).status == JobStatus.SUCCESS
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(patience(10))


async def _at_stage(service: JobService, job_id: str, stage: str) -> bool:
    job = await service.get(job_id)
    return job is not None and job.stage == stage
