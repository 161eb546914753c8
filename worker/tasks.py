"""The arq side: the job function and the worker's settings (`ampa worker`).

A process serves one or more generator backends: one arq worker per backend's queue (see
worker/routing.py), all sharing the process's job slots, runner, reconciler and Redis pool.

One job per worker process by default (`max_jobs=1`): the pipeline already uses both cores. The
reconciler runs as a background task in every worker rather than as an arq cron job, because a cron
job would have to wait for the busy job slot; its passes are idempotent (conditional UPDATEs), so
several workers running it at once is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any, ClassVar

from arq import cron, func
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker

from worker import routing
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
class _SharedSlots:
    """The job slots of one worker process, shared by its per-backend arq workers."""

    def __init__(self, max_jobs: int) -> None:
        self.used = 0
        self.sem = asyncio.BoundedSemaphore(max_jobs + 1)  # what arq sizes its own semaphore to


class _QueueWorker(Worker):
    """An arq worker for one backend's queue whose job slots are the process's, not its own: a
    process serving symbolic and stable-audio still runs `max_jobs` jobs at once in all, and a
    queue never takes a job while another queue's job fills the slot. (arq keeps the count in
    `job_counter` and checks it with no await between check and increment, so sharing it is safe.)"""

    def __init__(self, *, slots: _SharedSlots, **kwargs: Any) -> None:
        self._slots = slots
        super().__init__(**kwargs)
        self.sem = slots.sem

    @property
    def job_counter(self) -> int:
        return self._slots.used

    @job_counter.setter
    def job_counter(self, value: int) -> None:
        self._slots.used = value


class BackendWorkers:
    """`ampa worker --backends …`: one arq worker per served backend's queue, and what they share
    (one Redis pool, one database engine, one job runner, the reconciler, the advertiser)."""

    def __init__(
        self,
        settings: Settings,
        backends: list[str],
        *,
        burst: bool = False,
        max_jobs: int = 1,
        pipeline: Any = None,
        **overrides: Any,
    ) -> None:
        if not settings.redis_url:
            raise ValueError("REDIS_URL is not set")
        if not backends:
            raise ValueError("a worker must serve at least one backend")
        self.settings = settings
        self.backends = list(backends)
        self.ctx: dict[str, Any] = {"settings": settings, "pipeline": pipeline}
        self.pool: ArqRedis | None = None
        self._slots = _SharedSlots(max_jobs)
        self._options = {**worker_options(settings, burst=burst, max_jobs=max_jobs), **overrides}
        for shared in ("on_startup", "on_shutdown", "ctx", "redis_settings"):
            self._options.pop(shared)  # the group starts, stops and connects once for all its workers
        self._options["handle_signals"] = False  # one handler for the group (run())
        self.workers: list[_QueueWorker] = []
        self._background: list[asyncio.Task[None]] = []
        self._stopped = False

    async def async_run(self) -> None:
        """Run until stopped (or, in burst mode, until every served queue is empty)."""
        await self._start()
        if self._stopped:
            return  # a signal came while starting
        await asyncio.gather(*(w.async_run() for w in self.workers))

    async def _start(self) -> None:
        from worker.service import worker_identity

        self.pool = await create_pool(RedisSettings.from_dsn(self.settings.redis_url))
        owner = worker_identity()
        # The retention sweep is a cron job of the first queue's worker only: one sweep per process.
        cron_jobs = self._options.pop("cron_jobs", [])
        self.workers = [
            _QueueWorker(
                slots=self._slots,
                queue_name=routing.queue_name(backend),
                redis_pool=self.pool,
                ctx=self.ctx,
                cron_jobs=cron_jobs if index == 0 else [],
                **self._options,
            )
            for index, backend in enumerate(self.backends)
        ]
        engine = make_engine(self.settings.resolved_database_url)
        sessions = make_sessions(engine)
        bus = RedisEventBus(self.pool)
        self.ctx["engine"] = engine
        self.ctx["sessions"] = sessions  # for the retention sweep
        self.ctx["artifacts"] = FilesystemArtifactStore(self.settings.resolved_artifacts_dir)
        self.ctx["runner"] = JobRunner(
            sessions=sessions,
            bus=bus,
            artifacts=self.ctx["artifacts"],
            settings=self.settings,
            owner=owner,
            pipeline=self.ctx.get("pipeline"),
            backends=self.backends,
        )
        reconciler = Reconciler(
            sessions=sessions,
            queue=ArqQueue(self.pool),
            bus=bus,
            every_s=self.settings.reconcile_every_s,
            served=lambda: _live_backends(self.pool),
            backend_wait_s=self.settings.backend_wait_s,
        )
        advertiser = routing.Advertiser(self.pool, owner, self.backends)
        await routing.advertise(self.pool, owner, self.backends)  # before the first job, not 5 s later
        self._background = [
            asyncio.create_task(reconciler.run_forever(), name="ampa-reconciler"),
            asyncio.create_task(advertiser.run_forever(), name="ampa-advertiser"),
        ]
        log.info("serving %s", ", ".join(self.backends))

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop taking jobs; running ones go back to the queue at once (JobRunner.run). Once only: a
        second cancel would interrupt a job that is giving itself back."""
        if self._stopped:
            return
        self._stopped = True
        for worker in self.workers:
            worker.handle_sig(signum)

    async def close(self) -> None:
        self.stop(signal.SIGUSR1)
        for worker in self.workers:
            await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.pool is not None:
            with contextlib.suppress(Exception):
                await self.pool.delete(*(w.health_check_key for w in self.workers))
            await self.pool.aclose()
            self.pool = None
        if "engine" in self.ctx:
            await self.ctx.pop("engine").dispose()

    def run(self) -> None:
        """Blocking, for `ampa worker`: SIGTERM/SIGINT give the running job back and exit."""

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop, sig)
            try:
                await self.async_run()
            except asyncio.CancelledError:
                pass  # stopped by a signal
            finally:
                await self.close()

        asyncio.run(main())


async def _live_backends(pool: ArqRedis) -> set[str]:
    return {backend for backend, count in (await routing.serving(pool)).items() if count}


async def startup(ctx: dict[str, Any]) -> None:
    """For `arq worker.tasks.WorkerSettings` (the symbolic queue only)."""
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
        backends=[routing.SYMBOLIC],
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


def build_worker(
    settings: Settings,
    *,
    backends: list[str] | None = None,
    burst: bool = False,
    max_jobs: int = 1,
    pipeline: Any = None,
    **overrides: Any,
) -> BackendWorkers:
    """The workers of one process; `backends` None: every backend this installation has ready."""
    served = backends if backends is not None else routing.parse_backends(settings.worker_backends, settings)
    overrides.pop("handle_signals", None)  # always the group's own
    return BackendWorkers(settings, served, burst=burst, max_jobs=max_jobs, pipeline=pipeline, **overrides)


class WorkerSettings:
    """For `arq worker.tasks.WorkerSettings` (Redis on localhost, settings from the environment at
    start-up). `ampa worker` is the supported entry point: it passes REDIS_URL and the timeouts."""

    functions: ClassVar[list] = [func(run_job, name=TASK_NAME, max_tries=10)]
    on_startup = startup
    on_shutdown = shutdown
    max_jobs = 1
    health_check_interval = HEALTH_CHECK_S
