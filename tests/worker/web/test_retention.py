"""Retention: old files removed by the periodic task (embedded) and the arq cron job (PostgreSQL +
Redis); the job keeps its spec, its page says the track expired, its links answer 410, and
Regenerate still makes it again. Also: pages and links in the PostgreSQL + Redis deployment."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from arq import cron

from tests.worker.conftest import make_settings, wait_for
from tests import stand_in_pipeline as stand_in
from worker.api import build_app
from worker.schemas import JobRequest, JobStatus
from worker.service import JobService
from worker.tasks import build_worker, sweep_artifacts, worker_options

# A retention age of a second or so (days are floats), so a test sees it pass.
SHORT_DAYS = 1.5 / 86400


def _request(prompt: str = "chill lofi hip-hop, 85 BPM, 8 seconds") -> JobRequest:
    return JobRequest(prompt=prompt, platform="api", requester_id="r")


async def _expired_everywhere(service: JobService, job_id: str) -> None:
    """What an expired track looks like: record kept, files gone, page says so, links refuse."""
    job = await service.get(job_id)
    assert job.status == JobStatus.SUCCESS and job.files == {} and job.spec
    assert any("files were removed" in note for note in job.notes)
    assert not service.artifacts.job_dir(job_id).exists()
    app = build_app(service.settings, service, require_auth=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ampa.test") as http:
        page = await http.get(service.links.page_url(job_id))
        assert page.status_code == 200 and 'id="expired"' in page.text and "This track has expired" in page.text
        assert job.summary in page.text and "What ampa understood" in page.text
        gone = await http.get(service.links.file_url(job_id, "mix.wav"))
        assert gone.status_code == 410 and b"RIFF" not in gone.content
    again = await service.variation(job_id, requester_id="r", new_seed=False)  # Regenerate: "make it again"
    assert again.spec["genres"] == job.spec["genres"] and again.parent_id == job_id


async def test_the_embedded_process_sweeps_old_files_itself(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, AMPA_RETENTION_DAYS=SHORT_DAYS, AMPA_RETENTION_EVERY_S=0.2)
    async with await JobService.open(settings, pipeline=stand_in) as service:
        old = await service.submit(_request())
        await wait_for(lambda: _status(service, old.id, JobStatus.SUCCESS), timeout=60, what="the job")
        assert (await service.get(old.id)).files
        # The periodic task removes them once they are older than the retention age.
        await wait_for(lambda: _files_gone(service, old.id), timeout=30, what="the sweep")
        await _expired_everywhere(service, old.id)


async def test_a_recent_track_is_kept_and_zero_means_forever(tmp_path: Path) -> None:
    from worker.retention import sweep

    settings = make_settings(tmp_path, AMPA_RETENTION_DAYS=0)
    async with await JobService.open(settings, pipeline=stand_in) as service:
        job = await service.submit(_request())
        await wait_for(lambda: _status(service, job.id, JobStatus.SUCCESS), timeout=60, what="the job")
        await asyncio.sleep(0.1)
        assert await sweep(sessions=service.sessions, artifacts=service.artifacts, retention_days=0) == []
        assert await sweep(sessions=service.sessions, artifacts=service.artifacts, retention_days=1) == []
        assert (await service.get(job.id)).files and service.file_path(await service.get(job.id), "mix.wav")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")
async def test_the_arq_cron_job_sweeps_in_the_postgres_redis_deployment(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    settings = make_settings(
        tmp_path, DATABASE_URL=pg_url, REDIS_URL=redis_url, AMPA_RETENTION_DAYS=SHORT_DAYS, AMPA_LEASE_SECONDS=60
    )
    assert [job.coroutine for job in worker_options(settings)["cron_jobs"]] == [sweep_artifacts]
    async with await JobService.open(settings) as service:
        job = await service.submit(_request())
        await _burst(settings)
        made = await service.get(job.id)
        assert made.status == JobStatus.SUCCESS
        # The pages and links work in this deployment too (`ampa api` serves them).
        app = build_app(settings, service, require_auth=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ampa.test") as http:
            page = await http.get(service.links.page_url(job.id))
            assert page.status_code == 200 and made.summary in page.text and "Downloads" in page.text
            wav = await http.get(service.links.file_url(job.id, "mix.wav"))
            assert wav.status_code == 200 and wav.content == service.file_path(made, "mix.wav").read_bytes()
        await asyncio.sleep(2.0)  # older than the retention age
        # The same cron job, run at the worker's start instead of at :17.
        await _burst(settings, cron_jobs=[cron(sweep_artifacts, run_at_startup=True)])
        await _expired_everywhere(service, job.id)


async def _burst(settings, **overrides) -> None:
    worker = build_worker(settings, burst=True, handle_signals=False, **overrides)
    try:
        await asyncio.wait_for(worker.async_run(), 60)
    finally:
        await worker.close()


async def _status(service: JobService, job_id: str, status: JobStatus) -> bool:
    job = await service.get(job_id)
    return job is not None and job.status == status


async def _files_gone(service: JobService, job_id: str) -> bool:
    """The sweep is done with the job: its record forgot the files (first), and the folder is gone (then)."""
    job = await service.get(job_id)
    return job is not None and not job.files and not service.artifacts.job_dir(job_id).exists()
