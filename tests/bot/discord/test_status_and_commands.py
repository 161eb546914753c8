"""Status edits are coalesced and paced (never refused for rate limits, final state always written);
the token never reaches a log; /jobs, /cancel, /help and autocomplete answer privately."""

from __future__ import annotations

import itertools
import logging
from typing import Any

import pytest

from tests import stand_in_pipeline
from tests.bot.discord.conftest import TOKEN
from tests.bot.discord.emulator import DiscordEmulator, message_text
from tests.bot.discord.helpers import eventually, job_id_of, status_messages


async def _delivered(service: Any, job_id: str) -> Any:
    job = await service.get(job_id)
    return job if job is not None and job.delivered else None


async def test_status_edits_are_coalesced_paced_and_end_final(
    emulator: DiscordEmulator, bot: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(stand_in_pipeline, "STAGE_S", 0.02)  # events far faster than Discord allows edits
    await emulator.slash_command("generate", {"prompt": "fast drum-and-bass", "duration": 6})
    status = (
        await emulator.wait_for(
            lambda: status_messages(emulator, emulator.channel_id), timeout=60, what="a status message"
        )
    )[0]
    job_id = job_id_of(status)
    await eventually(lambda: _delivered(bot.service, job_id), timeout=60, what="delivered")
    events = await bot.service.history(job_id)
    edits = emulator.message_edits(status["id"])
    interval = bot.discord_settings.status_edit_interval_s
    assert 1 <= len(edits) < len(events), f"{len(edits)} edits for {len(events)} events"
    gaps = [b.at - a.at for a, b in itertools.pairwise(edits)]
    assert all(gap >= interval * 0.9 for gap in gaps), f"edits closer than {interval} s: {gaps}"
    assert "Your track is ready" in message_text(edits[-1].json), "the last edit is the final state"
    assert not emulator.rate_limited
    assert TOKEN not in caplog.text and TOKEN.split(".")[1] not in caplog.text
    # The token goes to the configured API only, as the bot's Authorization; interaction webhooks carry none.
    for call in emulator.calls:
        expected = None if call.path.startswith(("/webhooks/", "/interactions/")) else f"Bot {TOKEN}"
        assert call.headers.get("Authorization") == expected, call.path


async def test_jobs_cancel_help_and_autocomplete(emulator: DiscordEmulator, bot: Any) -> None:
    stand_in_pipeline.GATE.clear()
    await emulator.slash_command("generate", {"prompt": "dreamy ambient pads", "duration": 6})
    status = (
        await emulator.wait_for(
            lambda: status_messages(emulator, emulator.channel_id), timeout=60, what="a status message"
        )
    )[0]
    job_id = job_id_of(status)

    jobs = await emulator.slash_command("jobs")
    text = await emulator.wait_for(lambda: "".join(emulator.said_to(jobs)), timeout=30, what="/jobs")
    assert job_id[:8] in text and emulator.callback(jobs).json["data"]["flags"] & 64

    choices = await emulator.autocomplete("cancel", {"job": ""}, focused="job")
    await emulator.wait_for(lambda: choices.callbacks, timeout=5, what="autocomplete choices")
    assert [c["value"] for c in emulator.callback(choices).json["data"]["choices"]] == [job_id]

    other = emulator.make_user("mallory")
    denied = await emulator.slash_command("cancel", {"job": job_id}, user=other)
    assert "Only the person" in await emulator.wait_for(
        lambda: "".join(emulator.said_to(denied)), timeout=30, what="refusal"
    )

    cancel = await emulator.slash_command("cancel")
    await emulator.wait_for(
        lambda: any(w in "".join(emulator.said_to(cancel)) for w in ("Stopping", "Cancelled")),
        timeout=30,
        what="/cancel of a running job",
    )
    stand_in_pipeline.GATE.set()
    await emulator.wait_for(
        lambda: "Cancelled" in message_text(emulator.messages[status["id"]]),
        timeout=30,
        what="the status showing cancelled",
    )
    job = await eventually(lambda: _delivered(bot.service, job_id), timeout=30, what="delivered")
    assert job.status.value == "CANCELLED"

    genres = await emulator.autocomplete("generate", {"prompt": "x", "genre": "syn"}, focused="genre")
    await emulator.wait_for(lambda: genres.callbacks, timeout=5, what="genre choices")
    assert [c["value"] for c in emulator.callback(genres).json["data"]["choices"]] == ["synthwave"]
    keys = await emulator.autocomplete("generate", {"prompt": "x", "key": "A m"}, focused="key")
    await emulator.wait_for(lambda: keys.callbacks, timeout=5, what="key choices")
    assert "A minor" in [c["value"] for c in emulator.callback(keys).json["data"]["choices"]]

    help_ = await emulator.slash_command("help")
    assert "/generate" in await emulator.wait_for(lambda: "".join(emulator.said_to(help_)), timeout=5, what="/help")
    schema = {c["name"]: c for c in emulator.commands}
    assert set(schema) == {"generate", "jobs", "cancel", "help"}
    options = {o["name"]: o for o in schema["generate"]["options"]}
    assert options["reference"]["type"] == 11 and options["genre"]["autocomplete"] and options["prompt"]["required"]
