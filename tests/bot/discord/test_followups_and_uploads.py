"""Follow-ups by replying to ampa's message or mentioning it; uploads sized to the limit."""

from __future__ import annotations

import io
from typing import Any

import pytest
import soundfile as sf

from tests import stand_in_pipeline
from tests.bot.discord.conftest import open_service, running_bot
from tests.bot.discord.emulator import DiscordEmulator, message_text
from tests.bot.discord.helpers import eventually, job_id_of, result_messages, status_messages


async def _delivered(service: Any, job_id: str) -> Any:
    job = await service.get(job_id)
    return job if job is not None and job.delivered else None


async def test_reply_to_the_status_message_and_mention_in_thread(emulator: DiscordEmulator, bot: Any) -> None:
    await emulator.slash_command("generate", {"prompt": "funky disco with brass", "duration": 6})
    status = (
        await emulator.wait_for(
            lambda: status_messages(emulator, emulator.channel_id), timeout=60, what="a status message"
        )
    )[0]
    first = job_id_of(status)
    await eventually(lambda: _delivered(bot.service, first), timeout=60, what="v1 delivered")
    thread_id = status["id"]

    # A reply (in the channel) to ampa's status message: the next version goes to the job's thread.
    await emulator.post_message(emulator.channel_id, "slower please", reply_to=status["id"])
    v2_status = (
        await emulator.wait_for(lambda: status_messages(emulator, thread_id), timeout=60, what="v2 in the thread")
    )[0]
    v2 = await eventually(lambda: _delivered(bot.service, job_id_of(v2_status)), timeout=60, what="v2 delivered")
    assert v2.parent_id == first and v2.version == 2

    # A mention of the bot in the thread builds on the newest version (v2).
    await emulator.post_message(thread_id, "add strings", mention_bot=True)
    await emulator.wait_for(lambda: len(status_messages(emulator, thread_id)) == 2, timeout=60, what="v3 in the thread")
    v3 = await eventually(
        lambda: _delivered(bot.service, job_id_of(status_messages(emulator, thread_id)[-1])),
        timeout=60,
        what="v3 delivered",
    )
    assert v3.parent_id == v2.id and v3.version == 3 and v3.prompt == "add strings"

    # Tweak… in the same run: the form's answer makes exactly one new version (v4, on the newest).
    v1_result = next(m for m in result_messages(emulator, thread_id) if job_id_of(m) == first)
    tweak = await emulator.click(v1_result["id"], f"ampa:tweak:{first}")
    await emulator.wait_for(lambda: tweak.callbacks, timeout=5, what="the tweak form")
    form = emulator.callback(tweak).json["data"]
    await emulator.submit_modal(form, {"change": "add bells"}, channel_id=thread_id)
    await emulator.wait_for(lambda: len(status_messages(emulator, thread_id)) == 3, timeout=60, what="v4")
    v4 = await eventually(
        lambda: _delivered(bot.service, job_id_of(status_messages(emulator, thread_id)[-1])),
        timeout=60,
        what="v4 delivered",
    )
    assert v4.parent_id == v3.id and v4.version == 4
    assert len(await bot.service.list_jobs(platform="discord", limit=10)) == 4, "one job per form answer"

    # Chat in an unrelated channel is ignored.
    calls = len(emulator.calls)
    await emulator.post_message(emulator.channel_id, "nice weather today")
    help_ = await emulator.slash_command("help")
    await emulator.wait_for(lambda: help_.callbacks, timeout=10, what="/help")
    assert not [c for c in emulator.calls[calls:] if c.method == "POST" and c.path.endswith("/messages")]


async def test_mp3_resized_to_the_upload_limit_and_stems_offered_by_link(
    emulator: DiscordEmulator, job_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stand_in_pipeline, "AUDIO_S", 14.0)  # a 320 kbit/s MP3 of ~560 kB, stems of ~2.5 MB
    settings = job_settings.model_copy(update={"public_base_url": "https://ampa.example.org"})
    limit = 400_000
    async with open_service(settings) as service, running_bot(emulator, service, settings, DISCORD_UPLOAD_LIMIT=limit):
        await emulator.slash_command("generate", {"prompt": "ambient drone", "duration": 14})
        status = (
            await emulator.wait_for(
                lambda: status_messages(emulator, emulator.channel_id), timeout=60, what="a status message"
            )
        )[0]
        result = (await emulator.wait_for(lambda: result_messages(emulator, status["id"]), timeout=60, what="results"))[
            0
        ]
        job = await service.get(job_id_of(result))
    upload = next(c for c in emulator.calls if c.created is not None and c.created["id"] == result["id"])
    mp3 = next(f for f in upload.files if f.filename.endswith(".mp3"))
    original = await _size(job.files["mix.mp3"])
    assert original > limit and sum(f.size for f in upload.files) <= limit
    audio, rate = sf.read(io.BytesIO(mp3.data))
    assert abs(len(audio) / rate - 14.0) < 0.5, "the whole track, at a lower bitrate"
    assert f"(https://ampa.example.org/t/{job.id}/stems.zip?e=" in message_text(result)  # a signed link
    assert not [c for c in emulator.calls if any("stems" in f.filename for f in c.files)]


async def _size(path: str) -> int:
    from pathlib import Path

    return Path(path).stat().st_size


async def test_reference_attachment_is_downloaded_checked_and_used(emulator: DiscordEmulator, bot: Any) -> None:
    import numpy as np

    from tests.bot.discord.conftest import TOKEN

    buffer = io.BytesIO()
    t = np.arange(22050 * 3) / 22050
    sf.write(buffer, 0.3 * np.sin(2 * np.pi * 220 * t), 22050, format="WAV")
    attachment = emulator.add_attachment("groove.wav", buffer.getvalue(), "audio/wav")
    await emulator.slash_command("generate", {"prompt": "something like this, but darker", "reference": attachment})
    status = (
        await emulator.wait_for(
            lambda: status_messages(emulator, emulator.channel_id), timeout=60, what="a status message"
        )
    )[0]
    job = await eventually(lambda: _delivered(bot.service, job_id_of(status)), timeout=60, what="delivered")
    assert job.status.value == "SUCCESS"
    assert "Analysing the reference" in message_text(emulator.messages[status["id"]])
    assert len(emulator.cdn_requests) == 1
    assert all(TOKEN not in value for value in emulator.cdn_requests[0].headers.values()), (
        "the token stays with the API"
    )
