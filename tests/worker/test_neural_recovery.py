"""Workers killed while making a Stability track: another worker finishes it with no charge beyond
the request that was in flight (one more request when the answer never came; none when it came and
was kept), and one result. Real `ampa worker --backends stable-audio` processes are killed; a
stable-audio worker in the test process takes over; the real pipeline, PostgreSQL, Redis, and a
local stand-in for the API that counts what it received."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.worker.conftest import ARQ_MARKS, make_settings, subprocess_env, wait_for
from tests.worker.stability_hold import HoldingStandIn
from worker import store
from worker.schemas import JobRequest, JobStatus
from worker.service import JobService
from worker.tasks import build_worker

pytestmark = [*ARQ_MARKS, pytest.mark.timeout(240)]
KEY = "sk-standin-5ecret-recovery-0b7d"


async def test_workers_killed_mid_request_or_after_the_answer_cost_no_extra_charge(
    tmp_path: Path, pg_url: str, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Job A: its worker dies while its request is in flight: the next worker makes one more.
    Job B: its worker dies after Stability answered: the next worker reuses the kept answer."""
    caplog.set_level(logging.DEBUG)
    server = HoldingStandIn(KEY).start()
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
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    doomed = [
        subprocess.Popen(
            [sys.executable, "-m", "ampa.cli", "-v", "worker", "--backends", "stable-audio"],
            env=subprocess_env(values),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for log in logs
    ]
    settings = make_settings(tmp_path, **{**values, "AMPA_PIPELINE": None})
    kept = tmp_path / "data" / "answers"
    try:
        async with await JobService.open(settings) as service:
            server.arm()  # A's request is held: its worker dies waiting for the answer
            a = await service.submit(_request("a"))
            assert await asyncio.to_thread(server.held.wait, 180), "no request reached the stand-in"
            await _kill_holder(service, a.id, doomed)

            b = await service.submit(_request("b"))  # the other worker takes it
            await wait_for(lambda: list((kept / b.id).glob("*.json")), timeout=180, interval=0.02, what="B's answer")
            await _kill_holder(service, b.id, doomed)
            assert (await service.get(b.id)).status == JobStatus.PROCESSING  # killed after the answer, before the end

            # Another stable-audio worker (here, in this process) takes both over once their leases run out.
            await asyncio.wait_for(_burst(settings), 180)
            finals = [await service.get(job.id) for job in (a, b)]
            histories = [await service.history(job.id) for job in (a, b)]
        for final, history in zip(finals, histories, strict=True):
            assert final.status == JobStatus.SUCCESS, final.error
            assert final.charged_credits == 20  # the one answer that made the track
            assert sum(e.status == JobStatus.SUCCESS for e in history) == 1
            assert any("stopped" in e.message for e in history)
            assert [p.name for p in (tmp_path / "data" / "artifacts" / final.id).iterdir()] == ["2"]
        # A: the one in flight when its worker died, and one more. B: one, reused after the kill.
        assert server.arrivals == 3
        assert not kept.exists() or not any(kept.iterdir())  # kept answers go when their job ends
        assert all(KEY not in log.read_text(errors="replace") for log in logs) and KEY not in caplog.text
    finally:
        server.release()
        for worker in doomed:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
        server.stop()


def _request(user: str) -> JobRequest:
    prompt = "dark techno at 128 BPM in F minor, 8 seconds"
    return JobRequest(prompt=prompt, platform="api", requester_id=user, backend="stable-audio")


async def _kill_holder(service: JobService, job_id: str, workers: list[subprocess.Popen]) -> None:
    async with service.sessions() as session:
        owner = (await store.get_job(session, job_id=job_id)).lease_owner
    victim = next(w for w in workers if w.pid == int(owner.split(":")[1]))
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)


async def _burst(settings) -> None:
    worker = build_worker(settings, backends=["stable-audio"], burst=True)
    try:
        await worker.async_run()
    finally:
        await worker.close()
