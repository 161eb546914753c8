"""JobService: the one object the bots, the API and the CLI use to talk to the job system.

INTERFACE CONTRACT (the job-system work fills in the bodies; signatures are fixed):

    service = await JobService.open(settings)          # engine + queue (arq when REDIS_URL, else in-process runner)
    job = await service.submit(JobRequest(...))        # parse, check limits, persist PENDING, enqueue; raises JobRejected
    job = await service.get(job_id)                    # JobView | None
    jobs = await service.list_jobs(platform=..., requester_id=..., limit=10)
    job = await service.cancel(job_id, requester_id=...)   # raises JobRejected("not_found"/"forbidden")
    await service.set_status_message(job_id, ref)      # adapter records its status message (channel:message id, ts)
    await service.set_thread(job_id, thread_ref)       # adapter records the thread it created for results
    await service.mark_delivered(job_id)               # adapter posted the final result
    jobs = await service.undelivered(platform)         # jobs whose final state was not posted yet (bot restart)
    async for event in service.events(job_id, after_seq=0): ...
                                                       # replays history from the database, then follows live
                                                       # events until the job is terminal, then stops
    job = await service.latest_in_thread(platform, thread_ref)   # newest version in a thread
    follow = await service.follow_up(parent_job_id, reply_text, requester_id=..., client_ref=...)
                                                       # FollowUp(job|None, changes, message)
    job = await service.variation(job_id, requester_id=..., new_seed=True)  # same spec; new seed or same
    position = await service.queue_position(job_id)    # int | None (None when not waiting)
    path = service.file_path(job, "mix.mp3")           # Path of an artifact, or None
    await service.close()

Everything a user can get wrong raises `JobRejected` with a `user_message` fit to show as it is.

Additions to the contract (keyword-only, optional, so existing callers are unaffected):
    JobService.open(settings, *, run_jobs=True, pipeline=None, pipeline_options=None, migrate=None)
        run_jobs=False: never run jobs in this process (CLI readers); pipeline/pipeline_options: the
        runner's seam (tests inject a fast pipeline module; first_master_gain_db etc.); migrate:
        upgrade the schema first (default: yes on SQLite, no on PostgreSQL, where `ampa db upgrade` does it).
    follow_up(..., reference_path=None); variation(..., client_ref=None) (idempotent button presses);
    list_jobs(..., statuses=None); history(job_id, after_seq=0) -> list[JobEvent]; health(); queue_depth().
    More JobRejected reasons: prompt_too_long, bad_option, bad_spec.
    `async with await JobService.open(settings) as service:` closes it on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from worker import limits, routing, store
from worker.artifacts import FilesystemArtifactStore
from worker.db import is_sqlite, make_engine, make_sessions
from worker.events import EventBus, LocalEventBus, RedisEventBus
from worker.models import Job
from worker.queue import ArqQueue, InProcessQueue, JobQueue
from worker.reconciler import Reconciler
from worker.runner import JobRunner
from worker.schemas import FollowUp, JobEvent, JobRejected, JobRequest, JobStatus, JobView
from worker.settings import Settings
from worker.store import Change

if TYPE_CHECKING:
    from worker.web.links import LinkSigner

log = logging.getLogger(__name__)

# How long `events` waits on the live stream before re-reading the history table anyway
# (covers a lost pub/sub message or a Redis restart).
EVENT_POLL_S = 5.0
FAILED_PARENT_MESSAGE = "That version failed, so there is nothing to change — try a new prompt."
_GUIDED_FIELDS = {
    "genre",
    "genres",
    "mood",
    "moods",
    "instruments",
    "exclude",
    "tempo_bpm",
    "tempo",
    "key",
    "time_signature",
    "duration_s",
    "energy",
    "match_reference",
    "align_to_reference",
}


def worker_identity() -> str:
    """Who holds a lease: host, pid and a random suffix (pids repeat across containers)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobService:
    """See the module docstring for the contract. Build with `await JobService.open(settings)`."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        queue: JobQueue | None,
        bus: EventBus,
        artifacts: FilesystemArtifactStore,
        redis: Any = None,
        reconciler: Reconciler | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = sessions
        self.queue = queue
        self.bus = bus
        self.artifacts = artifacts
        self.redis = redis
        self.reconciler = reconciler
        self._retention_task: asyncio.Task[None] | None = None
        self._reconcile_task: asyncio.Task[None] | None = None
        self._warm_parser: asyncio.Future[None] | None = None

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        run_jobs: bool = True,
        pipeline: ModuleType | None = None,
        pipeline_options: dict[str, Any] | None = None,
        migrate: bool | None = None,
        warm_parser: bool = True,
    ) -> JobService:
        """Connect to the database and the queue.

        run_jobs: in embedded mode (no REDIS_URL), run jobs in this process (a bot, the API,
        `ampa submit --wait`); False for processes that only read and submit (`ampa jobs`).
        migrate: bring the schema up to date first; default: yes for SQLite (the embedded default
        needs no setup), no for PostgreSQL (`ampa db upgrade` is a deploy step).
        warm_parser: load the prompt parser in the background now, so the first submit is quick.
        """
        url = settings.resolved_database_url
        if migrate if migrate is not None else is_sqlite(url):
            from worker.migrate import upgrade

            await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        sessions = make_sessions(engine)
        artifacts = FilesystemArtifactStore(settings.resolved_artifacts_dir)
        if settings.uses_arq:
            from arq.connections import RedisSettings, create_pool

            pool = await create_pool(RedisSettings.from_dsn(settings.redis_url), retry=3)
            bus: EventBus = RedisEventBus(pool)
            service = cls(
                settings=settings,
                engine=engine,
                sessions=sessions,
                queue=ArqQueue(pool),
                bus=bus,
                artifacts=artifacts,
                redis=pool,
            )
            service._start_warm_up(warm_parser)
            return service
        bus = LocalEventBus()
        queue: JobQueue | None = None
        reconciler = None
        if run_jobs:
            # The embedded runner serves whatever this process can run (`ampa worker --backends`
            # embedded: the ones it names).
            served = routing.parse_backends(settings.worker_backends, settings)
            runner = JobRunner(
                sessions=sessions,
                bus=bus,
                artifacts=artifacts,
                settings=settings,
                owner=worker_identity(),
                pipeline=pipeline,
                options=pipeline_options,
                backends=served,
            )
            queue = InProcessQueue(runner, concurrency=settings.in_process_concurrency)

            async def served_here() -> list[str]:
                return served

            reconciler = Reconciler(
                sessions=sessions,
                queue=queue,
                bus=bus,
                every_s=settings.reconcile_every_s,
                served=served_here,
                backend_wait_s=settings.backend_wait_s,
            )
        service = cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            queue=queue,
            bus=bus,
            artifacts=artifacts,
            reconciler=reconciler,
        )
        service._start_warm_up(warm_parser)
        if reconciler is not None:
            # Jobs left waiting or half-done by a previous run of this process resume now.
            service._reconcile_task = asyncio.create_task(reconciler.run_forever(), name="ampa-reconciler")
            service._start_retention()
        return service

    def _start_warm_up(self, wanted: bool) -> None:
        """Load the parser in a daemon thread: a submit waits for it, but stopping does not. Under load
        it can take 10 s or more, and a bot that must finish it before it exits restarts slowly."""
        if not wanted:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def warm_up() -> None:
            try:
                _load_parser()
                outcome: BaseException | None = None
            except BaseException as exc:  # reported to whoever waits; a submit then loads it itself
                outcome = exc
            with contextlib.suppress(RuntimeError):  # the loop is already closed: nobody waits
                loop.call_soon_threadsafe(_settle, done, outcome)

        done.add_done_callback(lambda f: f.cancelled() or f.exception())  # a failure is not an error here
        threading.Thread(target=warm_up, name="ampa-parser-warm-up", daemon=True).start()
        self._warm_parser = done

    async def close(self) -> None:
        if self._reconcile_task is not None:
            self._reconcile_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconcile_task
        if self._retention_task is not None:
            self._retention_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention_task
        await self.bus.close()  # before the queue: in arq mode they share the Redis pool
        if self.queue is not None:
            await self.queue.close()
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ submit
    async def submit(self, request: JobRequest) -> JobView:
        if request.client_ref:
            async with self.sessions() as session:
                existing = await store.find_by_client_ref(
                    session, platform=request.platform, client_ref=request.client_ref
                )
            if existing is not None:
                return store.to_view(existing)
        limits.check_prompt(request.prompt, has_spec=request.spec is not None)
        limits.check_duration(request.duration_s, self.settings)  # before parsing: a fast answer
        reference = self._check_reference(request.reference_path)
        spec = await self._understand(request)
        duration = (spec.get("duration_s") or {}).get("value") if spec else None
        limits.check_duration(duration, self.settings)
        backend = routing.choose_backend(
            request.backend,
            spec.get("backend") if spec else None,
            from_ready_spec=request.spec is not None,
            default=self.settings.default_backend,
            prompt=request.prompt,
        )
        spec = {**(spec or {}), "backend": backend}
        waiting_for = await self._check_backend(backend)
        predicted = routing.predict_credits(spec, backend, self.settings)

        parent_version = 0
        async with self.sessions.begin() as session:
            if request.parent_id:
                parent = await store.get_job(session, job_id=request.parent_id)
                if parent is None:
                    raise JobRejected("not_found", "That track no longer exists — start again with a new prompt.")
                parent_version = parent.version
            await self._serialise_user(session, request.requester_id)
            ahead = await limits.check_capacity(
                session, requester_id=request.requester_id, settings=self.settings, backend=backend
            )
            await limits.check_credits(
                session, requester_id=request.requester_id, backend=backend, predicted=predicted, settings=self.settings
            )
            job = Job(
                id=uuid.uuid4().hex,
                platform=request.platform,
                requester_id=request.requester_id,
                conversation_ref=request.conversation_ref,
                thread_ref=request.thread_ref,
                client_ref=request.client_ref,
                prompt=request.prompt,
                parent_id=request.parent_id,
                version=parent_version + 1,
                spec=spec,
                notes=list(spec.get("notes", [])) if spec else [],
                reference_path=str(reference) if reference else None,
                backend=backend,
                predicted_credits=predicted,
                status=str(JobStatus.PENDING),
                qa_attempt=1,
                qa_retries=0,
                qa_reports=[],
                files={},
                timings={},
                delivered=False,
                cancel_requested=False,
                execution_attempt=0,
                transient_failures=0,
            )
            try:
                async with session.begin_nested():
                    first = await store.insert_job(session, job=job, first=_queued(ahead, waiting_for))
            except IntegrityError:
                if request.client_ref:  # the same interaction/event raced us: answer with its job
                    existing = None
                    async with self.sessions() as other:
                        existing = await store.find_by_client_ref(
                            other, platform=request.platform, client_ref=request.client_ref
                        )
                    if existing is not None:
                        return store.to_view(existing)
                raise
        await self.bus.publish(first)
        await self._enqueue(job.id, backend)
        return store.to_view(job)

    async def _check_backend(self, backend: str) -> str | None:
        """Refuse a backend nobody here can run; returns the backend when the job will wait for a
        worker that runs it (arq: no live worker advertises it right now), else None.

        Embedded, this process (or a local `ampa worker`) makes the job, so its own readiness
        decides, with the reason ("STABILITY_API_KEY is not set"). With Redis the workers may have
        keys and GPUs that the bot does not, so what they advertise decides; a job nobody serves
        yet is held (and fails after AMPA_BACKEND_WAIT), because a worker may be restarting."""
        if self.redis is None:
            states = routing.local_readiness(self.settings)
            if not any(r.name == backend and r.ready for r in states):
                raise routing.unavailable(backend, states)
            return None
        try:
            live = await routing.serving(self.redis)
        except Exception as exc:  # noqa: BLE001 - Redis away: the job is safe in the database
            log.warning("could not read which backends are served: %s", exc)
            return None
        return None if live.get(backend) else backend

    async def available_backends(self) -> list[str]:
        """The models a user can pick now: ready in this process (embedded), or served by a live
        worker (Redis); the operator's default always (its jobs wait for a worker at worst)."""
        if self.redis is None:
            names = routing.ready_here(self.settings)
        else:
            try:
                live = await routing.serving(self.redis)
            except Exception:  # noqa: BLE001
                live = {}
            names = [name for name, count in live.items() if count]
        default = self.settings.default_backend
        return [default, *(n for n in names if n != default)]

    async def _enqueue(self, job_id: str, backend: str = routing.SYMBOLIC) -> None:
        if self.queue is None:
            return  # a read-only process: a worker (or the reconciler of an embedded process) picks it up
        try:
            await self.queue.enqueue(job_id, backend)
        except Exception as exc:  # noqa: BLE001 - Redis away: the job is safe in the database
            log.warning("job %s saved but not enqueued (%s); the reconciler will enqueue it", job_id, exc)

    async def _serialise_user(self, session: AsyncSession, requester_id: str) -> None:
        """On PostgreSQL, one submit per user at a time, so two simultaneous requests cannot both
        pass the concurrency check. (SQLite's BEGIN IMMEDIATE already serialises writers.)"""
        if session.bind.dialect.name == "postgresql":
            from sqlalchemy import func, select

            await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(requester_id))))

    async def _understand(self, request: JobRequest) -> dict[str, Any] | None:
        """The spec as the prompt (and the guided choices) say it, unresolved: the worker resolves."""
        from pipeline.spec import Spec

        if request.spec is not None:
            try:
                spec = Spec.from_dict(request.spec)
            except ValueError as exc:
                raise JobRejected("bad_spec", f"That spec could not be read: {exc}") from None
        else:
            if self._warm_parser is not None:  # never load the parser twice at once
                with contextlib.suppress(Exception):
                    await self._warm_parser
            result = await asyncio.to_thread(_parse_prompt, request.prompt)
            if result is not None and not result.is_music_request and not request.overrides:
                raise limits.not_music(request.prompt, getattr(result, "reply", ""))
            spec = result.spec if result is not None else Spec()
        updates: dict[str, Any] = {}
        try:
            for name, value in (request.overrides or {}).items():
                if value in (None, "", []):
                    continue
                if name not in _GUIDED_FIELDS:
                    raise JobRejected("bad_option", f"Unknown option {name!r}.")
                field, plain = _guided(name, value)
                updates[field] = plain
            if request.duration_s is not None:
                updates["duration_s"] = {"value": float(request.duration_s), "source": "prompt", "confidence": 1.0}
            if request.seed is not None:
                updates["seed"] = {"value": int(request.seed), "source": "prompt", "confidence": 1.0}
            updates.update(_reference_words(request.prompt))
            if updates:
                spec = spec.with_updates(**updates)
        except (ValueError, TypeError) as exc:
            raise JobRejected("bad_option", f"One of the options is not valid: {_first_line(exc)}") from None
        return spec.to_dict()

    def _check_reference(self, reference_path: str | None) -> Path | None:
        if not reference_path:
            return None
        path = Path(reference_path)
        if not path.is_file():
            raise JobRejected("bad_reference", "The reference file could not be found; attach it again.")
        if path.stat().st_size > self.settings.max_reference_bytes:
            mb = self.settings.max_reference_bytes / 1e6
            raise JobRejected("bad_reference", f"The reference file is over {mb:g} MB; send a shorter excerpt.")
        return path.resolve()

    # ------------------------------------------------------------------ read
    async def get(self, job_id: str) -> JobView | None:
        async with self.sessions() as session:
            job = await store.get_job(session, job_id=job_id)
        return store.to_view(job) if job else None

    async def list_jobs(
        self,
        *,
        platform: str | None = None,
        requester_id: str | None = None,
        limit: int = 10,
        statuses: list[JobStatus] | None = None,
    ) -> list[JobView]:
        async with self.sessions() as session:
            jobs = await store.list_jobs(
                session, platform=platform, requester_id=requester_id, statuses=statuses, limit=limit
            )
        return [store.to_view(job) for job in jobs]

    async def history(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        async with self.sessions() as session:
            return await store.events_after(session, job_id=job_id, after_seq=after_seq)

    async def queue_position(self, job_id: str) -> int | None:
        async with self.sessions() as session:
            job = await store.get_job(session, job_id=job_id)
            if job is None or job.status != JobStatus.PENDING:
                return None
            return await store.queue_position(session, job=job)

    async def latest_in_thread(self, platform: str, thread_ref: str) -> JobView | None:
        async with self.sessions() as session:
            job = await store.latest_in_thread(session, platform=platform, thread_ref=thread_ref)
        return store.to_view(job) if job else None

    async def undelivered(self, platform: str) -> list[JobView]:
        async with self.sessions() as session:
            jobs = await store.undelivered(session, platform=platform)
        return [store.to_view(job) for job in jobs]

    def _start_retention(self) -> None:
        """Embedded mode: this process sweeps old files itself (arq workers run it as a cron job)."""
        if self.settings.retention_days > 0:
            from worker import retention

            self._retention_task = asyncio.create_task(
                retention.run_forever(
                    sessions=self.sessions,
                    artifacts=self.artifacts,
                    retention_days=self.settings.retention_days,
                    every_s=self.settings.retention_every_s,
                ),
                name="ampa-retention",
            )

    async def versions(self, job_id: str) -> list[JobView]:
        """Every version linked to this job (its parents and what was made from them), oldest first."""
        async with self.sessions() as session:
            return [store.to_view(job) for job in await store.version_tree(session, job_id=job_id)]

    @functools.cached_property
    def links(self) -> LinkSigner:
        """Signs and checks the links to job pages and files (worker/web/links.py). The secret is read,
        or made, on first use, so a process that never shows a link never touches it."""
        from worker.web.links import LinkSigner

        return LinkSigner.from_settings(self.settings)

    def file_path(self, job: JobView, name: str) -> Path | None:
        stored = job.files.get(name)
        return self.artifacts.resolve(job.id, stored) if stored else None

    # ------------------------------------------------------------------ adapter bookkeeping
    async def set_status_message(self, job_id: str, ref: str) -> None:
        await self._set(job_id, status_message_ref=ref)

    async def set_thread(self, job_id: str, thread_ref: str) -> None:
        await self._set(job_id, thread_ref=thread_ref)

    async def mark_delivered(self, job_id: str) -> None:
        await self._set(job_id, delivered=True)

    async def _set(self, job_id: str, **values: Any) -> None:
        async with self.sessions.begin() as session:
            if not await store.update_fields(session, job_id=job_id, **values):
                raise JobRejected("not_found", "That track no longer exists.")

    # ------------------------------------------------------------------ cancel
    async def cancel(self, job_id: str, *, requester_id: str | None = None) -> JobView:
        """Waiting jobs are cancelled at once; running ones stop at the next stage boundary (the
        worker sees the flag on its next heartbeat, within lease/3 seconds)."""
        async with self.sessions.begin() as session:
            job = await store.get_job(session, job_id=job_id)
            if job is None:
                raise JobRejected("not_found", "There is no track with that id.")
            if requester_id is not None and job.requester_id != requester_id:
                raise JobRejected("forbidden", "Only the person who asked for that track can cancel it.")
            if JobStatus(job.status).is_terminal:
                return store.to_view(job)
            event = await store.transition(
                session,
                job_id=job_id,
                statuses=(JobStatus.PENDING,),
                change=Change(JobStatus.CANCELLED, "Cancelled before it started.", attempt=job.qa_attempt),
                values={"cancel_requested": True, "finished_at": store.utcnow(), "lease_owner": None},
            )
            if event is None:  # already running
                await store.update_fields(session, job_id=job_id, cancel_requested=True)
        if event is not None:
            await self.bus.publish(event)
        view = await self.get(job_id)
        assert view is not None
        return view

    # ------------------------------------------------------------------ events
    async def events(self, job_id: str, after_seq: int = 0) -> AsyncIterator[JobEvent]:
        """History after `after_seq`, then live events, until the job is terminal. Subscribes before
        replaying and skips what it has seen, so nothing falls between the replay and the live feed."""
        last = after_seq
        async with self.bus.subscribe(job_id) as live:
            while True:
                for event in await self.history(job_id, last):
                    last = event.seq
                    yield event
                    if event.status.is_terminal:
                        return
                job = await self.get(job_id)
                if job is None:
                    return
                if job.status.is_terminal and not await self.history(job_id, last):
                    return
                # Follow live; re-read the table when the stream is quiet or skips a number.
                try:
                    while True:
                        event = await asyncio.wait_for(live.get(), EVENT_POLL_S)
                        if event.seq <= last:
                            continue
                        if event.seq != last + 1:
                            break  # a gap: replay from the table
                        last = event.seq
                        yield event
                        if event.status.is_terminal:
                            return
                except TimeoutError:
                    pass

    # ------------------------------------------------------------------ iterations
    async def follow_up(
        self,
        parent_job_id: str,
        reply_text: str,
        *,
        requester_id: str,
        client_ref: str | None = None,
        reference_path: str | None = None,
    ) -> FollowUp:
        parent = await self.get(parent_job_id)
        if parent is None:
            raise JobRejected("not_found", "That track no longer exists — start again with a new prompt.")
        if client_ref:
            async with self.sessions() as session:
                existing = await store.find_by_client_ref(session, platform=parent.platform, client_ref=client_ref)
            if existing is not None:
                return FollowUp(store.to_view(existing), [], None)
        if parent.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            return FollowUp(None, [], FAILED_PARENT_MESSAGE)
        if not reply_text.strip():
            return FollowUp(None, [], 'Tell me what to change — for example "make the drums quieter" or "faster".')
        from pipeline.spec import Spec

        previous = Spec.from_dict(parent.spec or {})
        edit = await asyncio.to_thread(_apply_reply, previous, reply_text)
        message = "; ".join(edit.messages) or None
        backend = routing.next_version_backend(parent.backend, edit.spec.backend, reply_text)
        changes = list(edit.changes) + ([{"backend": backend}] if backend != parent.backend else [])
        if not edit.makes_new_version and backend == parent.backend:
            return FollowUp(None, changes, message or "Nothing to change there — tell me what to do differently.")
        new_spec = {**edit.spec.to_dict(), "backend": backend}
        job = await self.submit(
            JobRequest(
                prompt=reply_text,
                platform=parent.platform,
                requester_id=requester_id,
                conversation_ref=parent.conversation_ref,
                thread_ref=parent.thread_ref,
                reference_path=reference_path or _existing(await self._reference_of(parent.id)),
                parent_id=parent.id,
                spec=new_spec,
                client_ref=client_ref,
            )
        )
        return FollowUp(job, changes, message)

    async def variation(
        self, job_id: str, *, requester_id: str, new_seed: bool = True, client_ref: str | None = None
    ) -> JobView:
        """Same spec; a new seed chosen deterministically from the old one and the version (Variation),
        or the same seed (Regenerate)."""
        from pipeline.defaults import default_seed
        from pipeline.spec import Spec

        parent = await self.get(job_id)
        if parent is None:
            raise JobRejected("not_found", "That track no longer exists — start again with a new prompt.")
        if not parent.spec:
            raise JobRejected("failed_parent", FAILED_PARENT_MESSAGE)
        spec = Spec.from_dict(parent.spec)
        if new_seed:
            old = spec.seed.value if spec.seed else default_seed(parent.prompt)
            seed = default_seed(f"{old}:{parent.version + 1}")
            spec = spec.with_updates(seed={"value": seed, "source": "prompt", "confidence": 1.0})
        return await self.submit(
            JobRequest(
                prompt=parent.prompt,
                platform=parent.platform,
                requester_id=requester_id,
                conversation_ref=parent.conversation_ref,
                thread_ref=parent.thread_ref,
                reference_path=_existing(await self._reference_of(parent.id)),
                parent_id=parent.id,
                spec=spec.to_dict(),
                client_ref=client_ref,
            )
        )

    async def _reference_of(self, job_id: str) -> str | None:
        async with self.sessions() as session:
            job = await store.get_job(session, job_id=job_id)
        return job.reference_path if job else None

    # ------------------------------------------------------------------ health
    async def health(self) -> dict[str, str]:
        """'ok' or the reason, per dependency."""
        from sqlalchemy import text

        out: dict[str, str] = {}
        try:
            async with self.sessions() as session:
                await session.execute(text("SELECT 1"))
            out["database"] = "ok"
        except Exception as exc:  # noqa: BLE001
            out["database"] = f"unreachable: {_first_line(exc)}"
        if self.redis is not None:
            try:
                await self.redis.ping()
                out["redis"] = "ok"
            except Exception as exc:  # noqa: BLE001
                out["redis"] = f"unreachable: {_first_line(exc)}"
        return out

    async def queue_depth(self) -> int:
        async with self.sessions() as session:
            return await store.count_jobs(session, statuses=(JobStatus.PENDING,))


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if not future.done():
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _load_parser() -> None:
    try:
        from pipeline.understanding import load_parser
    except ImportError:
        return
    load_parser()


def _parse_prompt(text: str) -> Any:
    """pipeline.understanding.parse_prompt, or None while that package is not there yet."""
    try:
        from pipeline.understanding import parse_prompt
    except ImportError:
        log.warning("pipeline.understanding is missing; using defaults for every prompt")
        return None
    return parse_prompt(text)


class _PlainEdit:
    """The shape of pipeline.understanding.EditResult, for when that package is missing."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.changes: list[dict[str, Any]] = [{"new_prompt": True}]
        self.messages: list[str] = []
        self.makes_new_version = True
        self.new_prompt = True


def _apply_reply(previous: Any, reply: str) -> Any:
    try:
        from pipeline.understanding import apply_reply
    except ImportError:
        log.warning("pipeline.understanding is missing; a reply keeps the previous spec with a new seed")
        from pipeline.defaults import default_seed

        seed = default_seed(f"{previous.seed.value if previous.seed else 0}:{reply}")
        return _PlainEdit(previous.with_updates(seed={"value": seed, "source": "prompt", "confidence": 1.0}))
    return apply_reply(previous, reply)


def _guided(name: str, value: Any) -> tuple[str, Any]:
    """A guided choice (slash-command option) as a spec field, said by the user."""
    from pipeline.vocabulary import GENRES, INSTRUMENTS, MOODS

    said = {"source": "prompt", "confidence": 1.0}
    if name in ("genre", "genres", "mood", "moods", "instruments", "exclude"):
        field = {"genre": "genres", "mood": "moods"}.get(name, name)
        known = {"genres": GENRES, "moods": MOODS}.get(field, INSTRUMENTS)
        values = [str(v).strip().lower() for v in (value if isinstance(value, list) else [value])]
        for v in values:
            if v not in known:
                raise ValueError(f"{v!r} is not a known {field[:-1] if field != 'exclude' else 'instrument'}")
        return field, [{"value": v, **said} for v in values]
    if name in ("match_reference", "align_to_reference"):
        return name, {"value": bool(value), **said}
    if name in ("tempo", "tempo_bpm", "duration_s", "energy"):
        return ("tempo_bpm" if name == "tempo" else name), {"value": float(value), **said}
    return name, {"value": str(value), **said}


def _reference_words(prompt: str) -> dict[str, Any]:
    """'match the reference' / 'line it up with the reference' in the prompt, as spec switches."""
    from pipeline.reference.words import wants_alignment, wants_match

    said = {"value": True, "source": "prompt", "confidence": 1.0}
    words = {"match_reference": wants_match(prompt), "align_to_reference": wants_alignment(prompt)}
    return {name: dict(said) for name, present in words.items() if present}


def _existing(path: str | None) -> str | None:
    return path if path and Path(path).is_file() else None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _queued(ahead: int, waiting_for: str | None) -> Change:
    if waiting_for is not None:
        return Change(
            JobStatus.PENDING,
            routing.waiting_message(waiting_for),
            data={"queue_position": ahead + 1, "waiting_for_backend": waiting_for},
        )
    return Change(JobStatus.PENDING, f"Queued — position {ahead + 1}", data={"queue_position": ahead + 1})
