"""Puts back what a queue lost: jobs whose worker died (lease expired) and PENDING jobs the queue
does not know (Redis flushed or restarted, or an embedded process that stopped).

Recovery bound after a worker is killed: the lease expires at most `lease_s` after its last renewal
(15 s), the next reconcile pass (every `reconcile_every_s`, 5 s) requeues the job, and an idle worker
polls the queue every 0.1 s: under ~20 s to restart elsewhere with the defaults (measured in
benchmarks/recovery.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from worker import store
from worker.events import EventBus
from worker.models import utcnow
from worker.queue import JobQueue
from worker.schemas import JobStatus
from worker.store import Change

log = logging.getLogger(__name__)

# A PENDING job this fresh may still be between its INSERT and its enqueue.
PENDING_GRACE_S = 1.0


@dataclass(frozen=True)
class ReconcileReport:
    requeued_stale: int
    requeued_pending: int


class Reconciler:
    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], queue: JobQueue, bus: EventBus, every_s: float = 5.0
    ) -> None:
        self.sessions = sessions
        self.queue = queue
        self.bus = bus
        self.every_s = every_s

    async def run_once(self) -> ReconcileReport:
        now = utcnow()
        async with self.sessions() as session:
            stale = [(job.id, job.cancel_requested) for job in await store.stale_running(session, now=now)]
        stale_count = 0
        for job_id, cancelled in stale:
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
            await self.queue.recover(job_id)
            stale_count += 1
            log.warning("job %s: worker lease expired; requeued", job_id)
        pending_count = 0
        async with self.sessions() as session:
            pending = await store.pending_ids(session, older_than=now - timedelta(seconds=PENDING_GRACE_S))
        for job_id in pending:
            if not await self.queue.contains(job_id):
                await self.queue.recover(job_id)
                pending_count += 1
        if pending_count:
            log.warning("requeued %d waiting jobs the queue did not know", pending_count)
        return ReconcileReport(stale_count, pending_count)

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
