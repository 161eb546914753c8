"""A Slack mention that says "made with stable audio" makes a mastered neural track through the
real Bolt app, the real JobService and the real pipeline, against a local stand-in for
Stability's API (a reply keeping the model is tests/worker/test_routing.py's). The key stays out
of chat and records."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.slack.listeners.flows import split_model
from tests.bot.slack.conftest import mention
from tests.bot.slack.helpers import eventually
from tests.stability_server import StabilityStandIn
from worker.schemas import JobStatus
from worker.service import JobService
from worker.settings import Settings

pytestmark = pytest.mark.timeout(240)
KEY = "sk-standin-5ecret-slack-91c2"


@pytest.fixture(scope="module")
def stability() -> Iterator[StabilityStandIn]:
    with StabilityStandIn(api_key=KEY) as server:
        yield server


@pytest.fixture
async def service(tmp_path: Path, stability: StabilityStandIn) -> AsyncIterator[JobService]:
    """The real JobService and pipeline, with Stability's API at the stand-in (text mode: quicker)."""
    settings = Settings(
        AMPA_DATA_DIR=tmp_path / "ampa",
        STABILITY_API_KEY=KEY,
        STABILITY_API_URL=stability.url,
        AMPA_STABILITY_MODE="text",
        AMPA_RENDER_WORKERS=1,
    )
    svc = await JobService.open(settings)
    yield svc
    await svc.close()


async def _delivered(service: JobService, job_id: str):
    job = await service.get(job_id)
    return job if job is not None and job.delivered else None


async def test_made_with_stable_audio_in_a_mention_makes_a_neural_track(slack, stability) -> None:
    emu, service = slack.emulator, slack.service
    stability.requests.clear()
    event = mention("dark techno at 128 BPM in F minor, 8 seconds, made with stable audio")
    await slack.send_event(event)
    uploaded = await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 180)
    (job,) = await service.list_jobs(platform="slack")
    job = await eventually(lambda: _delivered(service, job.id), timeout=60)
    assert job.status == JobStatus.SUCCESS and job.backend == "stable-audio"
    assert job.charged_credits == 20 and len(stability.requests) == 1
    comment = uploaded[0].args["initial_comment"]
    assert "Made with stable-audio" in comment and "There are no stems" in comment
    titles = [f["title"] for f in uploaded[0].args["files"]]
    assert "Stems" not in titles and "Mastered track" in titles

    chat = json.dumps([c.args for c in emu.calls], default=str)
    record = json.dumps([j.to_dict() for j in await service.list_jobs(platform="slack")])
    assert KEY not in chat and KEY not in record


def test_the_model_token_is_taken_out_of_the_prompt() -> None:
    assert split_model("lofi beat model: stable-audio, 30 seconds") == ("lofi beat, 30 seconds", "stable-audio")
    assert split_model("lofi beat with a model train sample") == ("lofi beat with a model train sample", None)
