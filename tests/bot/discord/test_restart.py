"""The job store is the truth: a bot restarted mid-job still brings the status message to its final
state and posts the result once; buttons on messages from a previous run still work."""

from __future__ import annotations

from typing import Any

from tests import stand_in_pipeline
from tests.bot.discord.conftest import open_service, running_bot
from tests.bot.discord.emulator import DiscordEmulator, message_text
from tests.bot.discord.helpers import eventually, job_id_of, result_messages, status_messages


async def _job_in(service: Any, job_id: str, stage: str) -> Any:
    job = await service.get(job_id)
    return job if job is not None and job.stage == stage else None


async def _delivered(service: Any, job_id: str) -> Any:
    job = await service.get(job_id)
    return job if job is not None and job.delivered else None


async def test_bot_restart_mid_job_reaches_final_state_and_posts_once(
    emulator: DiscordEmulator, service: Any, job_settings: Any
) -> None:
    stand_in_pipeline.GATE.clear()  # hold the job inside "rendering"
    async with running_bot(emulator, service, job_settings):
        await emulator.slash_command("generate", {"prompt": "calm lofi hip-hop with piano", "duration": 6})
        status = (
            await emulator.wait_for(
                lambda: status_messages(emulator, emulator.channel_id), timeout=60, what="a status message"
            )
        )[0]
        job_id = job_id_of(status)
        await eventually(lambda: _job_in(service, job_id, "rendering"), timeout=30, what="the job rendering")
        await emulator.wait_for(
            lambda: "▶ Rendering" in message_text(emulator.messages[status["id"]]),
            timeout=10,
            what="the status showing rendering",
        )
    # The bot is gone; the job goes on and finishes without anyone to tell.
    stand_in_pipeline.GATE.set()
    edits_while_down = len(emulator.message_edits(status["id"]))
    async with running_bot(emulator, service, job_settings):
        assert emulator.identifies == 2, "a new client logged in"
        results = await emulator.wait_for(
            lambda: result_messages(emulator, status["id"]), timeout=60, what="results after the restart"
        )
        await eventually(lambda: _delivered(service, job_id), timeout=10, what="the job marked delivered")
        final = message_text(emulator.messages[status["id"]])
        assert "Your track is ready" in final and "QA passed" in final
        assert len(emulator.message_edits(status["id"])) > edits_while_down
    assert len(results) == 1 and len(result_messages(emulator, status["id"])) == 1, "posted once"
    assert len(emulator.threads) == 1


async def test_buttons_work_after_restart_on_the_same_database(emulator: DiscordEmulator, job_settings: Any) -> None:
    async with open_service(job_settings) as service, running_bot(emulator, service, job_settings):
        await emulator.slash_command("generate", {"prompt": "energetic house with piano", "duration": 6, "seed": 11})
        status = (
            await emulator.wait_for(
                lambda: status_messages(emulator, emulator.channel_id), timeout=60, what="a status message"
            )
        )[0]
        first = (await emulator.wait_for(lambda: result_messages(emulator, status["id"]), timeout=60, what="results"))[
            0
        ]
        job_id = job_id_of(first)
        await eventually(lambda: _delivered(service, job_id), timeout=10, what="delivered")
        # Tweak… opens a form; the user is still typing when the bot restarts.
        tweak = await emulator.click(first["id"], f"ampa:tweak:{job_id}")
        await emulator.wait_for(lambda: tweak.callbacks, timeout=3, what="the tweak form")
        modal = emulator.callback(tweak).json
        assert modal["type"] == 9
    thread_id = status["id"]
    # A new service and a new client on the same database: nothing in memory survives.
    async with open_service(job_settings) as service, running_bot(emulator, service, job_settings):
        click = await emulator.click(first["id"], f"ampa:variation:{job_id}")
        await emulator.wait_for(lambda: click.callbacks, timeout=3, what="the deferred answer to the click")
        assert emulator.callback(click).json["type"] == 5
        new_status = (
            await emulator.wait_for(
                lambda: status_messages(emulator, thread_id), timeout=60, what="the variation's status in the thread"
            )
        )[0]
        variation_id = job_id_of(new_status)
        await emulator.wait_for(
            lambda: [m for m in result_messages(emulator, thread_id) if job_id_of(m) == variation_id],
            timeout=60,
            what="the variation's results",
        )
        original, variation = await service.get(job_id), await service.get(variation_id)
        assert variation.parent_id == job_id and variation.version == 2 and variation.thread_ref == thread_id
        assert variation.spec["seed"]["value"] != original.spec["seed"]["value"], "a variation has a new seed"
        assert {k: v for k, v in variation.spec.items() if k != "seed"}.keys() == {
            k for k in original.spec if k != "seed"
        }
        assert any("v2 is on its way" in text for text in emulator.said_to(click))

        # The form opened before the restart is answered now: the next version, in the same thread.
        answer = await emulator.submit_modal(
            modal["data"], {_text_input_id(modal["data"]): "make it faster"}, channel_id=thread_id
        )
        await emulator.wait_for(
            lambda: len(status_messages(emulator, thread_id)) == 2, timeout=60, what="the tweak's status message"
        )
        tweaked_id = job_id_of(status_messages(emulator, thread_id)[-1])
        tweaked = await eventually(lambda: _delivered(service, tweaked_id), timeout=60, what="the tweak delivered")
        assert tweaked.version == 3 and tweaked.thread_ref == thread_id
        assert any("v3 is on its way" in text for text in emulator.said_to(answer))
    assert len(emulator.threads) == 1


def _text_input_id(modal: dict[str, Any]) -> str:
    for row in modal["components"]:
        for component in row.get("components", []) or [row.get("component", {})]:
            if component.get("type") == 4:
                return component["custom_id"]
    raise AssertionError(f"no text input in {modal}")


async def test_job_accepted_before_a_crash_gets_its_status_message_on_restart(
    emulator: DiscordEmulator, service: Any, job_settings: Any
) -> None:
    from worker.schemas import JobRequest

    # The previous process accepted the job, then died before posting anything.
    job = await service.submit(
        JobRequest(
            prompt="nostalgic synthwave",
            platform="discord",
            requester_id=emulator.user["id"],
            conversation_ref=emulator.channel_id,
            duration_s=6,
        )
    )
    async with running_bot(emulator, service, job_settings):
        status = (
            await emulator.wait_for(
                lambda: status_messages(emulator, emulator.channel_id), timeout=30, what="the status message"
            )
        )[0]
        assert job_id_of(status) == job.id
        await emulator.wait_for(lambda: result_messages(emulator, status["id"]), timeout=60, what="results")
        await eventually(lambda: _delivered(service, job.id), timeout=10, what="delivered")
