"""Jobs go only to workers that serve their generator backend (real PostgreSQL, Redis and arq
workers; the fast stand-in pipeline at the runner's seam): a symbolic-only worker never takes a
stable-audio job, a job nobody serves is held with its reason and then failed, never stranded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.common.status import render_status
from tests.worker.conftest import ARQ_MARKS, make_settings, wait_for
from worker import routing, store
from worker.queue import ArqQueue
from worker.reconciler import Reconciler
from worker.schemas import JobRejected, JobRequest, JobStatus
from worker.service import JobService
from worker.tasks import build_worker

pytestmark = ARQ_MARKS


def request(user: str = "u1", **kw) -> JobRequest:
    values = {"prompt": "chill lofi hip-hop, 90 BPM, 8 seconds", "platform": "api", "requester_id": user}
    return JobRequest(**{**values, **kw})


async def burst(settings, backends: list[str]) -> None:
    worker = build_worker(settings, backends=backends, burst=True)
    try:
        await asyncio.wait_for(worker.async_run(), 60)
    finally:
        await worker.close()


async def test_a_symbolic_only_worker_never_takes_a_stable_audio_job(arq_settings) -> None:
    async with await JobService.open(arq_settings) as service:
        neural = await service.submit(request("u1", backend="stable-audio"))
        plain = await service.submit(request("u2"))
        assert (neural.backend, plain.backend) == ("stable-audio", "symbolic")
        # No worker runs anything yet: each says what it waits for.
        first = (await service.history(neural.id))[0]
        assert first.message == "Waiting for a worker that runs stable-audio — none is running right now"
        assert first.data["waiting_for_backend"] == "stable-audio"
        shown = render_status(await service.get(neural.id), await service.history(neural.id))
        assert shown.lines[0] == "⏳ Waiting for a worker that runs stable-audio (none is running right now)"
        assert shown.understood.endswith("· made with stable-audio")

        await burst(arq_settings, ["symbolic"])
        assert (await service.get(plain.id)).status == JobStatus.SUCCESS
        async with service.sessions() as session:
            waiting = await store.get_job(session, job_id=neural.id)
        assert waiting.status == JobStatus.PENDING and waiting.execution_attempt == 0  # never even claimed
        assert await service.queue.contains(neural.id, "stable-audio")

        await burst(arq_settings, ["stable-audio"])
        done = await service.get(neural.id)
        assert done.status == JobStatus.SUCCESS and done.backend == "stable-audio"
        assert done.spec["backend"] == "stable-audio"


async def test_a_running_worker_advertises_its_backends_and_withdraws_them(arq_settings) -> None:
    worker = build_worker(arq_settings, backends=["symbolic", "musicgen"])
    run = asyncio.create_task(worker.async_run())
    try:
        async with await JobService.open(arq_settings) as service:
            live = await wait_for(lambda: _live(service), timeout=30, what="the worker's advertisement")
            assert live == {"symbolic", "musicgen"}
            assert await service.available_backends() == ["symbolic", "musicgen"]
            job = await service.submit(request(backend="musicgen"))
            assert (await service.history(job.id))[0].message == "Queued — position 1"
            final = await wait_for(lambda: _terminal(service, job.id), timeout=60, what="the musicgen job")
            assert final.status == JobStatus.SUCCESS
    finally:
        worker.stop()
        with pytest.raises(asyncio.CancelledError):
            await run
        await worker.close()
    async with await JobService.open(arq_settings) as service:
        assert await _live(service) == set()  # withdrawn at once, not after the TTL


async def test_a_job_nobody_serves_is_held_then_failed_with_the_reason(arq_settings) -> None:
    async with await JobService.open(arq_settings) as service:
        job = await service.submit(request(backend="stable-audio-open"))
        served = {"symbolic"}

        async def live() -> set[str]:
            return served

        reconciler = Reconciler(
            sessions=service.sessions, queue=ArqQueue(service.redis), bus=service.bus, served=live, backend_wait_s=3
        )
        await asyncio.sleep(1.1)  # past the PENDING grace period
        report = await reconciler.run_once()
        assert report.held == 0  # the submit already said what it waits for: not twice
        assert (await service.get(job.id)).status == JobStatus.PENDING
        await wait_for(lambda: _gives_up(reconciler), timeout=30, what="the wait to run out")
        failed = await service.get(job.id)
        assert failed.status == JobStatus.FAILED
        assert "No worker that runs stable-audio-open came up" in failed.error
        assert "ampa worker --backends stable-audio-open" in failed.error


async def test_embedded_refuses_a_backend_this_process_cannot_run(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with await JobService.open(settings) as service:
        with pytest.raises(JobRejected) as refused:
            await service.submit(request(backend="stable-audio"))
        assert refused.value.reason == "backend_unavailable"
        assert "STABILITY_API_KEY is not set" in refused.value.user_message
        with pytest.raises(JobRejected) as unknown:
            await service.submit(request(backend="suno"))
        assert unknown.value.reason == "bad_option" and "symbolic, stable-audio" in unknown.value.user_message
        assert await service.list_jobs() == []
        assert await service.available_backends() == ["symbolic"]


async def test_daily_credit_cap_refuses_before_any_request(tmp_path: Path, pg_url: str, redis_url: str) -> None:
    settings = make_settings(
        tmp_path,
        DATABASE_URL=pg_url,
        REDIS_URL=redis_url,
        AMPA_STABILITY_DAILY_CREDITS_PER_USER=50,
        AMPA_USER_CONCURRENT_JOBS=10,
    )
    async with await JobService.open(settings) as service:
        first = await service.submit(request("ann", backend="stable-audio"))
        second = await service.submit(request("ann", backend="stable-audio", client_ref="2"))
        assert first.predicted_credits == second.predicted_credits == 20
        with pytest.raises(JobRejected) as capped:
            await service.submit(request("ann", backend="stable-audio", client_ref="3"))
        assert capped.value.reason == "credits"
        assert "about 20 Stability credits" in capped.value.user_message
        assert "10 of your 50 daily credits left" in capped.value.user_message
        await service.submit(request("bob", backend="stable-audio"))  # per user
        await service.submit(request("ann"))  # the symbolic composer is free
        # A flagged request is not charged: what it predicted stops counting once it is recorded.
        async with service.sessions.begin() as session:
            await store.update_fields(session, job_id=first.id, charged_credits=0.0, status=str(JobStatus.FAILED))
        third = await service.submit(request("ann", backend="stable-audio", client_ref="3"))
        assert third.status == JobStatus.PENDING


async def test_a_thread_reply_keeps_the_backend_unless_asked_otherwise(arq_settings) -> None:
    async with await JobService.open(arq_settings) as service:
        parent = await service.submit(request("ann", backend="stable-audio"))
        await burst(arq_settings, ["stable-audio"])
        kept = (await service.follow_up(parent.id, "make it faster", requester_id="ann")).job
        assert kept is not None and kept.backend == "stable-audio" and kept.spec["backend"] == "stable-audio"
        await burst(arq_settings, ["stable-audio"])
        back = (await service.follow_up(kept.id, "do it with the symbolic composer", requester_id="ann")).job
        assert back is not None and back.backend == "symbolic"
        again = await service.variation(kept.id, requester_id="ann")
        assert again.backend == "stable-audio"


async def _live(service: JobService) -> set[str]:
    return {name for name, count in (await routing.serving(service.redis)).items() if count}


async def _terminal(service: JobService, job_id: str):
    job = await service.get(job_id)
    return job if job is not None and job.status.is_terminal else None


async def _gives_up(reconciler: Reconciler) -> bool:
    return (await reconciler.run_once()).gave_up == 1


def test_worker_command_refuses_a_backend_it_cannot_run(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.worker.conftest import subprocess_env

    out = subprocess.run(
        [sys.executable, "-m", "ampa.cli", "worker", "--backends", "symbolic,musicgen", "--burst"],
        env=subprocess_env({"AMPA_DATA_DIR": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2, out.stderr
    assert "This worker cannot run musicgen: AMPA_MUSICGEN_MODEL is not set" in out.stderr
    assert "Traceback" not in out.stderr


async def test_api_job_body_picks_the_backend_and_says_why_not(tmp_path: Path) -> None:
    import httpx

    from worker.api import build_app

    settings = make_settings(tmp_path, STABILITY_API_KEY="sk-api-test", AMPA_STABILITY_DAILY_CREDITS_PER_USER=30)
    async with await JobService.open(settings) as service:  # the stand-in pipeline of make_settings
        transport = httpx.ASGITransport(app=build_app(settings, service, require_auth=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://ampa.test") as http:
            made = await http.post("/jobs", json={"prompt": "lofi, 8 seconds", "backend": "stable-audio"})
            assert made.status_code == 201 and made.json()["backend"] == "stable-audio"
            assert made.json()["predicted_credits"] == 20
            capped = await http.post("/jobs", json={"prompt": "lofi, 8 seconds", "backend": "stable-audio"})
            assert capped.status_code == 429 and capped.json()["reason"] == "credits"
            missing = await http.post("/jobs", json={"prompt": "lofi, 8 seconds", "backend": "musicgen"})
            assert missing.status_code == 422 and "AMPA_MUSICGEN_MODEL is not set" in missing.json()["detail"]
            assert "sk-api-test" not in made.text


async def test_a_paid_job_that_fails_after_the_answer_still_counts_its_credits(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, STABILITY_API_KEY="sk-fail-test", AMPA_STABILITY_DAILY_CREDITS_PER_USER=30)
    async with await JobService.open(settings, pipeline_options={"qa_never_passes": True}) as service:
        job = await service.submit(request("ann", backend="stable-audio"))
        failed = await wait_for(lambda: _terminal(service, job.id), timeout=60, what="the job to fail QA")
        assert failed.status == JobStatus.FAILED and failed.charged_credits == 20
        with pytest.raises(JobRejected) as capped:  # 20 spent of 30: another 20 does not fit
            await service.submit(request("ann", backend="stable-audio", client_ref="again"))
        assert capped.value.reason == "credits"
