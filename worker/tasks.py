"""The arq side: the job function and the worker's settings (`ampa worker`).

One job per worker process by default (`max_jobs=1`): the pipeline already uses both cores. The
reconciler runs as a background task in every worker rather than as an arq cron job, because a cron
job would have to wait for the busy job slot; its passes are idempotent (conditional UPDATEs), so
several workers running it at once is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, ClassVar

from arq import cron, func
from arq.connections import RedisSettings
from arq.worker import Worker

from worker.artifacts import FilesystemArtifactStore
from worker.db import make_engine, make_sessions
from worker.events import RedisEventBus
from worker.queue import TASK_NAME, ArqQueue
from worker.reconciler import Reconciler
from worker.runner import JobRunner
from worker.settings import Settings

log = logging.getLogger(__name__)

# Our runner enforces job_timeout_s itself (and writes FAILED); arq's own timeout is a backstop.
ARQ_TIMEOUT_MARGIN_S = 60
HEALTH_CHECK_S = 10
# arq sleeps this long between queue polls, even right after finishing a job: with one job per
# process it caps a worker at 1/POLL_DELAY_S jobs per second (arq's default, 0.5 s, capped the fake-
# pipeline load benchmark at 240 jobs/min for 2 workers). An idle poll is one ZRANGEBYSCORE.
POLL_DELAY_S = 0.1


async def run_job(ctx: dict[str, Any], job_id: str) -> str | None:
    runner: JobRunner = ctx["runner"]
    status = await runner.run(job_id)
    return str(status) if status is not None else None


async def sweep_artifacts(ctx: dict[str, Any]) -> int:
    """Cron: remove the files of jobs older than AMPA_RETENTION_DAYS (see worker/retention.py)."""
    from worker import retention

    settings: Settings = ctx["settings"]
    removed = await retention.sweep(
        sessions=ctx["sessions"], artifacts=ctx["artifacts"], retention_days=settings.retention_days
    )
    return len(removed)


async def startup(ctx: dict[str, Any]) -> None:
    from worker.service import worker_identity

    settings: Settings = ctx.setdefault("settings", Settings())
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessions(engine)
    bus = RedisEventBus(ctx["redis"])
    ctx["engine"] = engine
    ctx["sessions"] = sessions
    ctx["artifacts"] = FilesystemArtifactStore(settings.resolved_artifacts_dir)
    ctx["runner"] = JobRunner(
        sessions=sessions,
        bus=bus,
        artifacts=ctx["artifacts"],
        settings=settings,
        owner=worker_identity(),
        pipeline=ctx.get("pipeline"),
    )
    reconciler = Reconciler(
        sessions=sessions, queue=ArqQueue(ctx["redis"]), bus=bus, every_s=settings.reconcile_every_s
    )
    ctx["reconciler"] = asyncio.create_task(reconciler.run_forever(), name="ampa-reconciler")


async def shutdown(ctx: dict[str, Any]) -> None:
    task = ctx.get("reconciler")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if "engine" in ctx:
        await ctx["engine"].dispose()


def worker_options(settings: Settings, *, burst: bool = False, max_jobs: int = 1) -> dict[str, Any]:
    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set")
    return {
        "functions": [
            func(
                run_job,
                name=TASK_NAME,
                timeout=settings.job_timeout_s + ARQ_TIMEOUT_MARGIN_S,
                max_tries=10,
                keep_result=600,
            )
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        # Hourly at :17; unique, so one worker of many runs each sweep (it waits for a free job slot).
        "cron_jobs": [cron(sweep_artifacts, minute=17)] if settings.retention_days > 0 else [],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "ctx": {"settings": settings},
        "max_jobs": max_jobs,
        "job_timeout": settings.job_timeout_s + ARQ_TIMEOUT_MARGIN_S,
        "health_check_interval": HEALTH_CHECK_S,
        "poll_delay": POLL_DELAY_S,
        "burst": burst,
    }


def build_worker(settings: Settings, *, burst: bool = False, max_jobs: int = 1, **overrides: Any) -> Worker:
    return Worker(**{**worker_options(settings, burst=burst, max_jobs=max_jobs), **overrides})


class WorkerSettings:
    """For `arq worker.tasks.WorkerSettings` (Redis on localhost, settings from the environment at
    start-up). `ampa worker` is the supported entry point: it passes REDIS_URL and the timeouts."""

    functions: ClassVar[list] = [func(run_job, name=TASK_NAME, max_tries=10)]
    on_startup = startup
    on_shutdown = shutdown
    max_jobs = 1
    health_check_interval = HEALTH_CHECK_S
