"""A restart of the app mid-job: the new process resumes the same status message and delivers once."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from bot.slack.app import build_bot, build_client
from tests.bot.slack.conftest import mention
from tests.bot.slack.helpers import eventually, texts, thread_posts, updates_of
from worker.schemas import JobStatus


async def _delivered(service, job_id: str) -> bool:
    job = await service.get(job_id)
    return bool(job and job.delivered)


async def _only_job(slack):
    jobs = await slack.service.list_jobs(platform="slack")
    assert len(jobs) == 1
    return jobs[0]


@pytest.fixture
def hold_file(tmp_path: Path) -> Path:
    path = tmp_path / "hold"
    path.write_text("hold")
    return path


@pytest.fixture
def pipeline_options(hold_file: Path) -> dict:
    return {"stage_s": 0.02, "hold_file": str(hold_file)}


async def test_restart_mid_job_resumes_the_same_status_message(slack, slack_settings, hold_file):
    emu, service = slack.emulator, slack.service
    event = mention("upbeat funk, 6 seconds")
    await slack.send_event(event)
    await emu.wait_for(lambda: [t for t in texts(emu.of("chat.update")) if "▶ Rendering" in t], 20)
    job = await _only_job(slack)
    status_ts = job.status_message_ref.split(":")[1]
    await slack.bot.close()  # the app stops while the job is rendering

    restarted = build_bot(slack_settings, service, build_client(slack_settings))
    runner = web.AppRunner(restarted.web_app())
    await runner.setup()  # on_startup resumes undelivered jobs
    try:
        hold_file.unlink()
        await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 30)
        await eventually(lambda: _delivered(service, job.id))
        assert len(thread_posts(emu, event["ts"])) == 1  # no second status message
        assert len(emu.of("files.completeUploadExternal")) == 1
        assert "ready" in updates_of(emu, status_ts)[-1].args["text"]
        assert (await service.get(job.id)).status == JobStatus.SUCCESS
    finally:
        await runner.cleanup()
