"""`/generate` with the `model` option makes a neural track through the real pipeline, against a
local stand-in for Stability's API over real HTTP; its failures reach the channel in words. The
API key goes to the stand-in and nowhere else: not the job record, its history, chat or logs."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.common.status import render_status
from tests.bot.discord.conftest import make_job_settings, open_service, running_bot
from tests.bot.discord.emulator import DiscordEmulator, message_text
from tests.bot.discord.helpers import eventually, final_text, result_messages, status_messages
from tests.stability_server import Reply, StabilityStandIn
from worker.schemas import JobStatus

KEY = "sk-standin-5ecret-discord-7f3a"
PROMPT = "dark techno at 128 BPM in F minor, 8 seconds"


@pytest.fixture(scope="module")
def stability() -> Iterator[StabilityStandIn]:
    with StabilityStandIn(api_key=KEY) as server:
        yield server


async def _finished(service: Any, job_id: str) -> Any:
    job = await service.get(job_id)
    return job if job is not None and job.status.is_terminal and job.delivered else None


async def _generate(emulator: DiscordEmulator, bot: Any, options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    before = len(status_messages(emulator, emulator.channel_id))
    await emulator.slash_command("generate", options)
    status = (
        await emulator.wait_for(
            lambda: status_messages(emulator, emulator.channel_id)[before:], timeout=60, what="a status message"
        )
    )[0]
    job_id = next(iter(await bot.service.list_jobs(platform="discord", limit=1))).id
    job = await eventually(lambda: _finished(bot.service, job_id), timeout=180, what="the job to finish")
    return job, status


async def test_generate_with_the_model_option_makes_a_mastered_neural_track(
    emulator: DiscordEmulator, stability: StabilityStandIn, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_job_settings(tmp_path, STABILITY_API_KEY=KEY, STABILITY_API_URL=stability.url)
    stability.requests.clear()
    async with open_service(settings, pipeline=None) as service, running_bot(emulator, service, settings) as bot:
        offered = await emulator.autocomplete("generate", {"prompt": PROMPT, "model": ""}, focused="model")
        await emulator.wait_for(lambda: offered.callbacks, timeout=10, what="the model choices")
        choices = [c["value"] for c in emulator.callback(offered).json["data"]["choices"]]
        assert choices == ["symbolic", "stable-audio"]  # only what this installation can run

        # A 429 first: the job waits as told, says so, then goes on.
        stability.queue(Reply.error(429, retry_after=1))
        job, status = await _generate(emulator, bot, {"prompt": PROMPT, "model": "stable-audio"})
        assert job.status == JobStatus.SUCCESS, job.error
        assert job.backend == "stable-audio" and job.spec["backend"] == "stable-audio"
        assert job.predicted_credits == 20 and job.charged_credits == 20
        assert "stems.zip" not in job.files and {"mix.mp3", "song.mid", "spectrogram.png"} <= set(job.files)
        history = await service.history(job.id)
        waits = [e for e in history if e.stage == "waiting"]
        assert waits and waits[0].message == "Waiting (rate limited), retrying in 1 s"
        # The status message as it was while waiting (rendered from the history up to that event).
        waiting = dataclasses.replace(job, status=JobStatus.PROCESSING, stage="waiting")
        mid_wait = render_status(waiting, history[: history.index(waits[0]) + 1])
        assert "⏳ Waiting (rate limited), retrying in 1 s" in mid_wait.lines

        final = final_text(emulator, status["id"])
        assert "made with stable-audio" in final and "✅" in final
        thread = status["id"]
        result = message_text(result_messages(emulator, thread)[0])
        assert "Made with stable-audio" in result and "There are no stems" in result
        assert "the MIDI of the arrangement the model followed" in result

        # The key reached the stand-in, as a bearer token, on every request …
        assert len(stability.requests) == 2
        assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in stability.requests)
        # … and nothing else: not the job, its history, the chat or the logs.
        record = json.dumps(job.to_dict()) + json.dumps([e.to_dict() for e in history])
        chat = json.dumps([c.json for c in emulator.calls if c.json is not None])
        report = (tmp_path / "artifacts" / job.id).rglob("report.json")
        files = "".join(p.read_text() for p in report)
        for where, text in (("job", record), ("chat", chat), ("report.json", files), ("logs", caplog.text)):
            assert KEY not in text, f"the API key leaked into the {where}"


async def test_out_of_credits_is_said_in_the_channel_and_recorded(
    emulator: DiscordEmulator, stability: StabilityStandIn, tmp_path: Any
) -> None:
    settings = make_job_settings(
        tmp_path, STABILITY_API_KEY=KEY, STABILITY_API_URL=stability.url, AMPA_STABILITY_MODE="text"
    )
    async with open_service(settings, pipeline=None) as service, running_bot(emulator, service, settings) as bot:
        stability.queue(Reply.error(402, "Your account has insufficient credits"))
        job, status = await _generate(emulator, bot, {"prompt": PROMPT, "model": "stable-audio"})
        assert job.status == JobStatus.FAILED and job.charged_credits is None
        assert "credits" in job.error.lower()
        failed = [e for e in await service.history(job.id) if e.status == JobStatus.FAILED]
        assert failed[-1].data["reason"] == "stability_out_of_credits"
        assert job.error in final_text(emulator, status["id"])

        # A model this installation cannot run is refused in the user's own channel, with the reason.
        await emulator.slash_command("generate", {"prompt": PROMPT, "model": "musicgen"})
        refusal = await emulator.wait_for(
            lambda: [c for c in emulator.calls if c.json and "AMPA_MUSICGEN_MODEL is not set" in json.dumps(c.json)],
            timeout=30,
            what="the refusal",
        )
        assert "Models you can use here: symbolic, stable-audio" in json.dumps(refusal[0].json)
