"""`message` events: replies in a job's thread become follow-ups; a DM to the app is a request.

Ignored: the app's own messages (Bolt's self-event filter, and any `bot_id` here), edits and
deletions (subtypes), top-level channel chatter, threads without an ampa job, and any message that
mentions the app — Slack sends an `app_mention` for those too, and that one does the work.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.slack.listeners.deps import PLATFORM, Deps, mentions_bot, strip_mentions
from bot.slack.listeners.flows import is_thread_reply, new_track, refine, thread_root

log = logging.getLogger(__name__)

_USER_SUBTYPES = (None, "file_share", "thread_broadcast")


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("message")
    async def on_message(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        await handle_message(deps, event, body["event_id"], context.bot_user_id)


async def handle_message(deps: Deps, event: dict[str, Any], event_id: str, bot_user_id: str | None) -> None:
    if event.get("bot_id") or event.get("subtype") not in _USER_SUBTYPES or not event.get("user"):
        return
    if bot_user_id and event.get("user") == bot_user_id:
        return
    text = event.get("text", "")
    if mentions_bot(text, bot_user_id):
        return  # the accompanying app_mention handles it
    channel, root = event["channel"], thread_root(event)
    if is_thread_reply(event):
        latest = await deps.service.latest_in_thread(PLATFORM, root)
        if latest is None:
            return  # somebody else's thread
        prompt = strip_mentions(text, bot_user_id)
        if prompt:
            await refine(
                deps, latest, text=prompt, user=event["user"], channel=channel, thread_ts=root, client_ref=event_id
            )
        return
    if event.get("channel_type") == "im":
        await new_track(
            deps,
            prompt=strip_mentions(text, bot_user_id),
            files=event.get("files") or [],
            user=event["user"],
            channel=channel,
            thread_ts=root,
            client_ref=event_id,
        )
