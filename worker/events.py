"""Live job events: published after each state change is committed, fanned out to watchers.

`LocalEventBus` delivers within one process (the embedded runner). `RedisEventBus` publishes on a
Redis channel per job and, in a process that watches jobs (a bot, the API), keeps one pattern
subscription that feeds the local bus — one Redis connection however many jobs are watched.
Events are a hint for speed only: the history table is the truth, and `JobService.events` replays
from it (and re-reads it when the live stream goes quiet), so a lost message delays, never drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol

from worker.schemas import JobEvent, JobStatus

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "ampa:job-events:"


def event_to_json(event: JobEvent) -> str:
    return json.dumps(event.to_dict())


def event_from_json(text: str | bytes) -> JobEvent:
    data = json.loads(text)
    return JobEvent(
        job_id=data["job_id"],
        seq=int(data["seq"]),
        status=JobStatus(data["status"]),
        stage=data.get("stage"),
        attempt=int(data.get("attempt", 1)),
        message=data.get("message", ""),
        at=datetime.fromisoformat(data["at"]),
        data=data.get("data") or {},
    )


class EventBus(Protocol):
    async def publish(self, event: JobEvent) -> None: ...

    def subscribe(self, job_id: str) -> contextlib.AbstractAsyncContextManager[asyncio.Queue[JobEvent]]: ...

    async def close(self) -> None: ...


class LocalEventBus:
    def __init__(self) -> None:
        self._watchers: dict[str, set[asyncio.Queue[JobEvent]]] = defaultdict(set)

    async def publish(self, event: JobEvent) -> None:
        self.deliver(event)

    def deliver(self, event: JobEvent) -> None:
        for queue in list(self._watchers.get(event.job_id, ())):
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, job_id: str) -> AsyncIterator[asyncio.Queue[JobEvent]]:
        queue: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._watchers[job_id].add(queue)
        try:
            yield queue
        finally:
            self._watchers[job_id].discard(queue)
            if not self._watchers[job_id]:
                del self._watchers[job_id]

    async def close(self) -> None:
        self._watchers.clear()


class RedisEventBus:
    def __init__(self, redis) -> None:
        self._redis = redis
        self._local = LocalEventBus()
        self._pump: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def publish(self, event: JobEvent) -> None:
        try:
            await self._redis.publish(CHANNEL_PREFIX + event.job_id, event_to_json(event))
        except Exception as exc:  # noqa: BLE001 - Redis down: watchers fall back to the history table
            log.warning("could not publish event %s/%s: %s", event.job_id, event.seq, exc)

    @contextlib.asynccontextmanager
    async def subscribe(self, job_id: str) -> AsyncIterator[asyncio.Queue[JobEvent]]:
        if self._pump is None or self._pump.done():
            self._listening.clear()
            self._pump = asyncio.create_task(self._run_pump(), name="ampa-event-pump")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), 5)
        async with self._local.subscribe(job_id) as queue:
            yield queue

    async def _run_pump(self) -> None:
        """Forward every job event from Redis to local watchers; reconnect when Redis goes away."""
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                self._listening.set()
                async for message in pubsub.listen():
                    if message.get("type") == "pmessage":
                        try:
                            self._local.deliver(event_from_json(message["data"]))
                        except (ValueError, KeyError) as exc:
                            log.warning("ignored a malformed job event: %s", exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("event subscription lost (%s); reconnecting", exc)
                self._listening.set()  # watchers poll the history table meanwhile
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump
        await self._local.close()
