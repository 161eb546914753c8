"""A Slack Web API emulator for tests: aiohttp on 127.0.0.1, a random port, every call recorded.

Point the app's `AsyncWebClient(base_url=emulator.api_url)` at it. It answers the Web API methods
the app calls with realistic JSON (checking the bot token like Slack does), accepts the upload step
of `files_upload_v2` at the URL it hands out in `files.getUploadURLExternal`, serves shared files
(`url_private`) from the same origin as the API, and records the Authorization header of every
download. Tests wait on what was recorded with `wait_for(predicate, timeout)`.

Also an `OtherServer`: a plain file server on a different port, to prove the token never goes there.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web
from tests.patience import patience

BOT_USER_ID = "UAMPABOT"
BOT_ID = "BAMPABOT"
TEAM_ID = "T0TEAM"


@dataclass
class Call:
    method: str  # Web API method ("chat.update"), or "upload" / "download" / "response_url"
    args: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    body: bytes = b""
    response: dict[str, Any] = field(default_factory=dict)  # what the emulator answered (Web API calls)


class SlackEmulator:
    def __init__(self, bot_token: str = "xoxb-test-token", app_token: str = "xapp-test-token") -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.calls: list[Call] = []
        self.files: dict[str, tuple[bytes, str]] = {}  # name -> (bytes, content type) served at /files/<name>
        self.uploads: dict[str, dict[str, Any]] = {}  # file_id -> {"filename", "length", "bytes"}
        self.redirects: dict[str, str] = {}  # name -> Location served instead of the file
        self.fail: dict[str, str] = {}  # method -> error to return once per call while present
        self.socket_events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.socket_acks: list[dict[str, Any]] = []
        self._ts = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle -----
    async def start(self) -> SlackEmulator:
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files/{name}", self._download)
        app.router.add_post("/response/{token}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def file_url(self, name: str) -> str:
        return f"{self.base}/files/{name}"

    def response_url(self, token: str = "resp") -> str:
        return f"{self.base}/response/{token}"

    def add_file(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> dict[str, Any]:
        """Serve `data` as a shared Slack file; returns the file object an event carries."""
        self.files[name] = (data, content_type)
        file_id = f"F{next(self._file_ids):08d}"
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": content_type,
            "size": len(data),
            "url_private": self.file_url(name),
            "url_private_download": self.file_url(name) + "?download=1",
        }

    # ----- what tests read -----
    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Wait until predicate() is truthy (re-checked on every recorded call); return its value."""
        deadline = time.monotonic() + patience(timeout)
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"condition not met within {patience(timeout):g} s; calls: {[c.method for c in self.calls]}"
                    )
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    pass

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    # ----- handlers -----
    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(parse_qsl(request.query_string))
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(dict(parse_qsl((await request.read()).decode())))
        for key in ("blocks", "files", "view"):
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        headers = dict(request.headers)
        auth = headers.get("Authorization", "")
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if auth != f"Bearer {expected}" and args.get("token") != expected:
            answer: dict[str, Any] = {"ok": False, "error": "invalid_auth"}
        elif method in self.fail:
            answer = {"ok": False, "error": self.fail[method]}
        elif handler is None:
            answer = {"ok": False, "error": "unknown_method"}
        else:
            answer = {"ok": True, **handler(args)}
        await self._record(Call(method, args, headers, response=answer))
        return web.json_response(answer)

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://emulated.slack.com/",
            "team": "Test",
            "user": "ampa",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": args.get("text", ""), "ts": ts}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        return {"channel": args["channel"], "ts": ts, "message": message}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": args["channel"], "ts": args["ts"], "text": args.get("text", "")}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"view": {"id": "V1", **(args.get("view") or {})}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._file_ids):08d}"
        self.uploads[file_id] = {"filename": args.get("filename"), "length": int(args.get("length", 0)), "bytes": None}
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files") or []
        return {
            "files": [
                {"id": f["id"], "title": f.get("title"), "name": self.uploads.get(f["id"], {}).get("filename")}
                for f in files
            ]
        }

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}/socket"}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        await self._record(Call("upload", {"file_id": file_id}, dict(request.headers), body=data))
        if file_id not in self.uploads:
            return web.Response(status=404, text="unknown upload")
        self.uploads[file_id]["bytes"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _download(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        await self._record(Call("download", {"name": name}, dict(request.headers)))
        if request.headers.get("Authorization") != f"Bearer {self.bot_token}":
            # Like Slack: no valid token, a login page instead of the file.
            return web.Response(status=200, text="<html>sign in</html>", content_type="text/html")
        if name in self.redirects:
            raise web.HTTPFound(self.redirects[name])
        if name not in self.files:
            return web.Response(status=404)
        data, content_type = self.files[name]
        return web.Response(body=data, content_type=content_type)

    async def _response_url(self, request: web.Request) -> web.Response:
        await self._record(Call("response_url", await request.json(), dict(request.headers)))
        return web.Response(text="ok")

    # ----- Socket Mode: one websocket connection, events pushed from a queue -----
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await self._record(Call("socket_connect", {}, dict(request.headers)))
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})

        async def pump() -> None:
            while True:
                await ws.send_json(await self.socket_events.get())

        pumping = asyncio.create_task(pump())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    self.socket_acks.append(data)
                    await self._record(Call("socket_ack", data, {}))
        finally:
            pumping.cancel()
        return ws


class OtherServer:
    """A file server that is NOT Slack (another port): records who asked and with what headers."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> OtherServer:
        app = web.Application()
        app.router.add_get("/{name}", self._serve)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    async def _serve(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.headers))
        return web.Response(body=b"RIFF....WAVEfmt ", content_type="audio/wav")

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
