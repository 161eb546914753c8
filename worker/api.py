"""The HTTP API (`ampa api`): submit and follow jobs, fetch their files, health and metrics.

Auth: every /jobs route needs `Authorization: Bearer <AMPA_API_TOKEN>`. Without a token the API
only starts with `--no-auth`, and then only on 127.0.0.1 (see ampa/commands/api.py). /healthz,
/metrics and the docs are open: they reveal counts, never jobs.
"""

# No `from __future__ import annotations` here: FastAPI reads the dependency annotations of the
# routes defined inside build_app at runtime, and they refer to names local to that function.
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from worker.metrics import build_registry, render
from worker.schemas import JobRejected, JobRequest, JobView
from worker.service import JobService
from worker.settings import Settings

# HTTP status per rejection reason: "try later" reasons are 429, the rest are the client's input.
_REJECTION_STATUS = {
    "concurrency": 429,
    "quota": 429,
    "queue_full": 503,
    "not_found": 404,
    "forbidden": 403,
    "credits": 429,
}


class SubmitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(description='What to make, e.g. "dark atmospheric synthwave at 140 BPM in A minor, 2 minutes"')
    duration_s: float | None = Field(default=None, gt=0, description="Length in seconds (overrides the prompt)")
    seed: int | None = Field(default=None, ge=0, lt=2**31)
    overrides: dict[str, Any] = Field(default_factory=dict, description="Guided choices: genre, mood, tempo_bpm, key")
    requester_id: str = Field(default="api", max_length=128, description="Who asked, for per-user limits")
    client_ref: str | None = Field(
        default=None, max_length=200, description="Idempotency key: the same key returns the same job"
    )
    parent_id: str | None = None
    backend: str | None = Field(
        default=None,
        description="Generator backend: symbolic, stable-audio, musicgen or stable-audio-open "
        "(default: the prompt's words, else AMPA_DEFAULT_BACKEND)",
    )


def build_app(settings: Settings, service: JobService | None = None, *, require_auth: bool = True) -> FastAPI:
    """The app; `service` is opened at start-up when not given (tests pass their own)."""
    registry, collector = build_registry()
    token = settings.api_token.get_secret_value() if settings.api_token else None
    if require_auth and not token:
        raise ValueError("AMPA_API_TOKEN is not set")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owned = service is None
        app.state.service = service or await JobService.open(settings)
        try:
            yield
        finally:
            if owned:
                await app.state.service.close()

    app = FastAPI(
        title="ampa",
        description="AI music production assistant: a sentence becomes a mastered track with stems and MIDI.",
        version="0.1.0",
        lifespan=lifespan,
    )
    if service is not None:
        app.state.service = service
    bearer = HTTPBearer(auto_error=False)

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        if not require_auth:
            return
        if credentials is None or not secrets.compare_digest(credentials.credentials.encode(), token.encode()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "Missing or wrong bearer token (Authorization: Bearer <AMPA_API_TOKEN>).",
                headers={"WWW-Authenticate": "Bearer"},
            )

    def svc(request: Request) -> JobService:
        return request.app.state.service

    Service = Annotated[JobService, Depends(svc)]
    auth = [Depends(authorised)]

    @app.exception_handler(JobRejected)
    async def _rejected(_request: Request, exc: JobRejected) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.user_message, "reason": exc.reason}, status_code=_REJECTION_STATUS.get(exc.reason, 422)
        )

    @app.post("/jobs", status_code=201, dependencies=auth, summary="Queue a track")
    async def submit(body: SubmitBody, service: Service, response: Response) -> dict[str, Any]:
        job = await service.submit(
            JobRequest(
                prompt=body.prompt,
                platform="api",
                requester_id=body.requester_id,
                duration_s=body.duration_s,
                seed=body.seed,
                overrides=body.overrides,
                client_ref=body.client_ref,
                parent_id=body.parent_id,
                backend=body.backend,
            )
        )
        response.headers["Location"] = f"/jobs/{job.id}"
        return _public(job, service)

    @app.get("/jobs", dependencies=auth, summary="Recent jobs")
    async def list_jobs(
        service: Service, limit: int = Query(20, ge=1, le=200), requester_id: str | None = None
    ) -> list[dict[str, Any]]:
        return [_public(job, service) for job in await service.list_jobs(requester_id=requester_id, limit=limit)]

    @app.get("/jobs/{job_id}", dependencies=auth, summary="A job: status, stage, history, QA reports, files")
    async def get_job(job_id: str, service: Service) -> dict[str, Any]:
        job = await _job_or_404(service, job_id)
        out = _public(job, service)
        out["history"] = [event.to_dict() for event in await service.history(job_id)]
        out["queue_position"] = await service.queue_position(job_id)
        return out

    @app.get("/jobs/{job_id}/events", dependencies=auth, summary="Progress as Server-Sent Events, until the job ends")
    async def job_events(
        job_id: str,
        service: Service,
        after_seq: int = Query(0, ge=0),
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        await _job_or_404(service, job_id)
        if last_event_id and last_event_id.isdigit():  # an EventSource reconnecting resumes where it was
            after_seq = max(after_seq, int(last_event_id))

        async def stream() -> AsyncIterator[str]:
            async for event in service.events(job_id, after_seq):
                yield f"id: {event.seq}\nevent: {event.status}\ndata: {json.dumps(event.to_dict())}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.post("/jobs/{job_id}/cancel", dependencies=auth, summary="Cancel a job")
    async def cancel(job_id: str, service: Service) -> dict[str, Any]:
        return _public(await service.cancel(job_id), service)

    @app.get("/jobs/{job_id}/files/{name:path}", dependencies=auth, summary="Download one artifact")
    async def get_file(job_id: str, name: str, service: Service) -> FileResponse:
        job = await _job_or_404(service, job_id)
        # Only names the job recorded are served, and only inside that job's artifact folder.
        path = service.file_path(job, name)
        if path is None:
            raise HTTPException(404, f"No file {name!r} for this job; see `files` in GET /jobs/{job_id}.")
        return FileResponse(path, filename=path.name)

    from worker.web.pages import mount_pages  # the track pages: signed links, no bearer token

    mount_pages(app, settings)

    @app.get("/healthz", summary="Database and Redis reachable?")
    async def healthz(service: Service) -> JSONResponse:
        checks = await service.health()
        healthy = all(value == "ok" for value in checks.values())
        return JSONResponse({"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503)

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics(service: Service) -> Response:
        await collector.refresh(service.sessions)
        return Response(render(registry), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app


async def _job_or_404(service: JobService, job_id: str) -> JobView:
    job = await service.get(job_id)
    if job is None:
        raise HTTPException(404, f"No job with id {job_id!r}.")
    return job


def _public(job: JobView, service: JobService) -> dict[str, Any]:
    """The job as JSON, with file URLs instead of server paths."""
    out = job.to_dict()
    out["files"] = {name: f"/jobs/{job.id}/files/{name}" for name in job.files}
    out["reference_path"] = None if job.reference_path is None else "(attached)"  # a server path is nobody's business
    out.update(service.links.for_job(job))  # page_url and a signed link per file: no token needed
    return out
