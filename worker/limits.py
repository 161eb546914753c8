"""Admission: the checks a request must pass before it becomes a job. Each refusal is a `JobRejected`
with words a user can act on; nothing is dropped silently."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from worker import store
from worker.models import utcnow
from worker.schemas import JobRejected, JobStatus
from worker.settings import Settings

MAX_PROMPT_CHARS = 1000


def check_prompt(prompt: str, *, has_spec: bool) -> None:
    if not prompt.strip() and not has_spec:
        raise JobRejected(
            "empty_prompt",
            'Tell me what to make — for example "dark atmospheric synthwave at 140 BPM in A minor, 2 minutes".',
        )
    if len(prompt) > MAX_PROMPT_CHARS:
        raise JobRejected(
            "prompt_too_long",
            f"That prompt is {len(prompt):,} characters; keep it under {MAX_PROMPT_CHARS:,} "
            "— a sentence or two about genre, mood, tempo, key and length is plenty.",
        )


def check_duration(duration_s: float | None, settings: Settings) -> None:
    if duration_s is not None and duration_s > settings.max_duration_s:
        limit = _minutes(settings.max_duration_s)
        raise JobRejected(
            "too_long",
            f"{_minutes(duration_s)} is longer than this server allows ({limit}); ask for {limit} or less.",
        )


def not_music(prompt: str, reply: str = "") -> JobRejected:
    """A question, chit-chat or gibberish: no job; the parser's helpful reply (if any) is what the user reads."""
    return JobRejected(
        "not_music",
        reply or "That doesn't sound like a music request. Describe a track — genre, mood, tempo, key, length — "
        'e.g. "chill lofi hip-hop with piano, 90 BPM, 1 minute".',
    )


async def check_capacity(
    session: AsyncSession, *, requester_id: str, settings: Settings, backend: str | None = None
) -> int:
    """Per-user concurrency and hourly quota, then the global queue depth. Returns how many jobs
    are waiting ahead in the queue of `backend` (all queues when None)."""
    active = await store.count_jobs(session, requester_id=requester_id, statuses=store.ACTIVE_STATUSES)
    if active >= settings.user_concurrent_jobs:
        tracks = "track" if settings.user_concurrent_jobs == 1 else "tracks"
        raise JobRejected(
            "concurrency",
            f"You already have {active} {tracks} in the works — wait for one to finish or /cancel it.",
        )
    recent = await store.count_jobs(session, requester_id=requester_id, created_after=utcnow() - timedelta(hours=1))
    if recent >= settings.user_hourly_quota:
        raise JobRejected(
            "quota",
            f"You've made {recent} tracks in the last hour, the most this server allows; try again in a little while.",
        )
    waiting = await store.count_jobs(session, statuses=(JobStatus.PENDING,))
    if waiting >= settings.queue_depth_cap:
        raise JobRejected(
            "queue_full",
            f"ampa is very busy right now ({waiting} tracks waiting); please try again in a few minutes.",
        )
    if backend is None:
        return waiting
    return await store.count_jobs(session, statuses=(JobStatus.PENDING,), backend=backend)


async def check_credits(
    session: AsyncSession, *, requester_id: str, backend: str, predicted: float | None, settings: Settings
) -> None:
    """The operator's cap on Stability credits per user per day (a rolling 24 hours), checked
    before any request is made: what was charged, plus what running jobs are predicted to cost."""
    cap = settings.stability_daily_credits_per_user
    if cap is None or not predicted:
        return
    used = await store.credits_in_window(
        session, requester_id=requester_id, backend=backend, since=utcnow() - timedelta(hours=24)
    )
    if used + predicted > cap:
        left = max(0.0, cap - used)
        raise JobRejected(
            "credits",
            f"That track would use about {predicted:g} Stability credits, and you have {left:g} of your "
            f"{cap:g} daily credits left (used in the last 24 hours: {used:g}). Use the symbolic model, "
            "which is free, or try again later.",
        )


def _minutes(seconds: float) -> str:
    seconds = round(seconds)
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    return f"{seconds // 60}:{seconds % 60:02d}"
