"""The track pages and their files, behind signed links (no token, no login).

    GET /t/{job_id}?e=EXPIRY&s=SIGNATURE           the track page (HTML)
    GET /t/{job_id}/{file name}?e=EXPIRY&s=SIG     one of its files; audio answers Range requests
                                                   (stems-wav.zip: the FLAC stems as WAVs, made on request)
    GET /web/static/ampa.css                       the page's style sheet

A link whose signature does not match gets a 403 page, a genuine one past its expiry a 410 page;
neither ever gets the file. The links a page shows (files, other versions) carry the page's own
expiry, so a page never hands out a link that outlives the one it was opened with.
"""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.
import asyncio
from dataclasses import replace
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from worker.schemas import JobView
from worker.service import JobService
from worker.settings import Settings
from worker.web import track
from worker.web.links import LinkCheck

_HERE = Path(__file__).parent
_INLINE = {".mp3", ".wav", ".flac", ".png", ".json"}  # shown by the browser; the rest are downloads
_MEDIA_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".flac": "audio/flac", ".mid": "audio/midi"}
_REFUSALS = {
    LinkCheck.TAMPERED: (
        403,
        "This link is not valid",
        "It was changed or cut short, so it opens nothing. Use the link exactly as ampa posted it, "
        "or ask for a fresh one.",
    ),
    LinkCheck.EXPIRED: (
        410,
        "This link has expired",
        "ampa's links last {days} days. Ask ampa for the track again (in Discord, /jobs lists your "
        "recent tracks) or ask the person who runs ampa for a fresh link.",
    ),
}


def mount_pages(app: FastAPI, settings: Settings) -> None:
    """Add the pages, files and style sheet to `app`, whose `state.service` is the JobService (its
    `links` sign and check every link)."""
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    router = APIRouter(include_in_schema=False)

    def refuse(request: Request, check: LinkCheck) -> HTMLResponse:
        status, title, text = _REFUSALS[check]
        return _message(templates, request, status, title, text.format(days=f"{settings.link_days:g}"))

    @router.get("/t/{job_id}", response_class=HTMLResponse)
    async def track_page(request: Request, job_id: str, e: str | None = None, s: str | None = None) -> Response:
        service: JobService = request.app.state.service
        check = service.links.check(job_id, "", e, s)
        if check is not LinkCheck.OK:
            return refuse(request, check)
        job = await service.get(job_id)
        if job is None:
            return _message(templates, request, 404, "No such track", "This track is not in ampa's records any more.")
        expires = int(e)  # checked above
        # Links inside a page are relative (they work whichever address the page was opened with)
        # and expire with the page's own link.
        local = replace(service.links, base_url="")
        paths = {name: path for name in job.files if (path := service.file_path(job, name)) is not None}
        context = {
            "job": job,
            "state": track.state_of(job),
            "audio": local.file_url(job.id, "mix.mp3", expires) if "mix.mp3" in paths else None,
            "audio_wav": local.file_url(job.id, "mix.wav", expires) if "mix.wav" in paths else None,
            "pictures": [
                (local.file_url(job.id, name, expires), alt) for name, alt in track.PICTURES if name in paths
            ],
            "downloads": track.downloads(job, paths, local, expires),
            "stems": track.stem_downloads(job, paths, local, expires),
            "understood": track.understood(job.spec),
            "figures": track.qa_figures(track.final_qa(job, paths.get("report.json"))),
            "versions": track.versions(job, await service.versions(job.id), local, expires),
            "retention_days": f"{settings.retention_days:g}",
        }
        return templates.TemplateResponse(request, "track.html", context)

    @router.get("/t/{job_id}/{name:path}")
    async def track_file(
        request: Request, job_id: str, name: str, e: str | None = None, s: str | None = None
    ) -> Response:
        service: JobService = request.app.state.service
        check = service.links.check(job_id, name, e, s)
        if check is not LinkCheck.OK:
            return refuse(request, check)
        job = await service.get(job_id)
        path = service.file_path(job, name) if job is not None else None
        if path is None and name == track.WAV_STEMS and job is not None:
            path = await _wav_stems(service, job)
        if path is None:
            if job is not None and track.state_of(job) == "expired":
                return _message(
                    templates, request, 410, "This track has expired",
                    f"ampa keeps files for {settings.retention_days:g} days; this one's were removed. "
                    "Its page still says what it was, and Variation or Regenerate makes it again.",
                )  # fmt: skip
            return _message(templates, request, 404, "No such file", f"This track has no file called {name}.")
        suffix = path.suffix.lower()
        return FileResponse(
            path,
            media_type=_MEDIA_TYPES.get(suffix),
            filename=_download_name(job, name),
            content_disposition_type="inline" if suffix in _INLINE else "attachment",
            headers={"Cache-Control": "private, max-age=3600", "X-Robots-Tag": "noindex"},
        )

    app.include_router(router)
    app.mount("/web/static", StaticFiles(directory=str(_HERE / "static")), name="ampa-static")


_converting: dict[str, asyncio.Lock] = {}


async def _wav_stems(service: JobService, job: JobView) -> Path | None:
    """stems-wav.zip: made from stems.zip on the first request and kept beside it (retention removes
    it with the rest). One conversion per job at a time; the file appears atomically."""
    flac = service.file_path(job, "stems.zip")
    if flac is None:
        return None
    path = flac.with_name(track.WAV_STEMS)
    async with _converting.setdefault(job.id, asyncio.Lock()):
        if not path.is_file():
            from pipeline.outputs import wav_copy_of_stems

            await asyncio.to_thread(wav_copy_of_stems, flac, path)
    return path


def _message(templates: Jinja2Templates, request: Request, status: int, title: str, text: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "message.html", {"title": title, "text": text}, status_code=status, headers={"X-Robots-Tag": "noindex"}
    )


def _download_name(job: JobView, name: str) -> str:
    """ampa-1a2b3c4d-v2-mix.mp3, ampa-1a2b3c4d-v2-stems-drums.flac: says which track and version."""
    return f"ampa-{job.id[:8]}-v{job.version}-{name.replace('/', '-')}"


def build_web_app(settings: Settings, service: JobService) -> FastAPI:
    """The pages alone (no API), for a bot process that serves them itself (embedded mode)."""
    app = FastAPI(title="ampa track pages", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service
    mount_pages(app, settings)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
