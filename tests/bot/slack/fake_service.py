"""TEMPORARY stand-in for worker.service.JobService while it is being written (same signatures).

Only used until the real JobService lands; the suite then runs on the real one.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, AsyncIterator

from worker.schemas import FollowUp, JobEvent, JobRejected, JobRequest, JobStatus, JobView

STAGES = ("parsing", "composing", "rendering", "mixing", "mastering", "qa")


class FakeJobService:
    def __init__(self, out_dir: Path, *, limit: int = 2) -> None:
        self.out_dir = out_dir
        self.limit = limit
        self.jobs: dict[str, JobView] = {}
        self.requests: dict[str, JobRequest] = {}
        self.history: dict[str, list[JobEvent]] = {}
        self._cond = asyncio.Condition()

    async def submit(self, request: JobRequest) -> JobView:
        for job_id, req in self.requests.items():
            if request.client_ref and req.client_ref == request.client_ref and req.platform == request.platform:
                return self.jobs[job_id]
        if not request.prompt.strip() and not request.spec:
            raise JobRejected("empty_prompt", "Tell me what to make.")
        active = [j for j in self.jobs.values() if j.requester_id == request.requester_id and not j.status.is_terminal]
        if len(active) >= self.limit:
            raise JobRejected("concurrency", f"You already have {len(active)} tracks in the works — wait for one to finish.")
        parent = self.jobs.get(request.parent_id) if request.parent_id else None
        now = datetime.now(UTC)
        job = JobView(id=uuid.uuid4().hex, platform=request.platform, requester_id=request.requester_id,
                      conversation_ref=request.conversation_ref, thread_ref=request.thread_ref, status_message_ref=None,
                      prompt=request.prompt, parent_id=request.parent_id, version=parent.version + 1 if parent else 1,
                      spec=request.spec or {"genres": ["funk"]}, summary="funk · 120 BPM · 0:06",
                      status=JobStatus.PENDING, stage=None, qa_retries=0, qa_reports=[], files={}, error=None,
                      created_at=now, updated_at=now, started_at=None, finished_at=None, timings={}, delivered=False)
        self.jobs[job.id] = job
        self.requests[job.id] = request
        self.history[job.id] = []
        asyncio.get_running_loop().create_task(self._run(job.id))
        return job

    async def _emit(self, job_id: str, status: JobStatus, stage: str | None, **changes: Any) -> None:
        job = self.jobs[job_id]
        self.jobs[job_id] = job = JobView(**{**job.__dict__, "status": status, "stage": stage, **changes})
        events = self.history[job_id]
        events.append(JobEvent(job_id, len(events) + 1, status, stage, 1, stage or str(status), datetime.now(UTC)))
        async with self._cond:
            self._cond.notify_all()

    async def _run(self, job_id: str) -> None:
        await self._emit(job_id, JobStatus.PENDING, None)
        for stage in STAGES:
            await asyncio.sleep(0.05)
            await self._emit(job_id, JobStatus.PROCESSING, stage)
        if "fail" in self.requests[job_id].prompt:
            await self._emit(job_id, JobStatus.FAILED, None, error="the renderer broke")
            return
        folder = self.out_dir / job_id
        folder.mkdir(parents=True)
        files = {}
        for name in ("mix.mp3", "spectrogram.png", "song.mid", "stems.zip"):
            (folder / name).write_bytes(name.encode() * 100)
            files[name] = str(folder / name)
        await self._emit(job_id, JobStatus.SUCCESS, None, files=files, timings={"composing": 0.1, "total": 0.3},
                         qa_reports=[{"checks": [{"name": "integrated_loudness", "measured": -14.0}]}])

    async def get(self, job_id: str) -> JobView | None:
        return self.jobs.get(job_id)

    async def list_jobs(self, *, platform: str | None = None, requester_id: str | None = None, limit: int = 10) -> list[JobView]:
        return [j for j in self.jobs.values() if (platform is None or j.platform == platform)][:limit]

    async def set_status_message(self, job_id: str, ref: str) -> None:
        self.jobs[job_id] = JobView(**{**self.jobs[job_id].__dict__, "status_message_ref": ref})

    async def set_thread(self, job_id: str, thread_ref: str) -> None:
        self.jobs[job_id] = JobView(**{**self.jobs[job_id].__dict__, "thread_ref": thread_ref})

    async def mark_delivered(self, job_id: str) -> None:
        self.jobs[job_id] = JobView(**{**self.jobs[job_id].__dict__, "delivered": True})

    async def undelivered(self, platform: str) -> list[JobView]:
        return [j for j in self.jobs.values() if j.platform == platform and not j.delivered]

    async def events(self, job_id: str, after_seq: int = 0) -> AsyncIterator[JobEvent]:
        seq = after_seq
        while True:
            history = self.history[job_id]
            while seq < len(history):
                event = history[seq]
                seq += 1
                yield event
                if event.status.is_terminal:
                    return
            async with self._cond:
                await self._cond.wait_for(lambda: len(self.history[job_id]) > seq)

    async def latest_in_thread(self, platform: str, thread_ref: str) -> JobView | None:
        found = [j for j in self.jobs.values() if j.platform == platform and j.thread_ref == thread_ref]
        return max(found, key=lambda j: j.version) if found else None

    async def follow_up(self, parent_job_id: str, reply_text: str, *, requester_id: str, client_ref: str | None = None) -> FollowUp:
        parent = self.jobs[parent_job_id]
        if parent.status == JobStatus.FAILED:
            return FollowUp(None, [], "That version failed, so there is nothing to change — try a new prompt.")
        job = await self.submit(JobRequest(prompt=reply_text, platform=parent.platform, requester_id=requester_id,
                                           conversation_ref=parent.conversation_ref, thread_ref=parent.thread_ref,
                                           parent_id=parent.id, spec=parent.spec, client_ref=client_ref))
        return FollowUp(job, [{"op": "set", "field": "tempo_bpm"}], None)

    async def variation(self, job_id: str, *, requester_id: str, new_seed: bool = True) -> JobView:
        parent = self.jobs[job_id]
        return await self.submit(JobRequest(prompt=parent.prompt, platform=parent.platform, requester_id=requester_id,
                                            conversation_ref=parent.conversation_ref, thread_ref=parent.thread_ref,
                                            parent_id=parent.id, spec=parent.spec))

    async def queue_position(self, job_id: str) -> int | None:
        return None

    def file_path(self, job: JobView, name: str) -> Path | None:
        return Path(job.files[name]) if name in job.files else None

    async def close(self) -> None:
        pass
