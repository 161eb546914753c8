"""Follows jobs from submission to delivery: status message updates, then the files in the thread.

One task per job reads `JobService.events` (history first, then live events until the job ends),
redraws the status message through `StatusMessage` (coalesced `chat.update`), and when the job is
final uploads the results and marks the job delivered. At start-up `resume()` picks up every Slack
job that was not delivered yet, so a restart mid-job still reaches the final state.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.common.status import render_status
from bot.slack.blocks import status_blocks, status_text
from bot.slack.delivery import deliver
from bot.slack.settings import SlackSettings
from bot.slack.status import MessageRef, StatusMessage, post_status
from worker.schemas import JobEvent, JobStatus, JobView

log = logging.getLogger(__name__)

PLATFORM = "slack"
_FOLLOW_ATTEMPTS = 5


class JobTracker:
    def __init__(self, client: AsyncWebClient, service: Any, settings: SlackSettings) -> None:
        self._client = client
        self._service = service
        self._settings = settings
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def start_job(
        self, job: JobView, *, channel: str, thread_ts: str, status_ref: MessageRef | None = None
    ) -> MessageRef:
        """Post (or adopt) the job's status message, record it on the job, and follow the job."""
        view = render_status(job, [])
        shown = (status_text(view), status_blocks(view, job))
        if status_ref is None:
            status_ref = await post_status(self._client, channel, thread_ts, *shown)
        else:
            await self._client.chat_update(channel=status_ref.channel, ts=status_ref.ts, text=shown[0], blocks=shown[1])
        await self._service.set_status_message(job.id, status_ref.to_ref())
        if job.thread_ref != thread_ts:
            await self._service.set_thread(job.id, thread_ts)
        self.follow(job.id, status_ref, thread_ts, shown=shown)
        return status_ref

    def follow(
        self,
        job_id: str,
        status_ref: MessageRef,
        thread_ts: str,
        *,
        shown: tuple[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        if job_id in self._tasks and not self._tasks[job_id].done():
            return
        task = asyncio.create_task(self._follow(job_id, status_ref, thread_ts, shown), name=f"slack-job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _t, key=job_id: self._tasks.pop(key, None))

    async def resume(self) -> int:
        """Follow every undelivered Slack job again (after a restart). Returns how many."""
        count = 0
        for job in await self._service.undelivered(PLATFORM):
            try:
                if job.status_message_ref:
                    ref = MessageRef.from_ref(job.status_message_ref)
                    self.follow(job.id, ref, job.thread_ref or ref.ts)
                elif job.conversation_ref and job.thread_ref:
                    # Stopped between submitting and posting the status message: post it now.
                    await self.start_job(job, channel=job.conversation_ref, thread_ts=job.thread_ref)
                else:
                    continue
                count += 1
            except (SlackApiError, ValueError) as exc:
                log.warning("could not resume job %s: %s", job.id, exc)
        if count:
            log.info("resumed %d undelivered Slack job(s)", count)
        return count

    async def wait_idle(self, timeout: float) -> None:
        """Wait until every followed job is delivered (tests and graceful shutdown)."""
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _follow(
        self, job_id: str, status_ref: MessageRef, thread_ts: str, shown: tuple[str, list[dict[str, Any]]] | None
    ) -> None:
        status = StatusMessage(self._client, status_ref, interval=self._settings.status_update_interval_s, shown=shown)
        events: list[JobEvent] = []
        try:
            for attempt in range(_FOLLOW_ATTEMPTS):
                try:
                    async for event in self._service.events(job_id, after_seq=events[-1].seq if events else 0):
                        events.append(event)
                        job = await self._service.get(job_id)
                        if job is not None and not job.status.is_terminal:
                            view = render_status(job, events)
                            await status.show(status_text(view), status_blocks(view, job))
                    break
                except (TimeoutError, OSError, ConnectionError) as exc:
                    # The event stream dropped (database or Redis restart): pick up after the last seq.
                    log.warning("event stream for job %s broke (%s); retrying", job_id, type(exc).__name__)
                    await asyncio.sleep(min(2**attempt, 10))
            job = await self._service.get(job_id)
            if job is None or not job.status.is_terminal:
                log.warning("job %s not final after following its events; will resume at next start", job_id)
                return
            await self._finish(job, events, status, thread_ts)
        except asyncio.CancelledError:
            raise
        except Exception:
            # One job's failure to report must never take the app down; the job stays undelivered.
            log.exception("following job %s failed", job_id)
        finally:
            await status.close()

    async def _finish(self, job: JobView, events: list[JobEvent], status: StatusMessage, thread_ts: str) -> None:
        links = self._service.links.for_chat(job) if job.status == JobStatus.SUCCESS else {}
        if job.status == JobStatus.SUCCESS:
            try:
                await deliver(
                    self._client,
                    self._service,
                    job,
                    channel=status.ref.channel,
                    thread_ts=thread_ts,
                    max_upload_bytes=self._settings.max_upload_bytes,
                    links=links,
                )
            except SlackApiError as exc:
                error = exc.response.get("error")
                log.warning("uploading results of job %s failed: %s", job.id, error)
                await self._client.chat_postMessage(
                    channel=status.ref.channel,
                    thread_ts=thread_ts,
                    text=f"Your track is ready, but Slack refused the upload ({error}). "
                    "Check that ampa has the files:write scope and is in this channel.",
                )
        view = render_status(job, events)
        await status.show(status_text(view), status_blocks(view, job, links.get("page")), final=True)
        await self._service.mark_delivered(job.id)

