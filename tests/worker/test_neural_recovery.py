"""A worker killed while its request to Stability's API is in flight: another worker makes the
track, with one more request and no other (no duplicate charge beyond the one in flight), and one
result. Real `ampa worker --backends stable-audio` processes, the real pipeline, PostgreSQL, Redis,
and a local stand-in for the API that counts what it received."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.worker.conftest import make_settings, subprocess_env, wait_for
from tests.worker.stability_hold import HoldingStandIn
from worker import store
from worker.schemas import JobRequest, JobStatus
from worker.service import JobService

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(240)]
KEY = "sk-standin-5ecret-recovery-0b7d"


async def test_worker_killed_mid_request_costs_no_second_extra_request_and_one_result(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    server = HoldingStandIn(KEY).start()
    server.arm()  # the first request is held: its worker dies waiting for the answer
    env = subprocess_env(
        {
            "DATABASE_URL": pg_url,
            "REDIS_URL": redis_url,
            "AMPA_DATA_DIR": str(tmp_path / "data"),
            "AMPA_LEASE_SECONDS": "3",
            "AMPA_RECONCILE_SECONDS": "0.5",
            "AMPA_RENDER_WORKERS": "1",
            "STABILITY_API_KEY": KEY,
            "STABILITY_API_URL": server.url,
            "AMPA_STABILITY_MODE": "text",
        }
    )
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "ampa.cli", "-v", "worker", "--backends", "stable-audio"],
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for log in logs
    ]
    settings = make_settings(tmp_path, DATABASE_URL=pg_url, REDIS_URL=redis_url, AMPA_PIPELINE=None)
    try:
        async with await JobService.open(settings) as service:
            job = await service.submit(
                JobRequest(
                    prompt="dark techno at 128 BPM in F minor, 8 seconds",
                    platform="api",
                    requester_id="ann",
                    backend="stable-audio",
                )
            )
            assert await asyncio.to_thread(server.held.wait, 180), "no request reached the stand-in"
            async with service.sessions() as session:
                owner = (await store.get_job(session, job_id=job.id)).lease_owner
            victim = next(w for w in workers if w.pid == int(owner.split(":")[1]))
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)

            async def finished():
                view = await service.get(job.id)
                return view if view.status.is_terminal else None

            final = await wait_for(finished, timeout=180, what="another worker to finish the job")
            history = await service.history(job.id)
        assert final.status == JobStatus.SUCCESS, final.error
        assert server.arrivals == 2  # the one in flight when the worker died, and one more
        assert final.charged_credits == 20  # the answer that made the track
        assert sum(e.status == JobStatus.SUCCESS for e in history) == 1
        assert [p.name for p in (tmp_path / "data" / "artifacts" / job.id).iterdir()] == ["2"]
        assert all(KEY not in log.read_text(errors="replace") for log in logs)  # -v: debug logs too
    finally:
        server.release()
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(15)
            except subprocess.TimeoutExpired:
                w.kill()
        server.stop()
