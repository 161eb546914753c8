"""Thread replies become new versions.

A message in a job's thread, a reply to one of ampa's messages, or a mention of the bot in such a
thread is a follow-up ("make the drums quieter"): it is applied to the thread's latest version
(JobService.follow_up) and the new version is made in the same thread, linked to its parent.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord

from bot.discord.errors import UserFacingError, report_in_channel
from bot.discord.status import job_id_from_footer
from worker.schemas import JobStatus, JobView

if TYPE_CHECKING:
    from bot.discord.client import AmpaBot

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 1000
_MENTION = re.compile(r"<@!?\d+>")


async def follow_up_on(
    bot: AmpaBot, job: JobView, text: str, *, requester_id: str, client_ref: str | None
) -> tuple[JobView | None, str | None]:
    """Apply `text` to the newest version in `job`'s thread: (new job or None, a message for the user or None)."""
    text = text.strip()
    if not text:
        raise UserFacingError("Tell me what to change, e.g. “make the drums quieter” or “faster, in D minor”.")
    if len(text) > MAX_REPLY_CHARS:
        raise UserFacingError(
            f"That's {len(text)} characters; keep a change under {MAX_REPLY_CHARS} — one or two sentences is plenty."
        )
    latest = job
    if job.thread_ref:
        latest = await bot.service.latest_in_thread("discord", job.thread_ref) or job
    if latest.status == JobStatus.FAILED:
        raise UserFacingError(
            "The latest version in this thread failed, so there is nothing to change yet — press Regenerate or start again with /generate."
        )
    follow = await bot.service.follow_up(latest.id, text, requester_id=requester_id, client_ref=client_ref)
    return follow.job, follow.message


async def on_message(bot: AmpaBot, message: discord.Message) -> None:
    """Gateway MESSAGE_CREATE: route follow-ups, ignore everything else (cheaply: most messages are chat)."""
    if message.author.bot or message.webhook_id is not None or bot.user is None:
        return
    try:
        job = await _job_for(bot, message)
        if job is None:
            return
        text = _MENTION.sub("", message.content).strip()
        new_job, note = await follow_up_on(
            bot, job, text, requester_id=str(message.author.id), client_ref=str(message.id)
        )
        if new_job is None:
            await message.reply(
                note or "I couldn't find anything to change in that. Try e.g. “make it slower”.", mention_author=False
            )
            return
        target = bot.get_partial_messageable(int(new_job.thread_ref)) if new_job.thread_ref else message.channel
        await bot.tracker.announce(new_job, target, reply_to=message if target.id == message.channel.id else None)
        if note:
            await message.reply(note, mention_author=False)
    except Exception as exc:  # noqa: BLE001 - one handler decides the wording
        await report_in_channel(message, exc)


async def _job_for(bot: AmpaBot, message: discord.Message) -> JobView | None:
    """The job a message follows up on, or None when it is not a follow-up."""
    # A reply to one of ampa's messages (status or result) anywhere: the job id is in its footer.
    reference = message.reference
    if reference is not None and reference.message_id is not None:
        referenced = reference.resolved if isinstance(reference.resolved, discord.Message) else None
        if referenced is None:
            try:
                referenced = await message.channel.fetch_message(reference.message_id)
            except discord.HTTPException:
                referenced = None
        if referenced is not None and referenced.author.id == bot.user.id:
            job_id = job_id_from_footer(referenced)
            if job_id is not None:
                job = await bot.service.get(job_id)
                if job is None:
                    raise UserFacingError(
                        "I no longer have that track (it may have been deleted). Start a new one with /generate."
                    )
                return job
    # Any message (or mention of the bot) in a thread ampa made for a job.
    if isinstance(message.channel, discord.Thread) or message.channel.type in (
        discord.ChannelType.public_thread,
        discord.ChannelType.private_thread,
    ):
        return await bot.service.latest_in_thread("discord", str(message.channel.id))
    return None
