"""One status message per job, edited in place, at a pace Discord accepts.

Jobs change state faster than Discord lets a bot edit a message (about 5 edits per 5 s per
channel). `StatusMessage` keeps only the newest view: updates that arrive while it waits are
coalesced, an edit goes out at most once per `interval`, and `finish()` always writes the final
state. What the message shows comes from `bot.common.status.render_status`; this module only draws
it as a Discord embed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord

from bot.common.status import StatusView
from worker.schemas import JobStatus, JobView

log = logging.getLogger(__name__)

_COLOURS = {
    JobStatus.PENDING: discord.Colour.light_grey(),
    JobStatus.PROCESSING: discord.Colour.blurple(),
    JobStatus.RETRYING_QA: discord.Colour.orange(),
    JobStatus.SUCCESS: discord.Colour.green(),
    JobStatus.FAILED: discord.Colour.red(),
    JobStatus.CANCELLED: discord.Colour.dark_grey(),
}
_EMBED_TEXT_LIMIT = 4000  # description limit is 4096; leave room
FOOTER_PREFIX = "ampa · job "
_MAX_FAILURES = 5


@dataclass(frozen=True)
class Rendered:
    """What one edit sends; compared to skip edits that would change nothing."""

    content: str
    embed: discord.Embed
    view: discord.ui.View | None = None

    def key(self) -> tuple[str, object, tuple[str, ...]]:
        ids = tuple(getattr(c, "custom_id", "") or "" for c in self.view.children) if self.view else ()
        return self.content, self.embed.to_dict(), ids


def job_footer(job: JobView) -> str:
    """The footer carries the job id: replies to the message find their job through it."""
    return f"{FOOTER_PREFIX}{job.id} · v{job.version}"


def job_id_from_footer(message: discord.Message) -> str | None:
    for embed in message.embeds:
        text = embed.footer.text or ""
        if text.startswith(FOOTER_PREFIX):
            return text[len(FOOTER_PREFIX) :].split(" ", 1)[0]
    return None


def render_embed(job: JobView, view: StatusView) -> discord.Embed:
    lines = [f"**Understood:** {view.understood}", "", *view.lines]
    if view.verdict:
        lines += ["", view.verdict]
    if view.timings:
        lines.append(view.timings)
    description = "\n".join(lines)
    if len(description) > _EMBED_TEXT_LIMIT:
        description = description[: _EMBED_TEXT_LIMIT - 1] + "…"
    embed = discord.Embed(title=view.headline, description=description, colour=_COLOURS[job.status])
    if view.reference:
        embed.add_field(name="From the reference", value="\n".join(f"• {n}" for n in view.reference)[:1024], inline=False)
    if view.notes:
        embed.add_field(name="Notes", value="\n".join(f"• {n}" for n in view.notes)[:1024], inline=False)
    embed.set_footer(text=job_footer(job))
    return embed


def status_content(job: JobView) -> str:
    prompt = job.prompt if len(job.prompt) <= 300 else job.prompt[:299] + "…"
    return f"<@{job.requester_id}> asked for: “{prompt}”" if prompt else f"<@{job.requester_id}>"


class StatusMessage:
    """Edits one message to the newest state, coalescing, at most once per `interval` seconds.

    `edit` is the network call (a partial message's edit); it is given the newest `Rendered`.
    """

    def __init__(
        self,
        edit: Callable[[Rendered], Awaitable[None]],
        *,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        shown: Rendered | None = None,
    ) -> None:
        self._edit = edit
        self._interval = interval
        self._clock = clock
        self._pending: Rendered | None = None
        self._written_key: object = shown.key() if shown is not None else None  # what the message shows now
        self._last_edit_at = clock() if shown is not None else float("-inf")
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._gone = False
        self._failures = 0
        self._task: asyncio.Task[None] | None = None
        self.edits = 0

    def show(self, rendered: Rendered) -> None:
        """Ask for this state to be shown; returns at once. Intermediate states may be skipped."""
        if self._gone:
            return
        self._pending = rendered
        self._idle.clear()
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._writer(), name="discord-status-writer")

    async def finish(self, rendered: Rendered) -> None:
        """Show the final state and wait until it is written (or the message turned out to be gone)."""
        self.show(rendered)
        await self._idle.wait()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    @property
    def gone(self) -> bool:
        """The message was deleted (by a moderator or the user): there is nothing left to edit."""
        return self._gone

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            wait = self._last_edit_at + self._interval - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)  # pacing, not waiting for a result: newer states coalesce meanwhile
            rendered, self._pending = self._pending, None
            if rendered is None:
                continue
            if rendered.key() != self._written_key:
                await self._write(rendered)
            if self._pending is None:
                self._idle.set()
            else:
                self._wake.set()

    async def _write(self, rendered: Rendered) -> None:
        try:
            await self._edit(rendered)
        except discord.NotFound:
            log.info("status message was deleted; no more edits for it")
            self._gone = True
            self._pending = None
            return
        except discord.HTTPException as exc:
            # discord.py already retried rate limits; keep the state pending for the next round.
            self._failures += 1
            if self._failures >= _MAX_FAILURES:
                log.error(
                    "status edit failed %d times in a row (%s); giving up on this message", self._failures, exc.status
                )
                self._pending = None
                return
            log.warning("status edit failed (%s); will retry", exc.status)
            if self._pending is None:
                self._pending = rendered
            return
        finally:
            # Paced from when the edit has reached Discord, not from when it was started: on a loaded
            # machine a request can leave late, and two edits then arrived closer than the interval.
            self._last_edit_at = self._clock()
        self._failures = 0
        self._written_key = rendered.key()
        self.edits += 1
