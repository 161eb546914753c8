"""Fixtures: the Slack Web API emulator, the real Bolt app served over HTTP, signed requests."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.slack.app import SlackBot, build_bot, build_client
from bot.slack.settings import SlackSettings
from tests import stand_in_pipeline
from tests.bot.slack.emulator import BOT_USER_ID, TEAM_ID, OtherServer, SlackEmulator
from worker.service import JobService
from worker.settings import Settings

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-1234-5678-secretbottoken"
APP_TOKEN = "xapp-1-A111-secretapptoken"


@pytest.fixture
async def emulator() -> AsyncIterator[SlackEmulator]:
    emu = await SlackEmulator(bot_token=BOT_TOKEN, app_token=APP_TOKEN).start()
    yield emu
    await emu.close()


@pytest.fixture
async def other_server() -> AsyncIterator[OtherServer]:
    server = await OtherServer().start()
    yield server
    await server.close()


@pytest.fixture
def slack_settings(emulator: SlackEmulator) -> SlackSettings:
    return SlackSettings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=emulator.api_url,
        AMPA_SLACK_MAX_REFERENCE_BYTES=2_000_000,
        AMPA_SLACK_MAX_REFERENCE_SECONDS=30.0,
        AMPA_SLACK_STATUS_INTERVAL=0.05,
    )


@dataclass
class SlackHarness:
    """The real app on a real port, and a way to send it requests the way Slack does."""

    bot: SlackBot
    service: Any
    emulator: SlackEmulator
    url: str
    session: aiohttp.ClientSession

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        secret: str | None = SIGNING_SECRET,
        timestamp: int | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        headers = {"Content-Type": content_type, **(extra_headers or {})}
        if secret is not None:
            ts = str(timestamp if timestamp is not None else int(time.time()))
            headers["X-Slack-Request-Timestamp"] = ts
            headers["X-Slack-Signature"] = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
            await response.read()
            return response

    async def send_event(
        self, event: dict[str, Any], *, event_id: str | None = None, **kwargs: Any
    ) -> aiohttp.ClientResponse:
        return await self.post(json.dumps(event_callback(event, event_id)), "application/json", **kwargs)

    async def send_command(
        self, text: str, *, user: str = "UALICE", channel: str = "CGENERAL", **kwargs: Any
    ) -> aiohttp.ClientResponse:
        form = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": channel,
            "user_id": user,
            "command": "/generate",
            "text": text,
            "response_url": self.emulator.response_url("cmd"),
            "trigger_id": f"trig-{uuid.uuid4().hex}",
            "api_app_id": "A111",
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded", **kwargs)

    async def click(
        self, action_id: str, job_id: str, *, user: str = "UALICE", channel: str = "CGENERAL", message_ts: str = "1.0"
    ) -> aiohttp.ClientResponse:
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": {"id": user},
            "api_app_id": "A111",
            "trigger_id": f"trig-{uuid.uuid4().hex}",
            "channel": {"id": channel},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "message": {"ts": message_ts, "type": "message"},
            "response_url": self.emulator.response_url("act"),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": f"ampa_actions:{job_id}",
                    "value": job_id,
                    "type": "button",
                    "action_ts": str(time.time()),
                }
            ],
        }
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": "A111",
        "type": "event_callback",
        "event": event,
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


_ts = iter(range(1, 10**6))


def new_ts() -> str:
    return f"{1_800_000_000 + next(_ts)}.000200"


def mention(
    text: str,
    *,
    user: str = "UALICE",
    channel: str = "CGENERAL",
    files: list[dict[str, Any]] | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}".strip(),
        "ts": new_ts(),
        "channel": channel,
        "event_ts": "1",
    }
    if files:
        event["files"] = files
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(
    text: str,
    *,
    user: str = "UALICE",
    channel: str = "CGENERAL",
    thread_ts: str | None = None,
    ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts or new_ts(),
        "channel": channel,
        "channel_type": "channel",
        "event_ts": "1",
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def job_settings(data_dir: Path) -> Settings:
    """The embedded default (SQLite + in-process runner) in a temp folder, with small limits."""
    return Settings(
        AMPA_DATA_DIR=data_dir, AMPA_USER_CONCURRENT_JOBS=2, AMPA_USER_HOURLY_QUOTA=50, AMPA_MAX_REFERENCE_SECONDS=60.0
    )


@pytest.fixture
def pipeline_options() -> dict[str, Any]:
    return {"stage_s": 0.02}


@pytest.fixture
def real_pipeline() -> bool:
    """Overridden to True by the end-to-end tests: they run the real pipeline.produce."""
    return False


@pytest.fixture
async def service(tmp_path: Path, pipeline_options: dict[str, Any], real_pipeline: bool) -> AsyncIterator[JobService]:
    """The real JobService (SQLite + in-process runner) with the fast pipeline, or the real one."""
    if real_pipeline:
        svc = await JobService.open(job_settings(tmp_path / "ampa"))
    else:
        svc = await JobService.open(
            job_settings(tmp_path / "ampa"), pipeline=stand_in_pipeline, pipeline_options=pipeline_options
        )
    yield svc
    await svc.close()


@pytest.fixture
async def slack(emulator: SlackEmulator, slack_settings: SlackSettings, service: Any) -> AsyncIterator[SlackHarness]:
    client = build_client(slack_settings)
    bot = build_bot(slack_settings, service, client)
    runner = web.AppRunner(bot.web_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as session:
        yield SlackHarness(
            bot=bot, service=service, emulator=emulator, url=f"http://127.0.0.1:{port}/slack/events", session=session
        )
    await runner.cleanup()
    await bot.close()
