"""How a job id reaches a worker. Two implementations with the same interface:

`ArqQueue` (REDIS_URL set): arq on Redis, one queue per generator backend (worker/routing.py); the
arq job id is the job id, so enqueueing twice is a no-op.
`InProcessQueue` (embedded default): asyncio tasks in this process, `in_process_concurrency` at a time.
The database stays the truth either way; the reconciler puts back whatever a queue lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from arq.connections import ArqRedis
from arq.constants import (
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
    retry_key_prefix,
)

from pipeline.backends import BACKEND_NAMES
from worker.routing import SYMBOLIC, queue_name
from worker.runner import JobRunner

log = logging.getLogger(__name__)

TASK_NAME = "run_job"  # the arq function name (worker/tasks.py)


class JobQueue(Protocol):
    # True when each backend has its own queue that waits for a worker serving it (arq); False when
    # this process runs what it is given (in-process), so a job it cannot run is not handed to it.
    per_backend: bool

    async def enqueue(self, job_id: str, backend: str = SYMBOLIC) -> None: ...

    async def contains(self, job_id: str, backend: str = SYMBOLIC) -> bool:
        """Waiting or running in this queue."""
        ...

    async def recover(self, job_id: str, backend: str = SYMBOLIC) -> None:
        """Make a job that should run runnable again: its worker died or the queue forgot it."""
        ...

    async def depth(self) -> int: ...

    async def close(self) -> None: ...


class ArqQueue:
    per_backend = True

    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool

    async def enqueue(self, job_id: str, backend: str = SYMBOLIC) -> None:
        await self.pool.enqueue_job(TASK_NAME, job_id, _job_id=job_id, _queue_name=queue_name(backend))

    async def contains(self, job_id: str, backend: str = SYMBOLIC) -> bool:
        async with self.pool.pipeline(transaction=False) as pipe:
            pipe.zscore(queue_name(backend), job_id)
            pipe.exists(in_progress_key_prefix + job_id)
            score, running = await pipe.execute()
        return score is not None or bool(running)

    async def recover(self, job_id: str, backend: str = SYMBOLIC) -> None:
        # The dead worker's in-progress marker would otherwise hold the job for job_timeout + 10 s.
        await self.pool.delete(in_progress_key_prefix + job_id)
        if await self.pool.zscore(queue_name(backend), job_id) is None:
            # Forgotten (Redis flushed or restarted) or finished in arq's eyes without a result in
            # the database: start from a clean slate so enqueue_job does not treat it as a duplicate.
            await self.pool.delete(job_key_prefix + job_id, result_key_prefix + job_id, retry_key_prefix + job_id)
            await self.enqueue(job_id, backend)

    async def depth(self) -> int:
        """Jobs waiting in every backend's queue."""
        async with self.pool.pipeline(transaction=False) as pipe:
            for backend in BACKEND_NAMES:
                pipe.zcard(queue_name(backend))
            return sum(int(n) for n in await pipe.execute())

    async def close(self) -> None:
        await self.pool.aclose()


class InProcessQueue:
    per_backend = False

    def __init__(self, runner: JobRunner, *, concurrency: int = 1) -> None:
        self.runner = runner
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._waiting: set[str] = set()

    async def enqueue(self, job_id: str, backend: str = SYMBOLIC) -> None:
        task = self._tasks.get(job_id)
        if task is not None and not task.done():
            return
        self._waiting.add(job_id)
        self._tasks[job_id] = asyncio.create_task(self._run(job_id), name=f"ampa-job-{job_id}")

    async def _run(self, job_id: str) -> None:
        try:
            async with self._slots:
                self._waiting.discard(job_id)
                await self.runner.run(job_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s: runner crashed", job_id)
        finally:
            self._waiting.discard(job_id)
            if self._tasks.get(job_id) is asyncio.current_task():
                del self._tasks[job_id]

    async def contains(self, job_id: str, backend: str = SYMBOLIC) -> bool:
        task = self._tasks.get(job_id)
        return task is not None and not task.done()

    async def recover(self, job_id: str, backend: str = SYMBOLIC) -> None:
        await self.enqueue(job_id)

    async def depth(self) -> int:
        return len(self._waiting)

    async def idle(self) -> bool:
        return not any(not t.done() for t in self._tasks.values())

    async def close(self) -> None:
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
