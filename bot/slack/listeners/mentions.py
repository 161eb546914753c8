"""`@ampa …` in a channel (and plain messages in a DM with the app).

A mention at the top of a channel starts a new track in a thread under it. A mention inside a
thread that already holds an ampa job is a follow-up on that thread's latest version (Slack also
sends a `message` event for it, which `messages.py` ignores, so it never makes a second job).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.slack.listeners.deps import PLATFORM, Deps, strip_mentions
from bot.slack.listeners.flows import is_thread_reply, new_track, refine, thread_root


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        await handle_mention(deps, event, body["event_id"], context.bot_user_id)


async def handle_mention(deps: Deps, event: dict[str, Any], event_id: str, bot_user_id: str | None) -> None:
    prompt = strip_mentions(event.get("text", ""), bot_user_id)
    channel, root = event["channel"], thread_root(event)
    if is_thread_reply(event) and prompt:
        latest = await deps.service.latest_in_thread(PLATFORM, root)
        if latest is not None:
            await refine(
                deps, latest, text=prompt, user=event["user"], channel=channel, thread_ts=root, client_ref=event_id
            )
            return
    await new_track(
        deps,
        prompt=prompt,
        files=event.get("files") or [],
        user=event["user"],
        channel=channel,
        thread_ts=root,
        client_ref=event_id,
    )
