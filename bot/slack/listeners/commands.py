"""`/generate <what you want>`: the same as a mention, from anywhere the command is allowed.

Slack wants an answer within 3 seconds, so the command is acknowledged at once (ephemerally), then
the job is submitted; its status message is posted in the channel and the results go in the
thread under it. Refusals (limits, empty prompt) come back ephemerally through the error handler.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.blocks import HELP_TEXT
from bot.slack.listeners.deps import PLATFORM, Deps
from bot.slack.status import post_status
from worker.schemas import JobRequest

COMMAND = "/generate"


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND)
    async def on_generate(ack: Any, command: dict[str, Any]) -> None:
        prompt = " ".join((command.get("text") or "").split())
        if not prompt or prompt.lower() in ("help", "?"):
            await ack(text=HELP_TEXT)
            return
        await ack(text=f"🎧 On it: “{prompt}”")
        await generate(deps, command, prompt)


async def generate(deps: Deps, command: dict[str, Any], prompt: str) -> None:
    channel = command["channel_id"]
    job = await deps.service.submit(
        JobRequest(
            prompt=prompt,
            platform=PLATFORM,
            requester_id=command["user_id"],
            conversation_ref=channel,
            client_ref=command.get("trigger_id"),
        )
    )
    if job.status_message_ref:
        return
    # The status message is the top of the thread that will hold the results and later versions.
    ref = await post_status(deps.client, channel, None, f"<@{command['user_id']}> asked for: {prompt}", [])
    await deps.tracker.start_job(job, channel=channel, thread_ts=ref.ts, status_ref=ref)
