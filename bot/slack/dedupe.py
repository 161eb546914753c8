"""Slack delivers an event again when it did not see our ack in time (`X-Slack-Retry-Num`).

Retries carry the same `event_id`, so the app remembers event ids for a while and acknowledges a
repeat without running any listener. A retry whose first delivery never reached us (the app was
restarting) is processed normally, so no request is lost; and every job is submitted with the event
id as `client_ref`, which the job system keeps unique per platform, so not even a restart between
two deliveries can make a second job.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)


class SeenEvents:
    """Event ids seen in the last `ttl` seconds (bounded: the oldest are forgotten first)."""

    def __init__(self, ttl: float, max_size: int = 10_000) -> None:
        self._ttl = ttl
        self._max_size = max_size
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        now = time.monotonic()
        while self._seen and (next(iter(self._seen.values())) < now - self._ttl or len(self._seen) >= self._max_size):
            self._seen.popitem(last=False)
        if event_id in self._seen:
            return False
        self._seen[event_id] = now
        return True


def dedupe_middleware(seen: SeenEvents) -> Callable[..., Awaitable[Any]]:
    async def skip_repeated_events(
        body: dict[str, Any], request: AsyncBoltRequest, next: Callable[[], Awaitable[Any]]
    ) -> Any:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not seen.first_time(event_id):
            retry = request.headers.get("x-slack-retry-num", ["0"])[0]
            log.info("ignored a repeated delivery of event %s (retry %s)", event_id, retry)
            return BoltResponse(status=200, body="")
        return await next()

    return skip_repeated_events
