"""The one place an error becomes words for the user.

Every listener lets its errors propagate; Bolt hands them to `handle_error`, which answers where
the request came from (in the thread for events, ephemerally for slash commands and buttons).

    error                                   what the user reads
    -------------------------------------   ------------------------------------------------------
    worker.schemas.JobRejected              its `user_message` as is (limits, quota, queue full,
                                            too long, empty prompt, not music, failed parent, …)
    bot.common.attachments.AttachmentError  its `user_message` as is (not audio, corrupt, too big,
                                            too long, file outside Slack)
    pipeline.errors.PipelineError           its `user_message` as is
    SlackApiError not_in_channel /          "I'm not in this channel yet — invite me with /invite @ampa."
      channel_not_found
    anything else                           "Something went wrong on my side …" (logged with its
                                            traceback, never shown)
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.common.attachments import AttachmentError
from pipeline.errors import PipelineError
from worker.schemas import JobRejected

log = logging.getLogger(__name__)

GENERIC_MESSAGE = "Something went wrong on my side and it has been logged. Please try again in a minute."
NOT_IN_CHANNEL = "I'm not in this channel yet — invite me with `/invite @ampa` and try again."


def user_message(error: BaseException) -> str:
    if isinstance(error, (JobRejected, AttachmentError, PipelineError)):
        return error.user_message
    if isinstance(error, SlackApiError) and error.response.get("error") in ("not_in_channel", "channel_not_found"):
        return NOT_IN_CHANNEL
    return GENERIC_MESSAGE


def _is_expected(error: BaseException) -> bool:
    return isinstance(error, (JobRejected, AttachmentError, PipelineError))


def _is_slack_refusal(error: BaseException) -> bool:
    return isinstance(error, SlackApiError) and error.response.get("error") in ("not_in_channel", "channel_not_found")


def describe(error: BaseException) -> str:
    """Log the error as it deserves and return what to tell the user."""
    if _is_expected(error):
        log.info("refused a request: %s", error)
    elif _is_slack_refusal(error):
        log.warning("Slack refused a call: %s", error.response.get("error"))  # type: ignore[attr-defined]
    else:
        log.error("unhandled error in a Slack listener", exc_info=error)
    return user_message(error)


async def handle_error(error: Exception, body: dict[str, Any], client: AsyncWebClient, respond: Any = None) -> None:
    """Bolt's global error handler: log, then tell the user where they asked."""
    text = describe(error)
    try:
        await reply(client, body, text, respond=respond)
    except Exception as exc:  # noqa: BLE001 - the reply itself failing must not raise out of the error handler
        log.warning("could not tell the user about an error: %s", exc)


async def reply(client: AsyncWebClient, body: dict[str, Any], text: str, *, respond: Any = None) -> None:
    """Answer a request in the place it came from: thread for events, ephemeral for commands/buttons."""
    event = body.get("event")
    if event:
        channel = event.get("channel")
        thread_ts = event.get("thread_ts") or event.get("ts")
        if channel:
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
        return
    if respond is not None and body.get("response_url"):
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    if channel and user:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
