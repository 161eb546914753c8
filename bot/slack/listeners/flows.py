"""What a request turns into, whichever listener it came through.

`new_track`: a mention, a DM or a slash command → (reference downloaded and checked) → a job →
its status message in the thread. `refine`: a reply in a job's thread → a follow-up job, the next
version in the same thread. Errors propagate to `bot.slack.errors`, except where a placeholder
message already exists: then the placeholder itself turns into the explanation.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.slack.blocks import HELP_TEXT
from bot.slack.errors import describe
from bot.slack.files import fetch_reference
from bot.slack.listeners.deps import PLATFORM, Deps
from bot.slack.status import MessageRef, post_status
from worker.schemas import JobRequest, JobView

log = logging.getLogger(__name__)

EMPTY_PROMPT = (
    "Tell me what to make after the mention, e.g. `@ampa upbeat corporate funk, 60 seconds` "
    "(attach an audio file to use it as a reference). Say `@ampa help` for more."
)
PLACEHOLDER = "🎧 Got it — reading your request…"
# Slack has no options on a mention: `model: stable-audio` anywhere in the text picks the model
# (or words such as "made with stable audio", which the job system reads from the prompt itself).
_MODEL_TOKEN = re.compile(r"(?:^|\s)model\s*[:=]\s*([A-Za-z][\w-]*)", re.I)


def split_model(prompt: str) -> tuple[str, str | None]:
    """The prompt without its `model: NAME` token, and the name (None when there is none)."""
    match = _MODEL_TOKEN.search(prompt)
    if match is None:
        return prompt, None
    return (prompt[: match.start()] + prompt[match.end() :]).strip(), match[1].lower()


async def new_track(
    deps: Deps,
    *,
    prompt: str,
    files: list[dict[str, Any]],
    user: str,
    channel: str,
    thread_ts: str,
    client_ref: str,
) -> JobView | None:
    """Answer at once in the thread, then download the reference, submit, and follow the job."""
    if prompt.lower() in ("help", "?"):
        await deps.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=HELP_TEXT)
        return None
    if not prompt:
        await deps.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=EMPTY_PROMPT)
        return None
    prompt, model = split_model(prompt)
    placeholder = await post_status(deps.client, channel, thread_ts, PLACEHOLDER, [])
    try:
        reference = await fetch_reference(files[0], deps.settings) if files else None
        job = await deps.service.submit(
            JobRequest(
                prompt=prompt,
                backend=model,
                platform=PLATFORM,
                requester_id=user,
                conversation_ref=channel,
                thread_ref=thread_ts,
                reference_path=str(reference) if reference else None,
                client_ref=client_ref,
            )
        )
    except Exception as exc:  # noqa: BLE001 - every error becomes the placeholder's text (see errors.py)
        await deps.client.chat_update(channel=placeholder.channel, ts=placeholder.ts, text=describe(exc), blocks=[])
        return None
    if job.status_message_ref and job.status_message_ref != placeholder.to_ref():
        # The job system already knew this request (a redelivery after a restart): one status message only.
        await deps.client.chat_update(
            channel=placeholder.channel,
            ts=placeholder.ts,
            text="I'm already on this one — see the status above.",
            blocks=[],
        )
        return job
    if len(files) > 1:
        await deps.client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=f"I used {files[0].get('name', 'the first file')} as the reference and ignored the other files.",
        )
    await deps.tracker.start_job(job, channel=channel, thread_ts=thread_ts, status_ref=placeholder)
    return job


async def refine(
    deps: Deps, latest: JobView, *, text: str, user: str, channel: str, thread_ts: str, client_ref: str
) -> JobView | None:
    """A reply in a job's thread: a follow-up against the thread's latest version."""
    follow = await deps.service.follow_up(latest.id, text, requester_id=user, client_ref=client_ref)
    if follow.job is None:
        message = (
            follow.message
            or "I didn't find anything to change in that. Try e.g. “slower”, “no drums” or “make it 90 seconds”."
        )
        await deps.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message)
        return None
    job: JobView = follow.job
    if job.status_message_ref:
        return job  # already being followed (a redelivered reply)
    await deps.tracker.start_job(job, channel=channel, thread_ts=thread_ts)
    if follow.message:
        await deps.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=follow.message)
    return job


def thread_root(event: dict[str, Any]) -> str:
    return event.get("thread_ts") or event["ts"]


def is_thread_reply(event: dict[str, Any]) -> bool:
    return bool(event.get("thread_ts")) and event.get("thread_ts") != event.get("ts")


__all__ = ["MessageRef", "is_thread_reply", "new_track", "refine", "thread_root"]
