"""A live ampa for browser tests: the embedded job system (SQLite, in-process runner) and the track
pages served by uvicorn on 127.0.0.1, in a background thread with its own event loop, so that a
synchronous browser driver can use it while the jobs and the server keep running."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from worker.service import JobService
from worker.settings import Settings
from worker.web.server import PageServer

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveSite:
    def __init__(self, data_dir: Path, *, pipeline: ModuleType | None = None, **env: Any) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        values = {
            "AMPA_DATA_DIR": data_dir,
            "AMPA_WEB_PORT": self.port,
            "AMPA_PUBLIC_URL": self.base_url,
            "AMPA_RECONCILE_SECONDS": 0.5,
            **env,
        }
        self.settings = Settings(_env_file=None, **values)
        self._pipeline = pipeline
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-site", daemon=True)
        self.service: JobService | None = None
        self._pages: PageServer | None = None

    def __enter__(self) -> LiveSite:
        self._thread.start()
        self.run(self._open())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.run(self._close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._loop.close()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 300) -> T:
        """Run a coroutine on the site's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _open(self) -> None:
        self.service = await JobService.open(self.settings, pipeline=self._pipeline)
        self._pages = PageServer(self.settings, self.service)
        await self._pages.start()

    async def _close(self) -> None:
        if self._pages is not None:
            await self._pages.stop()
        if self.service is not None:
            await self.service.close()

    async def finished(self, job_id: str, timeout: float = 240) -> Any:
        """The job once it is SUCCESS/FAILED/CANCELLED, waiting on its events (not a sleep)."""
        assert self.service is not None
        async with asyncio.timeout(timeout):
            async for _ in self.service.events(job_id):
                pass
        return await self.service.get(job_id)


async def pages_are_served(port: int) -> bool:
    """True once 127.0.0.1:port serves the track pages (a forged link gets the 403 page); False while
    nothing listens there yet."""
    import httpx

    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            health = await http.get("/healthz")
            forged = await http.get("/t/0123?e=1&s=forged")
    except httpx.TransportError:
        return False
    assert health.json() == {"status": "ok"}
    assert forged.status_code == 403 and "This link is not valid" in forged.text
    return True
