"""A small Discord emulator for tests: the REST API, the gateway websocket and a CDN, on 127.0.0.1.

The real discord.py client talks to it exactly as it talks to Discord (its `Route.BASE` and
`DiscordWebSocket.DEFAULT_GATEWAY` point here). It answers with JSON shaped like Discord's, so
discord.py builds its real models, and it records every REST call so a test can assert what a user
would see: the deferred answer and when it came, each edit of a status message in order, threads,
uploaded files (names, sizes, bytes).

Test side:
    async with DiscordEmulator() as emu:
        bot.run_against(emu.api_url, emu.gateway_url)
        interaction = await emu.slash_command("generate", {"prompt": "dark synthwave"})
        await emu.wait_for(lambda: emu.calls_matching("PATCH", "/messages/"), timeout=10)

Only what ampa's bot uses is implemented; unknown routes answer 404 with a Discord-style error body
and are recorded, so a missing route shows up in the test output instead of hanging.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from aiohttp import WSMsgType, web
from tests.patience import patience

API_PREFIX = "/api/v10"
_EPOCH_MS = 1420070400000
CALL: web.RequestKey[Call] = web.RequestKey("call", object)  # type: ignore[arg-type]


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py checks the content type is exactly "application/json" (no charset).
    return web.Response(status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message}, status=status)


@dataclass
class UploadedFile:
    filename: str
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Call:
    """One REST call the bot made."""

    method: str
    path: str  # without the /api/v10 prefix
    at: float  # time.monotonic()
    json: dict[str, Any] | list[Any] | None
    files: list[UploadedFile] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    created: dict[str, Any] | None = None  # the message this call created, if any


@dataclass
class Interaction:
    """An interaction the test dispatched, and what the bot answered to it."""

    id: str
    token: str
    payload: dict[str, Any]
    sent_at: float
    callbacks: list[Call] = field(default_factory=list)

    @property
    def first_response_delay(self) -> float | None:
        return self.callbacks[0].at - self.sent_at if self.callbacks else None


class DiscordEmulator:
    """Discord's REST API, gateway and CDN for one test guild."""

    def __init__(self, *, edit_rate_limit: tuple[int, float] | None = (5, 5.0)) -> None:
        self._ids = itertools.count(int(time.time() * 1000 - _EPOCH_MS) << 22)
        self.app_id = self.new_id()
        self.bot_user = {
            "id": self.app_id,
            "username": "ampa",
            "global_name": "ampa",
            "discriminator": "0",
            "avatar": None,
            "bot": True,
            "flags": 0,
        }
        self.user = self.make_user("alice")
        self.guild_id = self.new_id()
        self.channel_id = self.new_id()
        self.channels: dict[str, dict[str, Any]] = {
            self.channel_id: {
                "id": self.channel_id,
                "type": 0,
                "guild_id": self.guild_id,
                "name": "music",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "rate_limit_per_user": 0,
                "topic": None,
                "last_message_id": None,
            }
        }
        self.threads: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}  # message id -> message object
        self.deleted_messages: set[str] = set()
        self.calls: list[Call] = []
        self.interactions: dict[str, Interaction] = {}
        self.commands: list[dict[str, Any]] = []  # the schema the bot registered
        self.cdn: dict[str, tuple[str, bytes, str]] = {}  # attachment id -> (filename, bytes, content type)
        self.cdn_requests: list[Call] = []
        self.identifies = 0
        self.resumes = 0
        self.rate_limited: list[Call] = []
        # Discord limits message edits per channel; (count, window) or None to switch it off.
        self._edit_rate_limit = edit_rate_limit
        self._edit_times: dict[str, list[float]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = 0
        self._session_id = "session-" + self.new_id()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._record])
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/cdn/{attachment_id}/{filename}", self._cdn)
        r = app.router
        p = API_PREFIX
        r.add_get(p + "/users/@me", self._me)
        r.add_get(p + "/oauth2/applications/@me", self._application)
        r.add_get(p + "/gateway/bot", self._gateway_bot)
        r.add_get(p + "/gateway", self._gateway_bot)
        r.add_put(p + "/applications/{app_id}/commands", self._bulk_commands)
        r.add_put(p + "/applications/{app_id}/guilds/{guild_id}/commands", self._bulk_commands)
        r.add_get(p + "/applications/{app_id}/commands", self._list_commands)
        r.add_post(p + "/interactions/{interaction_id}/{token}/callback", self._interaction_callback)
        r.add_get(p + "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_get)
        r.add_patch(p + "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_edit)
        r.add_delete(p + "/webhooks/{app_id}/{token}/messages/{message_id}", self._webhook_delete)
        r.add_post(p + "/webhooks/{app_id}/{token}", self._webhook_followup)
        r.add_get(p + "/channels/{channel_id}", self._get_channel)
        r.add_get(p + "/channels/{channel_id}/messages", self._history)
        r.add_post(p + "/channels/{channel_id}/messages", self._create_message)
        r.add_get(p + "/channels/{channel_id}/messages/{message_id}", self._get_message)
        r.add_patch(p + "/channels/{channel_id}/messages/{message_id}", self._edit_message)
        r.add_delete(p + "/channels/{channel_id}/messages/{message_id}", self._delete_message)
        r.add_post(p + "/channels/{channel_id}/messages/{message_id}/threads", self._start_thread)
        r.add_post(p + "/channels/{channel_id}/typing", self._no_content)
        r.add_route("*", p + "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ------------------------------------------------------------------ objects
    def new_id(self) -> str:
        return str(next(self._ids))

    def make_user(self, name: str) -> dict[str, Any]:
        return {"id": self.new_id(), "username": name, "global_name": name, "discriminator": "0", "avatar": None}

    def member(self, user: dict[str, Any]) -> dict[str, Any]:
        return {
            "user": user,
            "roles": [],
            "joined_at": _now_iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str((1 << 50) - 1),
        }

    def channel(self, channel_id: str) -> dict[str, Any] | None:
        return self.channels.get(channel_id) or self.threads.get(channel_id)

    def guild_payload(self) -> dict[str, Any]:
        return {
            "id": self.guild_id,
            "name": "ampa test guild",
            "icon": None,
            "owner_id": self.user["id"],
            "unavailable": False,
            "member_count": 2,
            "large": False,
            "features": [],
            "roles": [
                {
                    "id": self.guild_id,
                    "name": "@everyone",
                    "permissions": str((1 << 50) - 1),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "emojis": [],
            "stickers": [],
            "channels": list(self.channels.values()),
            "threads": list(self.threads.values()),
            "members": [self.member(self.bot_user)],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "joined_at": _now_iso(),
            "premium_tier": 0,
            "system_channel_flags": 0,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "preferred_locale": "en-US",
        }

    def _message(
        self, channel_id: str, body: dict[str, Any], files: list[UploadedFile], *, author: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        message_id = self.new_id()
        attachments = []
        for index, upload in enumerate(files):
            attachment_id = self.new_id()
            self.cdn[attachment_id] = (upload.filename, upload.data, upload.content_type or "application/octet-stream")
            attachments.append(
                {
                    "id": attachment_id,
                    "filename": upload.filename,
                    "size": upload.size,
                    "url": f"{self.base_url}/cdn/{attachment_id}/{upload.filename}",
                    "proxy_url": f"{self.base_url}/cdn/{attachment_id}/{upload.filename}",
                    "content_type": upload.content_type,
                }
            )
        message = {
            "id": message_id,
            "channel_id": channel_id,
            "guild_id": self.guild_id,
            "author": author or self.bot_user,
            "content": body.get("content") or "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": attachments,
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags") or 0,
        }
        if body.get("message_reference"):
            ref = body["message_reference"]
            message["message_reference"] = {**ref, "channel_id": ref.get("channel_id", channel_id)}
            message["type"] = 19
        self.messages[message_id] = message
        channel = self.channel(channel_id)
        if channel is not None:
            channel["last_message_id"] = message_id
        return message

    # ------------------------------------------------------------------ recording
    @web.middleware
    async def _record(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        body: Any = None
        files: list[UploadedFile] = []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                elif part.filename is not None:
                    files.append(
                        UploadedFile(part.filename, part.headers.get("Content-Type"), bytes(await part.read()))
                    )
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        call = Call(
            request.method,
            request.path[len(API_PREFIX) :],
            time.monotonic(),
            body,
            files,
            headers=dict(request.headers),
        )
        request[CALL] = call
        self.calls.append(call)
        response = await handler(request)
        call.status = response.status
        self._changed.set()
        return response

    def calls_matching(self, method: str, pattern: str) -> list[Call]:
        """Calls whose method matches and whose path matches the regular expression."""
        rx = re.compile(pattern)
        return [c for c in self.calls if c.method == method and rx.search(c.path)]

    def message_edits(self, message_id: str) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "PATCH" and c.path.endswith(f"/messages/{message_id}") and c.status == 200
        ]

    def messages_in(self, channel_id: str) -> list[dict[str, Any]]:
        return [
            m for m in self.messages.values() if m["channel_id"] == channel_id and m["id"] not in self.deleted_messages
        ]

    async def wait_for(self, condition: Callable[[], Any], *, timeout: float = 10.0, what: str = "condition") -> Any:
        """Wait until condition() is truthy (re-checked on every REST call and every 50 ms); return its value."""
        deadline = time.monotonic() + patience(timeout)
        while True:
            value = condition()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {patience(timeout):.0f} s waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(0.05, remaining))
            except TimeoutError:
                pass

    # ------------------------------------------------------------------ REST handlers
    async def _me(self, request: web.Request) -> web.Response:
        return _json(self.bot_user)

    async def _list_commands(self, request: web.Request) -> web.Response:
        return _json(self.commands)

    async def _no_content(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _unknown(self, request: web.Request) -> web.Response:
        return _error(404, 0, f"emulator: no route for {request.method} {request.path}")

    async def _application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": self.app_id,
                "name": "ampa",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": self.user,
                "team": None,
                "summary": "",
                "bot": self.bot_user,
            }
        )

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _bulk_commands(self, request: web.Request) -> web.Response:
        commands = request[CALL].json or []
        self.commands = [
            {
                **c,
                "id": self.new_id(),
                "application_id": self.app_id,
                "version": self.new_id(),
                "default_member_permissions": None,
            }
            for c in commands
        ]
        return _json(self.commands)

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        call: Call = request[CALL]
        interaction = self.interactions.get(request.match_info["interaction_id"])
        if interaction is None or interaction.token != request.match_info["token"]:
            return _error(404, 10062, "Unknown interaction")
        if interaction.callbacks:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        interaction.callbacks.append(call)
        body = call.json or {}
        kind = body.get("type")
        data = body.get("data") or {}
        payload = interaction.payload
        flags = data.get("flags", 0) or 0
        answer: dict[str, Any] = {
            "interaction": {
                "id": interaction.id,
                "type": payload["type"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            },
            "resource": {"type": kind},
        }
        if kind in (4, 5):  # a message (4) or "thinking…" (5) becomes the original response
            message = self._message(payload["channel_id"], data if kind == 4 else {"flags": flags | 128}, call.files)
            message["interaction_token"] = interaction.token
            message["webhook_id"] = self.app_id
            answer["interaction"]["response_message_id"] = message["id"]
            answer["resource"]["message"] = message
        elif kind == 7:  # update the message the component is on
            source = self.messages.get(payload.get("message", {}).get("id", ""))
            if source is not None:
                source.update({k: v for k, v in data.items() if k in ("content", "embeds", "components")})
                answer["resource"]["message"] = source
        if request.query.get("with_response") in ("1", "true", "True"):
            return _json(answer)
        return web.Response(status=204)

    def _original(self, token: str) -> dict[str, Any] | None:
        for message in self.messages.values():
            if message.get("interaction_token") == token:
                return message
        return None

    async def _webhook_get(self, request: web.Request) -> web.Response:
        message = self._webhook_message(request)
        return _json(message) if message else _error(404, 10008, "Unknown Message")

    def _webhook_message(self, request: web.Request) -> dict[str, Any] | None:
        message_id = request.match_info["message_id"]
        if message_id == "@original":
            return self._original(request.match_info["token"])
        return self.messages.get(message_id)

    async def _webhook_edit(self, request: web.Request) -> web.Response:
        message = self._webhook_message(request)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        call: Call = request[CALL]
        self._apply_edit(message, call)
        return _json(message)

    async def _webhook_delete(self, request: web.Request) -> web.Response:
        message = self._webhook_message(request)
        if message is not None:
            self.deleted_messages.add(message["id"])
        return web.Response(status=204)

    async def _webhook_followup(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        interaction = next((i for i in self.interactions.values() if i.token == token), None)
        if interaction is None:
            return _error(404, 10015, "Unknown Webhook")
        call: Call = request[CALL]
        message = self._message(interaction.payload["channel_id"], call.json or {}, call.files)
        message["webhook_id"] = self.app_id
        call.created = message
        return _json(message)

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channel(request.match_info["channel_id"])
        return _json(channel) if channel else _error(404, 10003, "Unknown Channel")

    async def _history(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel_id"]
        limit = int(request.query.get("limit", "50"))
        newest_first = sorted(self.messages_in(channel_id), key=lambda m: int(m["id"]), reverse=True)
        return _json(newest_first[:limit])

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel_id"]
        if self.channel(channel_id) is None:
            return _error(404, 10003, "Unknown Channel")
        call: Call = request[CALL]
        call.created = self._message(channel_id, call.json or {}, call.files)
        return _json(call.created)

    async def _get_message(self, request: web.Request) -> web.Response:
        message = self.messages.get(request.match_info["message_id"])
        if message is None or message["id"] in self.deleted_messages:
            return _error(404, 10008, "Unknown Message")
        return _json(message)

    async def _edit_message(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel_id"]
        message = self.messages.get(request.match_info["message_id"])
        if message is None or message["id"] in self.deleted_messages:
            return _error(404, 10008, "Unknown Message")
        call: Call = request[CALL]
        if self._edit_rate_limit is not None:
            count, window = self._edit_rate_limit
            now = time.monotonic()
            recent = [t for t in self._edit_times.get(channel_id, []) if now - t < window]
            if len(recent) >= count:
                self.rate_limited.append(call)
                retry_after = window - (now - recent[0])
                return web.Response(
                    status=429,
                    body=json.dumps(
                        {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
                    ).encode(),
                    # discord.py takes a 429 without "Via" for a Cloudflare ban and gives up; Discord's API sends it.
                    headers={
                        "Content-Type": "application/json",
                        "Retry-After": f"{retry_after:.3f}",
                        "X-RateLimit-Scope": "user",
                        "Via": "1.1 google",
                    },
                )
            self._edit_times[channel_id] = [*recent, now]
        self._apply_edit(message, call)
        return _json(message)

    def _apply_edit(self, message: dict[str, Any], call: Call) -> None:
        body = call.json or {}
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                message[key] = body[key]
        message["edited_timestamp"] = _now_iso()

    async def _delete_message(self, request: web.Request) -> web.Response:
        self.deleted_messages.add(request.match_info["message_id"])
        return web.Response(status=204)

    async def _start_thread(self, request: web.Request) -> web.Response:
        channel_id, message_id = request.match_info["channel_id"], request.match_info["message_id"]
        message = self.messages.get(message_id)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        if message.get("thread"):
            return _error(400, 160004, "A thread has already been created for this message")
        body = request[CALL].json or {}
        thread = {
            "id": message_id,  # Discord gives a thread started from a message the message's id
            "type": 11,
            "guild_id": self.guild_id,
            "parent_id": channel_id,
            "owner_id": self.app_id,
            "name": body.get("name", "thread"),
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": _now_iso(),
                "locked": False,
            },
        }
        self.threads[thread["id"]] = thread
        message["thread"] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return _json(thread, status=201)

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        self.cdn_requests.append(
            Call(request.method, request.path, time.monotonic(), None, headers=dict(request.headers))
        )
        entry = self.cdn.get(request.match_info["attachment_id"])
        if entry is None:
            return web.Response(status=404)
        _, data, content_type = entry
        return web.Response(body=data, content_type=content_type)

    # ------------------------------------------------------------------ gateway
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        try:
            await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                op = payload.get("op")
                if op == 1:
                    await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
                elif op == 2:
                    self.identifies += 1
                    await self._send(ws, "READY", self._ready_payload())
                    await self._send(ws, "GUILD_CREATE", self.guild_payload())
                elif op == 6:
                    self.resumes += 1
                    await self._send(ws, "RESUMED", {})
        finally:
            self._sockets.remove(ws)
        return ws

    def _ready_payload(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": self.bot_user,
            "session_id": self._session_id,
            "resume_gateway_url": self.gateway_url,
            "guilds": [{"id": self.guild_id, "unavailable": True}],
            "application": {"id": self.app_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
        }

    async def _send(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        await ws.send_json({"op": 0, "t": event, "s": self._seq, "d": data})

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to every connected client."""
        for ws in list(self._sockets):
            if not ws.closed:
                await self._send(ws, event, data)

    async def drop_connections(self, code: int = 4000) -> None:
        """Close every gateway connection the way Discord does before asking a client to resume
        (4000 "unknown error": discord.py reconnects to resume_gateway_url and sends RESUME)."""
        for ws in list(self._sockets):
            await ws.close(code=code, message=b"emulator: reconnect")

    async def wait_for_client(self, timeout: float = 10.0) -> None:
        """Wait until a client is connected and identified (or resumed)."""
        await self.wait_for(
            lambda: any(not ws.closed for ws in self._sockets) and self.identifies,
            timeout=timeout,
            what="a gateway client",
        )

    # ------------------------------------------------------------------ test API: what users do
    def add_attachment(self, filename: str, data: bytes, content_type: str = "audio/wav") -> dict[str, Any]:
        """Put a file on the emulated CDN; return the attachment object an interaction carries."""
        attachment_id = self.new_id()
        self.cdn[attachment_id] = (filename, data, content_type)
        return {
            "id": attachment_id,
            "filename": filename,
            "size": len(data),
            "url": f"{self.base_url}/cdn/{attachment_id}/{filename}",
            "proxy_url": f"{self.base_url}/cdn/{attachment_id}/{filename}",
            "content_type": content_type,
        }

    def _interaction_base(
        self, kind: int, data: dict[str, Any], *, user: dict[str, Any] | None, channel_id: str | None
    ) -> dict[str, Any]:
        interaction_id = self.new_id()
        channel_id = channel_id or self.channel_id
        return {
            "id": interaction_id,
            "application_id": self.app_id,
            "type": kind,
            "token": "itoken-" + interaction_id,
            "version": 1,
            "guild_id": self.guild_id,
            "channel_id": channel_id,
            "channel": self.channel(channel_id),
            "member": self.member(user or self.user),
            "data": data,
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": str((1 << 50) - 1),
            "attachment_size_limit": 10 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {"0": self.guild_id},
            "context": 0,
        }

    async def _send_interaction(self, payload: dict[str, Any]) -> Interaction:
        interaction = Interaction(payload["id"], payload["token"], payload, time.monotonic())
        self.interactions[interaction.id] = interaction
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    def _command(self, name: str) -> dict[str, Any]:
        for command in self.commands:
            if command["name"] == name:
                return command
        raise AssertionError(f"the bot did not register /{name}; registered: {[c['name'] for c in self.commands]}")

    def _options(
        self, name: str, values: dict[str, Any], focused: str | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        schema = {o["name"]: o for o in self._command(name).get("options", [])}
        options, resolved = [], {}
        for key, value in values.items():
            if key not in schema:
                raise AssertionError(f"/{name} has no option {key!r}")
            option = {"name": key, "type": schema[key]["type"], "value": value}
            if schema[key]["type"] == 11:  # attachment: the value is the id, the object is in resolved
                option["value"] = value["id"]
                resolved.setdefault("attachments", {})[value["id"]] = value
            if key == focused:
                option["focused"] = True
            options.append(option)
        return options, resolved

    async def slash_command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: dict[str, Any] | None = None,
        channel_id: str | None = None,
    ) -> Interaction:
        opts, resolved = self._options(name, options or {})
        command = self._command(name)
        data = {"id": command["id"], "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        return await self._send_interaction(self._interaction_base(2, data, user=user, channel_id=channel_id))

    async def autocomplete(
        self, name: str, options: dict[str, Any], focused: str, *, user: dict[str, Any] | None = None
    ) -> Interaction:
        opts, _ = self._options(name, options, focused=focused)
        command = self._command(name)
        data = {"id": command["id"], "name": name, "type": 1, "options": opts}
        return await self._send_interaction(self._interaction_base(4, data, user=user, channel_id=None))

    async def click(self, message_id: str, custom_id: str, *, user: dict[str, Any] | None = None) -> Interaction:
        message = self.messages[message_id]
        payload = self._interaction_base(
            3, {"custom_id": custom_id, "component_type": 2}, user=user, channel_id=message["channel_id"]
        )
        payload["message"] = message
        return await self._send_interaction(payload)

    async def submit_modal(
        self,
        modal: dict[str, Any],
        values: dict[str, str],
        *,
        channel_id: str | None = None,
        message: dict[str, Any] | None = None,
        user: dict[str, Any] | None = None,
    ) -> Interaction:
        """Answer a modal the bot opened (the `data` of its type-9 callback) with text for each input's custom_id."""

        def fill(component: dict[str, Any]) -> dict[str, Any]:
            if component["type"] == 4:
                return {"type": 4, "custom_id": component["custom_id"], "value": values.get(component["custom_id"], "")}
            if component["type"] == 18:  # label around one component
                return {"type": 18, "component": fill(component["component"])}
            return {"type": component["type"], "components": [fill(c) for c in component.get("components", [])]}

        data = {"custom_id": modal["custom_id"], "components": [fill(c) for c in modal["components"]]}
        payload = self._interaction_base(5, data, user=user, channel_id=channel_id)
        if message is not None:
            payload["message"] = message
        return await self._send_interaction(payload)

    async def post_message(
        self,
        channel_id: str,
        content: str,
        *,
        user: dict[str, Any] | None = None,
        reply_to: str | None = None,
        mention_bot: bool = False,
    ) -> dict[str, Any]:
        """A user writes a message (in a channel or thread); the bot receives MESSAGE_CREATE."""
        author = user or self.user
        body: dict[str, Any] = {"content": content}
        if reply_to is not None:
            body["message_reference"] = {
                "message_id": reply_to,
                "channel_id": self.messages[reply_to]["channel_id"],
                "guild_id": self.guild_id,
            }
        message = self._message(channel_id, body, [], author=author)
        if mention_bot:
            message["mentions"] = [self.bot_user]
            message["content"] = f"<@{self.app_id}> {content}"
        event = {**message, "member": {k: v for k, v in self.member(author).items() if k != "user"}}
        if reply_to is not None:
            event["referenced_message"] = self.messages[reply_to]
        await self.dispatch("MESSAGE_CREATE", event)
        return message

    def callback(self, interaction: Interaction) -> Call | None:
        return interaction.callbacks[0] if interaction.callbacks else None

    def original_response(self, interaction: Interaction) -> dict[str, Any] | None:
        return self._original(interaction.token)

    def followups(self, interaction: Interaction) -> list[Call]:
        return [
            c for c in self.calls if c.method == "POST" and c.path == f"/webhooks/{self.app_id}/{interaction.token}"
        ]

    def said_to(self, interaction: Interaction) -> list[str]:
        """Everything the bot told the user in answer to an interaction (callback, edits of the original, followups), as text."""
        texts: list[str] = []
        for call in self.calls:
            if call.json is None or not isinstance(call.json, dict):
                continue
            if (
                call.path.startswith(f"/interactions/{interaction.id}/")
                or f"/webhooks/{self.app_id}/{interaction.token}" in call.path
            ):
                body = call.json.get("data", call.json) if call.path.endswith("/callback") else call.json
                if isinstance(body, dict):
                    texts.append(message_text(body))
        return texts


def message_text(body: dict[str, Any]) -> str:
    """Content plus embed titles, descriptions, fields and footers: what a user reads, as one string."""
    parts = [body.get("content") or ""]
    for embed in body.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for f in embed.get("fields") or []:
            parts += [f.get("name", ""), f.get("value", "")]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(p for p in parts if p)
