"""Follows jobs to their end: drives each job's status message and posts its result once.

The job store is the truth. A tracker task replays a job's events from the start
(`JobService.events(job_id, after_seq=0)`), so a bot that restarts mid-job picks every
undelivered job back up (`JobService.undelivered("discord")`), catches its status message up, and
posts the result it had not posted yet.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING

import discord

from bot.common.status import render_status
from bot.discord.results import already_posted, post_results, thread_name
from bot.discord.status import Rendered, StatusMessage, render_embed, status_content
from worker.schemas import JobEvent, JobStatus, JobView

if TYPE_CHECKING:
    from bot.discord.client import AmpaBot

log = logging.getLogger(__name__)


def status_ref(message: discord.Message | discord.PartialMessage) -> str:
    return f"{message.channel.id}:{message.id}"


def parse_status_ref(ref: str) -> tuple[int, int]:
    channel_id, message_id = ref.split(":", 1)
    return int(channel_id), int(message_id)


class JobTracker:
    def __init__(self, bot: AmpaBot) -> None:
        self._bot = bot
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._posted: dict[str, Rendered] = {}  # what announce() posted, so the first edit is not a repeat

    @property
    def service(self):
        return self._bot.service

    async def announce(
        self, job: JobView, channel: discord.abc.Messageable, *, reply_to: discord.Message | None = None
    ) -> discord.Message:
        """Post the job's status message in `channel`, record it, and start following the job.

        A job that already has one (the same interaction delivered twice: submit is idempotent on
        the interaction id) keeps it; nothing is posted twice.
        """
        if job.status_message_ref:
            channel_id, message_id = parse_status_ref(job.status_message_ref)
            self.track(job.id)
            return (await self._channel(channel_id)).get_partial_message(message_id)  # type: ignore[return-value]
        rendered = await self._render(job, [])  # the tracker catches up with the job's events from here
        kwargs = {
            "content": rendered.content,
            "embed": rendered.embed,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        message = await (reply_to.reply(**kwargs) if reply_to is not None else channel.send(**kwargs))
        self._posted[job.id] = rendered
        await self.service.set_status_message(job.id, status_ref(message))
        self.track(job.id)
        return message

    def track(self, job_id: str) -> None:
        """Follow a job until its result is posted (no-op when already followed)."""
        task = self._tasks.get(job_id)
        if task is not None and not task.done():
            return
        task = asyncio.create_task(self._follow(job_id), name=f"discord-track-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda done: self._tasks.pop(job_id, None) if self._tasks.get(job_id) is done else None)

    async def resume(self) -> int:
        """After a (re)start: follow every job whose final state this bot has not posted yet."""
        jobs = await self.service.undelivered("discord")
        for job in jobs:
            if job.status_message_ref:
                self.track(job.id)
            elif job.thread_ref or job.conversation_ref:
                # The bot stopped between accepting the job and posting its status message: post it now.
                try:
                    channel = await self._channel(int(job.thread_ref or job.conversation_ref))
                    await self.announce(job, channel)
                except (discord.HTTPException, ValueError):
                    log.warning("job %s: its channel is gone; marking it delivered", job.id)
                    await self.service.mark_delivered(job.id)
        log.info("resumed %d undelivered Discord jobs", len(jobs))
        return len(jobs)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    # ----------------------------------------------------------------- one job
    async def _follow(self, job_id: str) -> None:
        try:
            await self._follow_unguarded(job_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            # One job's trouble must not stop the others; the job stays undelivered and is
            # picked up again at the next start.
            log.exception("stopped following job %s", job_id)

    async def _follow_unguarded(self, job_id: str) -> None:
        job = await self.service.get(job_id)
        if job is None or job.status_message_ref is None:
            return
        channel_id, message_id = parse_status_ref(job.status_message_ref)
        message = (await self._channel(channel_id)).get_partial_message(message_id)

        async def edit(rendered: Rendered) -> None:
            await message.edit(content=rendered.content, embed=rendered.embed, view=rendered.view)

        status = StatusMessage(
            edit, interval=self._bot.discord_settings.status_edit_interval_s, shown=self._posted.pop(job_id, None)
        )
        events: list[JobEvent] = []
        try:
            async for event in self.service.events(job_id, after_seq=0):
                events.append(event)
                job = await self.service.get(job_id) or job
                if not job.status.is_terminal:
                    status.show(await self._render(job, events))
            job = await self.service.get(job_id) or job
            if not job.status.is_terminal:  # the event stream ended early (service closing): try again later
                return
            await status.finish(await self._render(job, events))
        finally:
            await status.close()
        await self._deliver(job, message, status.gone)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        """The channel from the cache, else from the API (right after a restart the cache is empty);
        a guild channel (not a bare partial one) is needed to start a thread."""
        channel = self._bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self._bot.fetch_channel(channel_id)
            except discord.HTTPException:
                channel = self._bot.get_partial_messageable(channel_id)
        return channel  # type: ignore[return-value]

    async def _render(self, job: JobView, events: list[JobEvent]) -> Rendered:
        view = render_status(job, events)
        if job.status == JobStatus.PENDING and not any("queue_position" in e.data for e in events):
            position = await self.service.queue_position(job.id)
            if position:
                view = dataclasses.replace(
                    view, lines=[f"⏳ Waiting in the queue — position {position}", *view.lines[1:]]
                )
        from bot.discord.views import buttons_for  # views import the client; import late to keep one direction

        buttons = buttons_for(job) if job.status in (JobStatus.FAILED, JobStatus.CANCELLED) else None
        return Rendered(status_content(job), render_embed(job, view), buttons)

    async def _deliver(self, job: JobView, status_message: discord.PartialMessage, status_gone: bool) -> None:
        if job.delivered:
            return
        if job.status == JobStatus.SUCCESS and not status_gone:
            try:
                thread = await self._thread_for(job, status_message)
            except discord.Forbidden:
                # No "Create Public Threads" permission here: the results go under the status message.
                log.warning("job %s: not allowed to start a thread; posting the results in the channel", job.id)
                thread = status_message.channel
            from bot.discord.views import buttons_for

            if not await already_posted(thread, job, self._bot.user):
                files = {name: self.service.file_path(job, name) for name in job.files}
                await post_results(
                    thread,
                    job,
                    files=files,
                    settings=self._bot.discord_settings,
                    public_base_url=self._bot.public_base_url,
                    view=buttons_for(job),
                    links=self.service.links.for_chat(job),
                )
        await self.service.mark_delivered(job.id)

    async def _thread_for(self, job: JobView, status_message: discord.PartialMessage) -> discord.abc.Messageable:
        """The job's thread: the one it already has (iterations), or a new one from its status message."""
        if job.thread_ref:
            return self._bot.get_partial_messageable(int(job.thread_ref))
        try:
            thread = await status_message.create_thread(name=thread_name(job), auto_archive_duration=1440)
        except discord.HTTPException as exc:
            if exc.code != 160004:  # "a thread has already been created for this message" (restart)
                raise
            thread = self._bot.get_partial_messageable(status_message.id)  # a message's thread has its id
        await self.service.set_thread(job.id, str(thread.id))
        return thread
