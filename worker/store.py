"""Reads and writes of jobs and their history. Keyword-only functions taking a session; the caller
owns the transaction (`async with sessions.begin() as session: ...`).

Every state change goes through `transition`: one conditional UPDATE that also bumps the job's event
counter, plus one INSERT into the history, in the same transaction. The condition (`owner=`,
`statuses=`) is how a worker that lost its lease is kept from writing a result twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from worker.models import Job, JobEventRow, utcnow
from worker.schemas import JobEvent, JobStatus, JobView

ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.RETRYING_QA)
RUNNING_STATUSES = (JobStatus.PROCESSING, JobStatus.RETRYING_QA)


@dataclass(frozen=True)
class Change:
    """One state change to record: the new status/stage and what to say about it."""

    status: JobStatus
    message: str
    stage: str | None = None
    attempt: int = 1
    data: dict[str, Any] = field(default_factory=dict)


def to_view(job: Job) -> JobView:
    return JobView(
        id=job.id,
        platform=job.platform,
        requester_id=job.requester_id,
        conversation_ref=job.conversation_ref,
        thread_ref=job.thread_ref,
        status_message_ref=job.status_message_ref,
        prompt=job.prompt,
        parent_id=job.parent_id,
        version=job.version,
        spec=job.spec,
        summary=_summary(job.spec),
        status=JobStatus(job.status),
        stage=job.stage,
        qa_retries=job.qa_retries,
        qa_reports=list(job.qa_reports or []),
        files=dict(job.files or {}),
        error=job.error,
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        timings=dict(job.timings or {}),
        delivered=job.delivered,
        notes=list(job.notes or []),
        reference_path=job.reference_path,
        backend=job.backend or "symbolic",
        predicted_credits=job.predicted_credits,
        charged_credits=job.charged_credits,
    )


def _summary(spec: dict[str, Any] | None) -> str:
    if not spec:
        return "(nothing understood yet)"
    from pipeline.spec import Spec

    try:
        return Spec.from_dict(spec).summary()
    except ValueError:
        return "(spec unreadable)"


def to_event(row: JobEventRow) -> JobEvent:
    return JobEvent(
        job_id=row.job_id,
        seq=row.seq,
        status=JobStatus(row.status),
        stage=row.stage,
        attempt=row.attempt,
        message=row.message,
        at=row.at,
        data=dict(row.data or {}),
    )


async def insert_job(session: AsyncSession, *, job: Job, first: Change) -> JobEvent:
    """A new job and its first history row (seq 1)."""
    now = utcnow()
    job.created_at = job.updated_at = now
    job.event_seq = 1
    session.add(job)
    row = JobEventRow(
        job_id=job.id,
        seq=1,
        status=str(first.status),
        stage=first.stage,
        attempt=first.attempt,
        message=first.message,
        data=first.data,
        at=now,
    )
    session.add(row)
    await session.flush()
    return to_event(row)


async def get_job(session: AsyncSession, *, job_id: str) -> Job | None:
    return await session.get(Job, job_id, populate_existing=True)


async def find_by_client_ref(session: AsyncSession, *, platform: str, client_ref: str) -> Job | None:
    result = await session.execute(select(Job).where(Job.platform == platform, Job.client_ref == client_ref))
    return result.scalar_one_or_none()


async def transition(
    session: AsyncSession,
    *,
    job_id: str,
    change: Change,
    values: dict[str, Any] | None = None,
    owner: str | None = None,
    statuses: Collection[JobStatus] | None = None,
    lease_expired_before: datetime | None = None,
) -> JobEvent | None:
    """Apply `values` + the new status/stage and append the history row, only when the job is still
    held by `owner` (if given) and in one of `statuses` (if given). None when the condition failed."""
    now = utcnow()
    stmt = update(Job).where(Job.id == job_id)
    if owner is not None:
        stmt = stmt.where(Job.lease_owner == owner)
    if statuses is not None:
        stmt = stmt.where(Job.status.in_([str(s) for s in statuses]))
    if lease_expired_before is not None:
        stmt = stmt.where(or_(Job.lease_expires_at.is_(None), Job.lease_expires_at < lease_expired_before))
    stmt = stmt.values(
        **(values or {}), status=str(change.status), stage=change.stage, updated_at=now, event_seq=Job.event_seq + 1
    ).returning(Job.event_seq)
    seq = (await session.execute(stmt)).scalar_one_or_none()
    if seq is None:
        return None
    row = JobEventRow(
        job_id=job_id,
        seq=seq,
        status=str(change.status),
        stage=change.stage,
        attempt=change.attempt,
        message=change.message,
        data=change.data,
        at=now,
    )
    session.add(row)
    await session.flush()
    return to_event(row)


async def update_fields(session: AsyncSession, *, job_id: str, owner: str | None = None, **values: Any) -> bool:
    """Change bookkeeping fields (no history row): status message refs, delivered flag, spec."""
    stmt = update(Job).where(Job.id == job_id)
    if owner is not None:
        stmt = stmt.where(Job.lease_owner == owner)
    result = await session.execute(stmt.values(**values, updated_at=utcnow()))
    return result.rowcount > 0


async def claim(
    session: AsyncSession, *, job_id: str, owner: str, lease_s: float, backends: Collection[str] | None = None
) -> Job | None:
    """Take the job for running: it must be PENDING, or running with an expired lease (its worker
    died), and made by one of `backends` (None: any). Bumps the execution attempt. None when someone
    else holds it, it is finished, or this worker does not serve its backend."""
    now = utcnow()
    served = [] if backends is None else [Job.backend.in_(list(backends))]
    stmt = (
        update(Job)
        .where(
            Job.id == job_id,
            Job.cancel_requested.is_(False),
            *served,
            or_(
                Job.status == str(JobStatus.PENDING),
                and_(Job.status.in_([str(s) for s in RUNNING_STATUSES]), Job.lease_expires_at < now),
            ),
        )
        .values(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_s),
            execution_attempt=Job.execution_attempt + 1,
            started_at=func.coalesce(Job.started_at, now),
            updated_at=now,
        )
        .returning(Job)
    )
    # One round trip: the UPDATE hands back the whole row.
    result = await session.execute(select(Job).from_statement(stmt).execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def renew_lease(session: AsyncSession, *, job_id: str, owner: str, lease_s: float) -> bool | None:
    """Extend the lease. Returns the job's cancel flag, or None when the lease is no longer ours."""
    stmt = (
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == owner)
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
        .returning(Job.cancel_requested)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def events_after(session: AsyncSession, *, job_id: str, after_seq: int) -> list[JobEvent]:
    result = await session.execute(
        select(JobEventRow).where(JobEventRow.job_id == job_id, JobEventRow.seq > after_seq).order_by(JobEventRow.seq)
    )
    return [to_event(row) for row in result.scalars()]


async def list_jobs(
    session: AsyncSession,
    *,
    platform: str | None = None,
    requester_id: str | None = None,
    statuses: Collection[JobStatus] | None = None,
    limit: int = 10,
) -> Sequence[Job]:
    stmt = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if platform is not None:
        stmt = stmt.where(Job.platform == platform)
    if requester_id is not None:
        stmt = stmt.where(Job.requester_id == requester_id)
    if statuses is not None:
        stmt = stmt.where(Job.status.in_([str(s) for s in statuses]))
    return (await session.execute(stmt)).scalars().all()


async def count_jobs(
    session: AsyncSession,
    *,
    requester_id: str | None = None,
    platform: str | None = None,
    backend: str | None = None,
    statuses: Collection[JobStatus] | None = None,
    created_after: datetime | None = None,
) -> int:
    stmt = select(func.count()).select_from(Job)
    if requester_id is not None:
        stmt = stmt.where(Job.requester_id == requester_id)
    if platform is not None:
        stmt = stmt.where(Job.platform == platform)
    if backend is not None:
        stmt = stmt.where(Job.backend == backend)
    if statuses is not None:
        stmt = stmt.where(Job.status.in_([str(s) for s in statuses]))
    if created_after is not None:
        stmt = stmt.where(Job.created_at >= created_after)
    return int((await session.execute(stmt)).scalar_one())


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    return {status: int(n) for status, n in result.all()}


async def queue_position(session: AsyncSession, *, job: Job) -> int:
    """1-based place among PENDING jobs of the same backend (the same queue), oldest first."""
    stmt = (
        select(func.count())
        .select_from(Job)
        .where(
            Job.status == str(JobStatus.PENDING),
            Job.backend == job.backend,
            or_(Job.created_at < job.created_at, and_(Job.created_at == job.created_at, Job.id < job.id)),
        )
    )
    return int((await session.execute(stmt)).scalar_one()) + 1


async def latest_in_thread(session: AsyncSession, *, platform: str, thread_ref: str) -> Job | None:
    stmt = (
        select(Job)
        .where(Job.platform == platform, Job.thread_ref == thread_ref)
        .order_by(Job.version.desc(), Job.created_at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def undelivered(session: AsyncSession, *, platform: str) -> Sequence[Job]:
    stmt = select(Job).where(Job.platform == platform, Job.delivered.is_(False)).order_by(Job.created_at)
    return (await session.execute(stmt)).scalars().all()


async def stale_running(session: AsyncSession, *, now: datetime) -> Sequence[Job]:
    """Running jobs whose worker stopped renewing its lease."""
    stmt = select(Job).where(
        Job.status.in_([str(s) for s in RUNNING_STATUSES]),
        or_(Job.lease_expires_at.is_(None), Job.lease_expires_at < now),
    )
    return (await session.execute(stmt)).scalars().all()


@dataclass(frozen=True)
class Waiting:
    id: str
    backend: str
    created_at: datetime


async def pending_jobs(session: AsyncSession, *, older_than: datetime) -> list[Waiting]:
    stmt = select(Job.id, Job.backend, Job.created_at).where(
        Job.status == str(JobStatus.PENDING), Job.updated_at < older_than
    )
    return [Waiting(*row) for row in (await session.execute(stmt)).all()]


async def last_event(session: AsyncSession, *, job_id: str) -> JobEvent | None:
    stmt = select(JobEventRow).where(JobEventRow.job_id == job_id).order_by(JobEventRow.seq.desc()).limit(1)
    row = (await session.execute(stmt)).scalar_one_or_none()
    return to_event(row) if row is not None else None


async def credits_in_window(session: AsyncSession, *, requester_id: str, backend: str, since: datetime) -> float:
    """Credits a user's jobs on `backend` used since `since`: what was charged, or for a job not
    charged yet and still going, what it is predicted to cost (so two jobs at once cannot both fit)."""
    active = [str(s) for s in ACTIVE_STATUSES]
    used = func.coalesce(
        Job.charged_credits,
        case((Job.status.in_(active), Job.predicted_credits), else_=0.0),
        0.0,
    )
    stmt = select(func.coalesce(func.sum(used), 0.0)).where(
        Job.requester_id == requester_id, Job.backend == backend, Job.created_at >= since
    )
    return float((await session.execute(stmt)).scalar_one())


async def stage_timings(session: AsyncSession, *, limit: int = 1000) -> list[dict[str, float]]:
    stmt = select(Job.timings).where(Job.status == str(JobStatus.SUCCESS)).order_by(Job.finished_at.desc()).limit(limit)
    return [t or {} for t in (await session.execute(stmt)).scalars()]


async def qa_retry_counts(session: AsyncSession) -> dict[int, int]:
    stmt = (
        select(Job.qa_retries, func.count())
        .where(Job.status.in_([str(JobStatus.SUCCESS), str(JobStatus.FAILED)]))
        .group_by(Job.qa_retries)
    )
    return {int(r): int(n) for r, n in (await session.execute(stmt)).all()}


async def version_tree(session: AsyncSession, *, job_id: str, limit: int = 50) -> list[Job]:
    """Every version linked to a job: back to the first one through the parents, then everything made
    from that one (replies, variations), oldest first; at most `limit` jobs."""
    root = await session.get(Job, job_id)
    if root is None:
        return []
    seen = {root.id}
    while root.parent_id is not None and root.parent_id not in seen and len(seen) < limit:
        parent = await session.get(Job, root.parent_id)
        if parent is None:
            break
        root = parent
        seen.add(root.id)
    tree, frontier = [root], [root.id]
    while frontier and len(tree) < limit:
        children = (
            (await session.execute(select(Job).where(Job.parent_id.in_(frontier)).limit(limit - len(tree))))
            .scalars()
            .all()
        )
        tree += children
        frontier = [child.id for child in children]
    return sorted(tree, key=lambda job: (job.version, job.created_at))


async def expired_artifacts(session: AsyncSession, *, finished_before: datetime, limit: int = 500) -> Sequence[Job]:
    """Finished jobs older than the retention age that still have files."""
    stmt = (
        select(Job)
        .where(
            Job.status.in_([str(s) for s in (JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.CANCELLED)]),
            Job.finished_at < finished_before,
            # JSON has no portable emptiness test; its text form does ('{}' on SQLite and PostgreSQL).
            cast(Job.files, Text).not_in(["{}", "null"]),
        )
        .order_by(Job.finished_at)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def drop_files(session: AsyncSession, *, job_id: str, finished_before: datetime, note: str) -> bool:
    """Forget a finished job's files (retention), keeping the job, its spec and its history."""
    job = await session.get(Job, job_id, populate_existing=True)
    if job is None or job.finished_at is None or job.finished_at >= finished_before or not job.files:
        return False
    job.files = {}
    job.notes = [*(job.notes or []), note]
    job.updated_at = utcnow()
    await session.flush()
    return True
