"""/generate's `match` option and the prompt's words reach the job's spec with the reference."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import soundfile as sf

from tests.bot.discord.emulator import DiscordEmulator
from tests.bot.discord.helpers import eventually, job_id_of, status_messages


def _wav() -> bytes:
    buffer = io.BytesIO()
    t = np.arange(22050 * 6) / 22050
    sf.write(buffer, 0.3 * np.sin(2 * np.pi * 220 * t), 22050, format="WAV")
    return buffer.getvalue()


async def _job(emulator: DiscordEmulator, bot: Any, options: dict[str, Any]) -> Any:
    before = len(status_messages(emulator, emulator.channel_id))
    await emulator.slash_command("generate", options)
    status = (
        await emulator.wait_for(
            lambda: status_messages(emulator, emulator.channel_id)[before:] or None, timeout=60, what="a status message"
        )
    )[0]
    return await eventually(lambda: bot.service.get(job_id_of(status)), timeout=60, what="the job")


async def test_match_option_and_prompt_words_switch_reference_mastering_on(emulator: DiscordEmulator, bot: Any) -> None:
    options = emulator._command("generate")["options"]
    match = next(o for o in options if o["name"] == "match")
    assert match["type"] == 5 and not match.get("required")  # a boolean, optional

    attachment = emulator.add_attachment("groove.wav", _wav(), "audio/wav")
    job = await _job(emulator, bot, {"prompt": "funk like this", "reference": attachment, "match": True})
    assert job.spec["match_reference"]["value"] is True and job.reference_path
    assert job.spec.get("align_to_reference") is None

    again = emulator.add_attachment("groove2.wav", _wav(), "audio/wav")
    worded = await _job(
        emulator,
        bot,
        {"prompt": "funk like this, match the reference and line it up with its downbeat", "reference": again},
    )
    assert worded.spec["match_reference"]["value"] is True
    assert worded.spec["align_to_reference"]["value"] is True
