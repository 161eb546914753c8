"""Retention: the files of finished jobs older than `AMPA_RETENTION_DAYS` are removed.

The job row stays, with its spec, prompt, QA reports and history, so its page still says what it was
(and that its files are gone) and Variation, Regenerate or a thread reply still make it again. The
row is updated first and the folder removed after, so no page ever links a file that is already
gone; a crash in between leaves an orphan folder that nothing links (disk only, never a broken page).

Runs as a background task in an embedded process (`run_forever`) and as an arq cron job
(worker/tasks.py) in the PostgreSQL + Redis deployment; a sweep is idempotent, so overlapping
sweeps are harmless.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from worker import store
from worker.artifacts import FilesystemArtifactStore
from worker.models import utcnow

log = logging.getLogger(__name__)


async def sweep(
    *, sessions: async_sessionmaker[AsyncSession], artifacts: FilesystemArtifactStore, retention_days: float
) -> list[str]:
    """Remove the files of every job finished more than `retention_days` ago; return their ids."""
    if retention_days <= 0:
        return []
    cutoff = utcnow() - timedelta(days=retention_days)
    async with sessions() as session:
        candidates = [job.id for job in await store.expired_artifacts(session, finished_before=cutoff)]
    removed: list[str] = []
    note = f"The files were removed {_age(retention_days)} after the track was made (AMPA_RETENTION_DAYS)."
    for job_id in candidates:
        async with sessions.begin() as session:
            dropped = await store.drop_files(session, job_id=job_id, finished_before=cutoff, note=note)
        if dropped:
            await asyncio.to_thread(artifacts.clear, job_id)
            removed.append(job_id)
    if removed:
        log.info("retention: removed the files of %d job(s) finished before %s", len(removed), cutoff.isoformat())
    return removed


async def run_forever(
    *,
    sessions: async_sessionmaker[AsyncSession],
    artifacts: FilesystemArtifactStore,
    retention_days: float,
    every_s: float,
) -> None:
    while True:
        try:
            await sweep(sessions=sessions, artifacts=artifacts, retention_days=retention_days)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the loop; the next pass retries
            log.exception("retention sweep failed; retrying in %.0f s", every_s)
        await asyncio.sleep(every_s)


def _age(days: float) -> str:
    if days >= 1:
        return f"{days:g} day{'s' if days != 1 else ''}"
    return f"{days * 24:g} hours" if days * 24 >= 1 else f"{days * 86400:g} seconds"
