"""A worker killed while its request to Stability's API is in flight: another worker makes the
track, with one more request and no other (no duplicate charge beyond the one in flight), and one
result. A real `ampa worker --backends stable-audio` process is killed; a stable-audio worker in the
test process takes over; the real pipeline, PostgreSQL, Redis, and a local stand-in for the API that
counts what it received."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.worker.conftest import make_settings, subprocess_env, wait_for
from tests.worker.stability_hold import HoldingStandIn
from worker.schemas import JobRequest, JobStatus
from worker.service import JobService
from worker.tasks import build_worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.timeout(240),
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]
KEY = "sk-standin-5ecret-recovery-0b7d"


async def test_worker_killed_mid_request_costs_no_second_extra_request_and_one_result(
    tmp_path: Path, pg_url: str, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = HoldingStandIn(KEY).start()
    server.arm()  # the first request is held: its worker dies waiting for the answer
    values = {
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
    log = tmp_path / "worker.log"
    doomed = subprocess.Popen(
        [sys.executable, "-m", "ampa.cli", "-v", "worker", "--backends", "stable-audio"],
        env=subprocess_env(values),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    settings = make_settings(tmp_path, **{**values, "AMPA_PIPELINE": None})
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
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(10)
            # Another stable-audio worker (here, in this process) takes the job once the lease runs out.
            await asyncio.wait_for(_burst(settings), 180)
            final = await service.get(job.id)
            history = await service.history(job.id)
        assert final.status == JobStatus.SUCCESS, final.error
        assert server.arrivals == 2  # the one in flight when the worker died, and one more
        assert final.charged_credits == 20  # the answer that made the track
        assert sum(e.status == JobStatus.SUCCESS for e in history) == 1
        assert any("stopped" in e.message for e in history)
        assert [p.name for p in (tmp_path / "data" / "artifacts" / job.id).iterdir()] == ["2"]
        assert KEY not in log.read_text(errors="replace") and KEY not in caplog.text  # debug logs included
    finally:
        server.release()
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(10)
        server.stop()


async def _burst(settings) -> None:
    worker = build_worker(settings, backends=["stable-audio"], burst=True)
    try:
        await worker.async_run()
    finally:
        await worker.close()
