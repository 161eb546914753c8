"""Serving the track pages from a bot process (`ampa discord`, `ampa slack` in embedded mode): uvicorn
in the bot's own event loop, on AMPA_WEB_HOST:AMPA_WEB_PORT, beside the bot and the job runner.

The bot owns the process's signals (Ctrl-C, SIGTERM), so this server does not install its own
handlers; it stops when the bot stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator

import uvicorn

from worker.service import JobService
from worker.settings import Settings
from worker.web.pages import build_web_app

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # leave SIGINT/SIGTERM to the bot


class PageServer:
    """`async with PageServer(settings, service) as pages:` serves until the block ends."""

    def __init__(self, settings: Settings, service: JobService, *, host: str | None = None, port: int | None = None):
        self.settings = settings
        self.host = host or settings.web_host
        self.port = settings.web_port if port is None else port
        config = uvicorn.Config(
            build_web_app(settings, service),
            host=self.host,
            port=self.port,
            log_level="warning",
            proxy_headers=True,
            lifespan="off",  # the service is the bot's; nothing to open or close here
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def local_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen; OSError (with what to change) when the address cannot be bound."""
        self._task = asyncio.create_task(self._serve(), name="ampa-pages")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise OSError(f"the track pages stopped before they started on {self.host}:{self.port}")
            await asyncio.sleep(0.02)
        sockets = [s for server in self._server.servers for s in server.sockets]
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def _serve(self) -> None:
        try:
            await self._server.serve()
        except SystemExit:  # uvicorn exits when it cannot bind; in a task that would end the bot's loop
            raise OSError(
                f"could not serve the track pages on {self.host}:{self.port} (is the port taken?). "
                "Set AMPA_WEB_PORT to a free port, or AMPA_WEB_PORT=0 to serve no pages from this process."
            ) from None

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await self._task

    async def __aenter__(self) -> PageServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def serve_pages(settings: Settings, service: JobService, program: str) -> PageServer | None:
    """Start the pages unless AMPA_WEB_PORT=0, and tell the operator once what to set."""
    pages = PageServer(settings, service) if settings.web_port else None
    if pages is not None:
        await pages.start()
    announce(settings, pages, program)
    return pages


def announce(settings: Settings, pages: PageServer | None, program: str) -> None:
    """Tell the operator once, at start, where the pages are and what to set for people to reach them."""
    if pages is None:
        if not settings.public_base_url:
            print(
                f"{program}: track pages are off here (AMPA_WEB_PORT=0) and AMPA_PUBLIC_URL is not set, so results "
                "carry no page link. Set AMPA_PUBLIC_URL to the address of `ampa api`.",
                file=sys.stderr,
            )
        return
    if settings.public_base_url:
        print(f"{program}: track pages on {pages.local_url}, linked as {settings.public_base_url}", file=sys.stderr)
    else:
        print(
            f"{program}: track pages on {pages.local_url}, but AMPA_PUBLIC_URL is not set, so results carry no page "
            f"link. Set AMPA_PUBLIC_URL to the address people reach (e.g. a tunnel or reverse proxy to port "
            f"{pages.port}: AMPA_PUBLIC_URL=https://ampa.example.com).",
            file=sys.stderr,
        )
