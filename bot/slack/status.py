"""One status message per job, posted once and then updated in place with `chat.update`.

Jobs can emit several events a second; Slack allows about one `chat.update` per second per
message. `StatusMessage.show()` only records the newest view; a single flusher task sends it at
most once per `interval` seconds, so intermediate states are coalesced and the last state always
gets through. `show(final=True)` flushes at once and waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessageRef:
    """Where a status message lives; stored on the job as "channel:ts"."""

    channel: str
    ts: str

    def to_ref(self) -> str:
        return f"{self.channel}:{self.ts}"

    @classmethod
    def from_ref(cls, ref: str) -> MessageRef:
        channel, _, ts = ref.partition(":")
        if not channel or not ts:
            raise ValueError(f"not a Slack message ref: {ref!r}")
        return cls(channel=channel, ts=ts)


async def post_status(
    client: AsyncWebClient, channel: str, thread_ts: str | None, text: str, blocks: list[dict[str, Any]]
) -> MessageRef:
    response = await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)
    return MessageRef(channel=response["channel"], ts=response["ts"])


class StatusMessage:
    def __init__(
        self,
        client: AsyncWebClient,
        ref: MessageRef,
        *,
        interval: float = 1.0,
        shown: tuple[str, list[dict[str, Any]]] | None = None,  # what the message says already
    ) -> None:
        self._client = client
        self.ref = ref
        self._interval = interval
        self._pending: tuple[str, list[dict[str, Any]]] | None = None
        self._last_sent_at = 0.0
        self._last_sent = shown
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def show(self, text: str, blocks: list[dict[str, Any]], *, final: bool = False) -> None:
        self._pending = (text, blocks)
        if final:
            if self._flusher is not None:
                self._flusher.cancel()
                self._flusher = None
            await self._send_pending()
        elif self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later(), name=f"slack-status-{self.ref.ts}")

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()

    async def _flush_later(self) -> None:
        while self._pending is not None:  # a show() during the send is picked up on the next turn
            wait = self._last_sent_at + self._interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # rate limiting, not waiting for a result
            await self._send_pending()

    async def _send_pending(self) -> None:
        async with self._lock:
            content, self._pending = self._pending, None
            if content is None or content == self._last_sent:
                return
            text, blocks = content
            try:
                await self._client.chat_update(channel=self.ref.channel, ts=self.ref.ts, text=text, blocks=blocks)
                self._last_sent = content
            except SlackApiError as exc:
                # A deleted message or a revoked channel must not stop the job being followed.
                log.warning("chat.update failed for %s: %s", self.ref.to_ref(), exc.response.get("error"))
            finally:
                self._last_sent_at = time.monotonic()
