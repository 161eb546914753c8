"""Puts back what a queue lost: jobs whose worker died (lease expired) and PENDING jobs the queue
does not know (Redis flushed or restarted, or an embedded process that stopped).

Recovery bound after a worker is killed: the lease expires at most `lease_s` after its last renewal
(15 s), the next reconcile pass (every `reconcile_every_s`, 5 s) requeues the job, and an idle worker
polls the queue every 0.1 s: under ~20 s to restart elsewhere with the defaults (measured in
benchmarks/recovery.py).

Jobs go back into the queue of their own backend (worker/routing.py), whichever backends this
process serves. A PENDING job whose backend no running worker serves is held, not stranded: its
status says what it waits for, and after `backend_wait_s` it fails with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from worker import routing, store
from worker.events import EventBus
from worker.models import utcnow
from worker.queue import JobQueue
from worker.schemas import JobStatus
from worker.store import Change

log = logging.getLogger(__name__)

# A PENDING job this fresh may still be between its INSERT and its enqueue.
PENDING_GRACE_S = 1.0


# Which backends some live worker serves (None: every backend, e.g. tests with one plain queue).
ServedBackends = Callable[[], Awaitable[Collection[str] | None]]


async def _every_backend() -> None:
    return None


@dataclass(frozen=True)
class ReconcileReport:
    requeued_stale: int
    requeued_pending: int
    held: int = 0  # waiting for a worker that runs their backend
    gave_up: int = 0  # waited longer than backend_wait_s: failed with the reason


class Reconciler:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        queue: JobQueue,
        bus: EventBus,
        every_s: float = 5.0,
        served: ServedBackends = _every_backend,
        backend_wait_s: float = 600.0,
    ) -> None:
        self.sessions = sessions
        self.queue = queue
        self.bus = bus
        self.every_s = every_s
        self.served = served
        self.backend_wait_s = backend_wait_s

    async def run_once(self) -> ReconcileReport:
        now = utcnow()
        async with self.sessions() as session:
            stale = [(job.id, job.backend, job.cancel_requested) for job in await store.stale_running(session, now=now)]
        stale_count = 0
        for job_id, backend, cancelled in stale:
            if cancelled:  # its user cancelled it, then its worker died: finish it as cancelled
                change = Change(JobStatus.CANCELLED, "Cancelled.")
                values = {"lease_owner": None, "lease_expires_at": None, "finished_at": now}
            else:
                change = Change(JobStatus.PENDING, "The worker making this track stopped; it is queued again.")
                values = {"lease_owner": None, "lease_expires_at": None}
            async with self.sessions.begin() as session:
                event = await store.transition(
                    session,
                    job_id=job_id,
                    statuses=store.RUNNING_STATUSES,
                    lease_expired_before=now,
                    change=change,
                    values=values,
                )
            if event is None:
                continue  # renewed or finished meanwhile
            await self.bus.publish(event)
            if cancelled:
                continue
            await self.queue.recover(job_id, backend)
            stale_count += 1
            log.warning("job %s: worker lease expired; requeued", job_id)
        pending_count = held = gave_up = 0
        async with self.sessions() as session:
            pending = await store.pending_jobs(session, older_than=now - timedelta(seconds=PENDING_GRACE_S))
        served = await self.served() if pending else None
        for job in pending:
            if served is not None and job.backend not in served:
                if now - job.created_at > timedelta(seconds=self.backend_wait_s):
                    gave_up += await self._give_up(job)
                    continue
                held += await self._hold(job)
                if not self.queue.per_backend:
                    continue  # this process cannot run it; it waits in the database
                # Held, and still queued: a worker that starts later takes it at once.
            if not await self.queue.contains(job.id, job.backend):
                await self.queue.recover(job.id, job.backend)
                pending_count += 1
        if pending_count:
            log.warning("requeued %d waiting jobs the queue did not know", pending_count)
        return ReconcileReport(stale_count, pending_count, held, gave_up)

    async def _hold(self, job: store.Waiting) -> int:
        """Say once, in the job's history, which worker it waits for."""
        async with self.sessions.begin() as session:
            last = await store.last_event(session, job_id=job.id)
            if last is not None and last.data.get("waiting_for_backend") == job.backend:
                return 0
            event = await store.transition(
                session,
                job_id=job.id,
                statuses=(JobStatus.PENDING,),
                change=Change(
                    JobStatus.PENDING, routing.waiting_message(job.backend), data={"waiting_for_backend": job.backend}
                ),
            )
        if event is not None:
            await self.bus.publish(event)
        return int(event is not None)

    async def _give_up(self, job: store.Waiting) -> int:
        reason = routing.gave_up_message(job.backend, self.backend_wait_s)
        async with self.sessions.begin() as session:
            event = await store.transition(
                session,
                job_id=job.id,
                statuses=(JobStatus.PENDING,),
                change=Change(JobStatus.FAILED, f"Failed: {reason}", data={"waiting_for_backend": job.backend}),
                values={"error": reason, "finished_at": utcnow()},
            )
        if event is None:
            return 0
        await self.bus.publish(event)
        log.warning("job %s: no worker serves %s; failed after waiting", job.id, job.backend)
        return 1

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - database or Redis away: try again next period
                log.warning("reconcile pass failed: %s", exc)
            await asyncio.sleep(self.every_s)


__all__ = ["ReconcileReport", "Reconciler"]
