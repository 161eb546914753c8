"""Runs one job: takes its lease, calls the pipeline in a thread, turns the pipeline's hooks into
persisted state + events, and writes the result exactly once.

Exactly-once under SIGKILL: a worker holds a lease on the job row (lease_owner, lease_expires_at),
renewed by a heartbeat every lease/3 seconds while the pipeline thread works. Every write, the final
one included, is conditional on still holding the lease. A worker that dies stops renewing; the
reconciler (worker/reconciler.py) hands the job to another worker once the lease has expired; the
dead worker's staging folder is removed and the new attempt writes its own folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from worker import store
from worker.artifacts import ArtifactStore
from worker.events import EventBus
from worker.models import Job, utcnow
from worker.schemas import JobEvent, JobStatus
from worker.settings import Settings
from worker.store import Change

log = logging.getLogger(__name__)

MAX_TRANSIENT_RETRIES = 2  # after the first try: 3 runs in all
TRANSIENT_BACKOFF_S = (2.0, 8.0)
DEFAULT_PIPELINE = "pipeline.produce"


def load_pipeline(name: str | None) -> ModuleType:
    """The module providing `produce` and `ProduceOptions` (the seam tests use for a fast pipeline)."""
    return importlib.import_module(name or DEFAULT_PIPELINE)


class LeaseLost(Exception):
    """Another worker took the job over: stop without writing anything."""


class JobRunner:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        artifacts: ArtifactStore,
        settings: Settings,
        owner: str,
        pipeline: ModuleType | None = None,
        options: dict[str, Any] | None = None,
        backends: list[str] | None = None,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.artifacts = artifacts
        self.settings = settings
        self.owner = owner
        self._pipeline = pipeline
        self._extra_options = options or {}
        # The generator backends this runner makes jobs for (None: any); a job of another backend
        # is never claimed, so it stays PENDING for a worker that serves it.
        self.backends = backends
        self._backend_config = None

    @property
    def pipeline(self) -> ModuleType:
        if self._pipeline is None:
            self._pipeline = load_pipeline(self.settings.pipeline_module)
        return self._pipeline

    def backend_config(self) -> Any:
        """The neural backends' settings (built once: the key and model folders do not change)."""
        if self._backend_config is None:
            from worker.settings import backend_config

            self._backend_config = backend_config(self.settings)
        return self._backend_config

    async def run(self, job_id: str) -> JobStatus | None:
        """Run the job if it is ours to run. Returns its final status, or None when it was not
        claimable (finished, cancelled, or held by a live worker)."""
        async with self.sessions.begin() as session:
            job = await store.claim(
                session, job_id=job_id, owner=self.owner, lease_s=self.settings.lease_s, backends=self.backends
            )
        if job is None:
            return None
        run = _Run(self, job)
        try:
            return await run.execute()
        except asyncio.CancelledError:
            # Shutdown (SIGTERM, deploy): give the job back at once instead of waiting for the lease,
            # and make the pipeline thread stop at its next stage boundary so the process can exit.
            run.stopping = True
            await asyncio.shield(run.release())
            raise


class _Run:
    """One execution attempt of one job."""

    def __init__(self, runner: JobRunner, job: Job) -> None:
        self.r = runner
        self.job = job
        self.job_id = job.id
        self.attempt = job.execution_attempt
        self.qa_attempt = job.qa_attempt or 1
        self.qa_reports: list[dict[str, Any]] = list(job.qa_reports or [])
        self.qa_retries = job.qa_retries or 0
        self.last_stage: tuple[str, int] | None = None
        self.answered = False  # the generator got past its model's answer (a paid backend charged it)
        self.cancel_requested = False
        self.lease_lost = False
        self.timed_out = False
        self.stopping = False
        self.loop = asyncio.get_running_loop()

    # ----- writes, all conditional on our lease -----
    async def change(self, change: Change, **values: Any) -> JobEvent:
        async with self.r.sessions.begin() as session:
            event = await store.transition(
                session,
                job_id=self.job_id,
                change=change,
                values=values,
                owner=self.r.owner,
                statuses=store.RUNNING_STATUSES + (JobStatus.PENDING,),
            )
        if event is None:
            self.lease_lost = True
            raise LeaseLost(self.job_id)
        await self.r.bus.publish(event)
        return event

    async def release(self) -> None:
        with contextlib.suppress(Exception):
            async with self.r.sessions.begin() as session:
                event = await store.transition(
                    session,
                    job_id=self.job_id,
                    owner=self.r.owner,
                    statuses=store.RUNNING_STATUSES,
                    change=Change(
                        JobStatus.PENDING, "Worker stopping; the track goes back to the queue.", attempt=self.qa_attempt
                    ),
                    values={"lease_owner": None, "lease_expires_at": None},
                )
            if event is not None:
                await self.r.bus.publish(event)
            self.r.artifacts.clear(self.job_id)

    # ----- the run -----
    async def execute(self) -> JobStatus | None:
        self.r.artifacts.clear(self.job_id)  # leftovers of a worker that died
        heartbeat = asyncio.create_task(self._heartbeat(), name=f"lease-{self.job_id}")
        try:
            return await self._execute()
        except LeaseLost:
            log.warning("job %s: lease lost to another worker; dropping this attempt", self.job_id)
            self.r.artifacts.discard(self.job_id, self.attempt)
            return None
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _execute(self) -> JobStatus | None:
        from pipeline.errors import Cancelled, PipelineError, QAFailed

        try:
            spec = self._resolved_spec()  # milliseconds: saved with the first state change below
        except (ValueError, PipelineError) as exc:
            return await self._fail(getattr(exc, "user_message", None) or f"The request could not be read: {exc}")
        restarted = self.attempt > 1
        await self.change(
            Change(
                JobStatus.PROCESSING,
                "Picked up again after a worker stopped" if restarted else "Understanding the request",
                stage="parsing",
                attempt=self.qa_attempt,
                data={"execution_attempt": self.attempt},
            ),
            spec=spec.to_dict(),
            notes=list(spec.notes),
        )
        self.last_stage = ("parsing", self.qa_attempt)

        failures = 0
        while True:
            staging = self.r.artifacts.staging_dir(self.job_id, self.attempt)
            started = time.monotonic()
            try:
                result = await asyncio.wait_for(
                    asyncio.to_thread(self._produce, spec, staging),
                    timeout=self.r.settings.job_timeout_s + 30,
                )
            except Cancelled:
                self._discard(staging)
                if self.lease_lost:
                    raise LeaseLost(self.job_id) from None
                if self.timed_out:
                    return await self._fail(self._too_long_message())
                return await self._finish(JobStatus.CANCELLED, "Cancelled.", error=None)
            except QAFailed as exc:
                self._discard(staging)
                reasons = list(exc.reasons) or [exc.user_message]
                return await self._fail(exc.user_message, data={"reasons": reasons})
            except PipelineError as exc:
                self._discard(staging)
                # A generator's failure (Stability: key rejected, out of credits, flagged, …) keeps
                # its short reason on the job's history; the user reads `user_message`.
                reason = getattr(exc, "reason", None)
                return await self._fail(exc.user_message, data={"reason": reason} if reason else None)
            except TimeoutError:
                # The pipeline thread is stuck inside a stage; it cannot be interrupted, only abandoned.
                self.timed_out = True
                return await self._fail(self._too_long_message())
            except LeaseLost:
                self._discard(staging)
                raise
            except Exception as exc:
                self._discard(staging)
                if self.lease_lost:
                    raise LeaseLost(self.job_id) from None
                # The traceback goes to the debug log (`ampa -v worker`), never to a user.
                log.warning(
                    "job %s: pipeline error on try %d: %s: %s", self.job_id, failures + 1, type(exc).__name__, exc
                )
                log.debug("job %s: traceback", self.job_id, exc_info=True)
                if failures >= MAX_TRANSIENT_RETRIES:
                    return await self._fail(
                        "Something went wrong while making the track, and retrying didn't help. "
                        "Please try again later.",
                        data={"error": type(exc).__name__},
                    )
                delay = TRANSIENT_BACKOFF_S[min(failures, len(TRANSIENT_BACKOFF_S) - 1)]
                failures += 1
                await self.change(
                    Change(
                        JobStatus.PROCESSING,
                        f"Hit a snag ({type(exc).__name__}); trying again in {delay:g} s",
                        stage=self.last_stage[0] if self.last_stage else "parsing",
                        attempt=self.qa_attempt,
                        data={"transient": True, "error": type(exc).__name__, "retry": failures},
                    ),
                    transient_failures=Job.transient_failures + 1,
                )
                await asyncio.sleep(delay)
                continue
            log.info("job %s produced in %.1f s", self.job_id, time.monotonic() - started)
            return await self._succeed(result, staging)

    def _resolved_spec(self):
        from pipeline.defaults import resolve
        from pipeline.spec import Spec

        spec = Spec.from_dict(self.job.spec or {})
        return resolve(spec, seed_text=self.job.prompt)

    def _produce(self, spec: Any, out_dir: Path) -> Any:
        """In the worker thread."""
        pipeline = self.r.pipeline
        settings = self.r.settings
        options = pipeline.ProduceOptions(
            soundfont=settings.soundfont,
            max_qa_retries=settings.max_qa_retries,
            loudness_lufs=settings.loudness_target_lufs,
            ceiling_dbtp=settings.true_peak_ceiling_dbtp,
            render_workers=settings.render_workers,
            keep_soundfont=settings.keep_soundfont_loaded,
            scratch_dir=settings.scratch_dir,
            **{"backends": replace(self.r.backend_config(), answer_dir=self.answer_dir), **self.r._extra_options},
        )
        reference = Path(self.job.reference_path) if self.job.reference_path else None
        return pipeline.produce(spec, out_dir, options=options, hooks=_Hooks(self), reference=reference)

    async def _succeed(self, result: Any, staging: Path) -> JobStatus | None:
        try:
            files = self.r.artifacts.commit(self.job_id, self.attempt, staging, dict(result.files))
        except OSError as exc:
            self._discard(staging)
            return await self._fail(f"The finished files could not be stored ({exc.strerror or exc}).")
        reports = list(result.qa_reports) or self.qa_reports
        verdict = "QA passed" if result.passed else "QA: finished with warnings"
        try:
            await self._finish(
                JobStatus.SUCCESS,
                f"Done — {verdict}.",
                error=None,
                files=files,
                timings={k: round(float(v), 3) for k, v in result.timings.items()},
                qa_reports=reports,
                spec=result.spec.to_dict(),
                notes=list(result.spec.notes),
                data={"files": sorted(files), "qa_attempts": result.attempts},
                **_charged(result),
            )
        except LeaseLost:
            self.r.artifacts.discard(self.job_id, self.attempt)
            raise
        return JobStatus.SUCCESS

    async def _fail(self, reason: str, *, data: dict[str, Any] | None = None) -> JobStatus:
        await self._finish(JobStatus.FAILED, f"Failed: {reason}", error=reason, data=data or {}, **self._spent())
        return JobStatus.FAILED

    def _spent(self) -> dict[str, float]:
        """A paid job that failed after the model answered was charged: at least its prediction (the
        pipeline's errors do not carry the client's own count), so the daily cap still counts it."""
        return {"charged_credits": self.job.predicted_credits} if self.answered and self.job.predicted_credits else {}

    @property
    def answer_dir(self) -> Path:
        """Where a paid backend keeps this job's answers until it ends (see pipeline.backends.kept_answers)."""
        return self.r.settings.data_dir / "answers" / self.job_id

    async def _finish(
        self, status: JobStatus, message: str, *, error: str | None, data: dict | None = None, **values: Any
    ) -> JobStatus:
        await self.change(
            Change(status, message, stage=None, attempt=self.qa_attempt, data=data or {}),
            error=error,
            finished_at=utcnow(),
            lease_owner=None,
            lease_expires_at=None,
            qa_reports=values.pop("qa_reports", self.qa_reports),
            qa_retries=self.qa_retries,
            **values,
        )
        shutil.rmtree(self.answer_dir, ignore_errors=True)  # the job has its result: nothing to reuse
        return status

    def _discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def _too_long_message(self) -> str:
        return f"The track took longer than this server allows ({self.r.settings.job_timeout_s} s); try a shorter one."

    # ----- lease -----
    async def _heartbeat(self) -> None:
        period = max(0.5, self.r.settings.lease_s / 3)
        deadline = time.monotonic() + self.r.settings.job_timeout_s
        while True:
            await asyncio.sleep(period)
            if time.monotonic() > deadline:
                self.timed_out = True
            try:
                async with self.r.sessions.begin() as session:
                    flag = await store.renew_lease(
                        session, job_id=self.job_id, owner=self.r.owner, lease_s=self.r.settings.lease_s
                    )
            except Exception as exc:  # noqa: BLE001 - database away: keep working, try again next beat
                log.warning("job %s: could not renew lease: %s", self.job_id, exc)
                continue
            if flag is None:
                self.lease_lost = True
                return
            self.cancel_requested = bool(flag)

    # ----- hooks (called in the pipeline thread through _Hooks) -----
    async def on_stage(self, stage: str, attempt: int) -> None:
        if self.last_stage == (stage, attempt):
            return
        self.last_stage = (stage, attempt)
        self.answered = self.answered or stage in _AFTER_GENERATION
        self.qa_attempt = max(self.qa_attempt, attempt)
        again = f" again (attempt {attempt})" if attempt > 1 else ""
        message, data = f"{_STAGE_WORDS.get(stage, stage.capitalize())}{again}", {}
        if wait := _WAITING.fullmatch(stage):  # a remote service is rate-limiting: say so, and for how long
            stage, data = "waiting", {"retry_in_s": int(wait[1])}
            message = f"Waiting (rate limited), retrying in {wait[1]} s"
        await self.change(
            Change(JobStatus.PROCESSING, message, stage=stage, attempt=attempt, data=data),
            qa_attempt=self.qa_attempt,
        )

    async def on_qa(self, report: dict[str, Any], attempt: int, actions: list[str]) -> None:
        self.qa_reports.append(report)
        failures = [str(f) for f in report.get("failures", [])]
        summary = {"passed": bool(report.get("passed")), "failures": failures, "actions": list(actions)}
        if actions:
            self.qa_retries = attempt
            self.qa_attempt = attempt + 1
            what = "; ".join(failures) or "checks failed"
            await self.change(
                Change(
                    JobStatus.RETRYING_QA,
                    f"QA: {what}, fixing — attempt {attempt + 1}",
                    stage="qa",
                    attempt=attempt,
                    data=summary,
                ),
                qa_reports=self.qa_reports,
                qa_retries=self.qa_retries,
                qa_attempt=self.qa_attempt,
            )
        else:
            message = "QA passed" if summary["passed"] else "QA: " + ("; ".join(failures) or "checks failed")
            await self.change(
                Change(JobStatus.PROCESSING, message, stage="qa", attempt=attempt, data=summary),
                qa_reports=self.qa_reports,
            )

    def should_stop(self) -> bool:
        return self.cancel_requested or self.lease_lost or self.timed_out or self.stopping


_AFTER_GENERATION = ("correcting", "mixing", "mastering", "qa")
_WAITING = re.compile(r"waiting (\d+)s")
_STAGE_WORDS = {
    "parsing": "Understanding the request",
    "analysing": "Listening to the reference",
    "composing": "Composing",
    "rendering": "Rendering instruments",
    "mixing": "Mixing",
    "mastering": "Mastering",
    "qa": "Checking quality",
    # A neural backend's stages (pipeline.backends.control, stable_audio).
    "generating": "Generating with the neural model",
    "waiting": "Waiting for the generator (rate limit or retry)",
    "correcting": "Measuring and correcting tempo and key",
}


def _charged(result: Any) -> dict[str, float]:
    """What a paid backend charged for this job (report.json's generation.credits), for the record."""
    generation = getattr(result, "generation", None) or {}
    credits = generation.get("credits")
    return {"charged_credits": float(credits)} if isinstance(credits, (int, float)) else {}


class _Hooks:
    """pipeline.produce.ProductionHooks, called from the pipeline thread: each call waits until its
    state change is persisted (milliseconds), so history order is pipeline order."""

    def __init__(self, run: _Run) -> None:
        self._run = run

    def _call(self, make: Callable[[], Awaitable[None]]) -> None:
        future = asyncio.run_coroutine_threadsafe(make(), self._run.loop)
        try:
            future.result(timeout=60)
        except LeaseLost:
            pass  # is_cancelled() now says stop
        except Exception as exc:  # noqa: BLE001 - progress is best effort; the final write decides
            log.warning("job %s: progress not recorded: %s", self._run.job_id, exc)

    def on_stage(self, stage: str, attempt: int) -> None:
        self._call(lambda: self._run.on_stage(stage, attempt))

    def on_qa(self, report: dict, attempt: int, actions: list[str]) -> None:
        self._call(lambda: self._run.on_qa(report, attempt, actions))

    def is_cancelled(self) -> bool:
        return self._run.should_stop()
