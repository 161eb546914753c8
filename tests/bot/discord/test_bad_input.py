"""Bad input gets a clear, private answer; no job is made from it and the bot keeps working."""

from __future__ import annotations

import io
import sqlite3
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests import stand_in_pipeline
from tests.bot.discord.conftest import make_job_settings, open_service, running_bot
from tests.bot.discord.emulator import DiscordEmulator, Interaction, message_text
from tests.bot.discord.helpers import eventually, job_id_of, result_messages, status_messages
from worker.schemas import JobStatus


async def _answer(emu: DiscordEmulator, interaction: Interaction, *, timeout: float = 30) -> str:
    """The last thing the bot told the user about this interaction, once it has said something final."""

    def said() -> str | None:
        texts = [t for t in emu.said_to(interaction) if t]
        return texts[-1] if texts else None

    return await emu.wait_for(said, timeout=timeout, what="an answer to the interaction")


def _ephemeral(emu: DiscordEmulator, interaction: Interaction) -> bool:
    callback = emu.callback(interaction)
    return bool(callback and (callback.json.get("data") or {}).get("flags", 0) & 64)


async def _no_jobs(bot: Any) -> bool:
    return not await bot.service.list_jobs(platform="discord", limit=5)


def _wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(int(seconds * rate), dtype=np.float32), rate, format="FLAC")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "content_type", "expected"),
    [
        ("notes.txt", b"not music at all", "text/plain", "doesn't look like audio"),
        ("song.wav", b"RIFF\x00\x00garbage" * 50, "audio/wav", "couldn't read"),
        ("huge.wav", b"\x00" * 2_500_000, "audio/wav", "at most 2 MB"),
        ("long.flac", None, "audio/flac", "minutes long"),
    ],
    ids=["not-audio", "corrupt", "too-large", "ten-minutes"],
)
async def test_bad_reference_attachments(
    emulator: DiscordEmulator, bot: Any, filename: str, data: bytes | None, content_type: str, expected: str
) -> None:
    attachment = emulator.add_attachment(filename, data if data is not None else _wav(600), content_type)
    interaction = await emulator.slash_command("generate", {"prompt": "dark techno", "reference": attachment})
    text = await _answer(emulator, interaction)
    assert expected in text, text
    assert _ephemeral(emulator, interaction)
    assert await _no_jobs(bot)
    if filename == "huge.wav":  # refused from its size alone, never downloaded
        assert not [c for c in emulator.calls if "/cdn/" in c.path]


@pytest.mark.parametrize(
    ("prompt", "expected"), [("   ", "prompt is empty"), ("a" * 4000, "4,000 characters")], ids=["empty", "4000-chars"]
)
async def test_bad_prompts(emulator: DiscordEmulator, bot: Any, prompt: str, expected: str) -> None:
    interaction = await emulator.slash_command("generate", {"prompt": prompt})
    text = await _answer(emulator, interaction)
    assert expected in text and _ephemeral(emulator, interaction)
    assert await _no_jobs(bot)


async def test_unknown_guided_choice(emulator: DiscordEmulator, bot: Any) -> None:
    interaction = await emulator.slash_command("generate", {"prompt": "something nice", "genre": "polka-core"})
    text = await _answer(emulator, interaction)
    assert "don't know the genre" in text and "synthwave" not in text.split("e.g.")[0]


async def test_user_at_their_limit(emulator: DiscordEmulator, tmp_path: Any) -> None:
    settings = make_job_settings(tmp_path, AMPA_USER_CONCURRENT_JOBS=1)
    stand_in_pipeline.GATE.clear()
    async with open_service(settings) as service, running_bot(emulator, service, settings):
        await emulator.slash_command("generate", {"prompt": "sad piano ballad", "duration": 6})
        await emulator.wait_for(
            lambda: status_messages(emulator, emulator.channel_id), timeout=60, what="the first job"
        )

        async def first_job_running() -> bool:
            jobs = await service.list_jobs(platform="discord", limit=5)
            return bool(jobs) and jobs[0].status == JobStatus.PROCESSING

        # Until the worker has taken the first job, it is still in the queue ahead of bob's.
        await eventually(first_job_running, timeout=60, what="the first job to start")
        second = await emulator.slash_command("generate", {"prompt": "happy pop song", "duration": 6})
        text = await _answer(emulator, second)
        assert "finish" in text.lower() or "cancel" in text.lower(), text
        assert _ephemeral(emulator, second)
        assert len(await service.list_jobs(platform="discord", limit=5)) == 1
        # Someone else is not at a limit: their job waits its turn, and the status says where it stands.
        bob = emulator.make_user("bob")
        await emulator.slash_command("generate", {"prompt": "uplifting trance", "duration": 6}, user=bob)
        waiting = (
            await emulator.wait_for(
                lambda: status_messages(emulator, emulator.channel_id)[1:], timeout=60, what="bob's status"
            )
        )[0]
        assert "Waiting in the queue — position 1" in message_text(waiting), message_text(waiting)
        stand_in_pipeline.GATE.set()
        await emulator.wait_for(
            lambda: "Your track is ready" in message_text(emulator.messages[waiting["id"]]),
            timeout=60,
            what="bob's track",
        )


async def test_reply_in_a_thread_whose_latest_job_failed(emulator: DiscordEmulator, bot: Any) -> None:
    await emulator.slash_command("generate", {"prompt": "chill lofi hip-hop", "duration": 6})
    status = (
        await emulator.wait_for(
            lambda: status_messages(emulator, emulator.channel_id), timeout=60, what="a status message"
        )
    )[0]
    thread_id = status["id"]
    await emulator.wait_for(lambda: result_messages(emulator, thread_id), timeout=60, what="results")
    stand_in_pipeline.FAIL_WITH.append("The arrangement could not be built for that request.")
    await emulator.post_message(thread_id, "make it faster")
    failed_status = (
        await emulator.wait_for(lambda: status_messages(emulator, thread_id), timeout=60, what="v2's status")
    )[0]
    await emulator.wait_for(
        lambda: "failed" in message_text(emulator.messages[failed_status["id"]]), timeout=30, what="v2 failing"
    )
    failed = emulator.messages[failed_status["id"]]
    assert "could not be built" in message_text(failed)
    failed_id = job_id_of(failed)
    assert [c["custom_id"] for row in failed["components"] for c in row["components"]] == [
        f"ampa:regenerate:{failed_id}"
    ]
    reply = await emulator.post_message(thread_id, "now slower")
    answer = await emulator.wait_for(
        lambda: [
            m
            for m in emulator.messages_in(thread_id)
            if str((m.get("message_reference") or {}).get("message_id")) == reply["id"]
            and m["author"]["id"] == emulator.app_id
        ],
        timeout=30,
        what=f"a reply about the failed version; thread: {[(m['author']['username'], message_text(m)[:80]) for m in emulator.messages_in(thread_id)]}",
    )
    assert "failed" in answer[0]["content"] and "Regenerate" in answer[0]["content"]  # CALLS
    assert len(await bot.service.list_jobs(platform="discord", limit=10)) == 2, "no job from the reply"
    # Regenerate on the failed version makes it again (same spec and seed), now that the cause is gone.
    stand_in_pipeline.FAIL_WITH.clear()
    click = await emulator.click(failed["id"], f"ampa:regenerate:{failed_id}")
    await emulator.wait_for(
        lambda: len(status_messages(emulator, thread_id)) == 2, timeout=60, what="the regenerated version"
    )
    again = await eventually(
        lambda: _delivered(bot.service, job_id_of(status_messages(emulator, thread_id)[-1])),
        timeout=60,
        what="delivered",
    )
    assert again.status.value == "SUCCESS" and again.parent_id == failed_id and again.version == 3
    assert again.spec["seed"] == (await bot.service.get(failed_id)).spec["seed"]
    assert any("v3 is on its way" in t for t in emulator.said_to(click))


async def test_button_on_a_deleted_job(emulator: DiscordEmulator, bot: Any, job_settings: Any) -> None:
    await emulator.slash_command("generate", {"prompt": "epic cinematic strings", "duration": 6})
    status = (
        await emulator.wait_for(
            lambda: status_messages(emulator, emulator.channel_id), timeout=60, what="a status message"
        )
    )[0]
    result = (await emulator.wait_for(lambda: result_messages(emulator, status["id"]), timeout=60, what="results"))[0]
    job_id = job_id_of(result)
    await eventually(lambda: _delivered(bot.service, job_id), timeout=10, what="delivered")
    # An operator removes the job from the store.
    with sqlite3.connect(job_settings.data_dir / "ampa.db") as db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
    for action in ("variation", "regenerate", "tweak"):
        click = await emulator.click(result["id"], f"ampa:{action}:{job_id}")
        text = await _answer(emulator, click)
        assert "no longer" in text, (action, text)
    help_ = await emulator.slash_command("help")
    assert "/generate" in await _answer(emulator, help_), "the bot still works"


async def _delivered(service: Any, job_id: str) -> Any:
    job = await service.get(job_id)
    return job if job is not None and job.delivered else None
