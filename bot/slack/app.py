"""Builds the Slack app: the Bolt `AsyncApp` with ampa's listeners, and what runs around it.

    client = AsyncWebClient(token=..., base_url=settings.slack_api_url)
    bot = build_bot(settings, service, client)
    await bot.start()                       # resume undelivered jobs
    web = bot.web_app()                     # HTTP: aiohttp app serving POST /slack/events
    handler = bot.socket_mode_handler()     # or Socket Mode
    await bot.close()

Bolt's built-in middleware does the request checks: every HTTP request's signature and timestamp
(v0 HMAC-SHA256, at most 5 minutes old) is verified against SLACK_SIGNING_SECRET and refused with
401 otherwise, and events the app caused itself are dropped. `dedupe.py` adds event-id dedup.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.dedupe import SeenEvents, dedupe_middleware
from bot.slack.errors import handle_error
from bot.slack.listeners import register_all
from bot.slack.listeners.deps import Deps
from bot.slack.settings import SlackSettings
from bot.slack.tracker import JobTracker

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def build_client(settings: SlackSettings) -> AsyncWebClient:
    return AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)


@dataclass(frozen=True)
class SlackBot:
    app: AsyncApp
    tracker: JobTracker
    settings: SlackSettings

    async def start(self) -> None:
        """Pick up jobs a previous run did not finish reporting."""
        await self.tracker.resume()

    async def close(self) -> None:
        await self.tracker.close()

    def web_app(self, path: str = EVENTS_PATH) -> web.Application:
        """The aiohttp application for the HTTP transport (Events API, interactivity, slash commands)."""
        if self.settings.slack_signing_secret is None:
            # Without the secret nothing could tell Slack's requests from anyone else's.
            raise ValueError("the HTTP transport needs SLACK_SIGNING_SECRET to verify requests")
        web_app = self.app.web_app(path=path)

        async def on_startup(_: web.Application) -> None:
            await self.start()

        async def on_cleanup(_: web.Application) -> None:
            await self.close()

        web_app.on_startup.append(on_startup)
        web_app.on_cleanup.append(on_cleanup)
        return web_app

    def socket_mode_handler(self) -> AsyncSocketModeHandler:
        if self.settings.slack_app_token is None:
            raise ValueError(
                "Socket Mode needs SLACK_APP_TOKEN (an app-level token xapp-… with connections:write); "
                "or run `ampa slack --http` to receive events over HTTP."
            )
        return AsyncSocketModeHandler(self.app, self.settings.slack_app_token.get_secret_value())


def build_bot(settings: SlackSettings, service: Any, client: AsyncWebClient) -> SlackBot:
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = AsyncApp(
        client=client,
        # Socket Mode requests are not signed; HTTP mode refuses to start without a secret (see ampa slack).
        signing_secret=secret or "",
        request_verification_enabled=secret is not None,
        logger=logging.getLogger("bot.slack.bolt"),
    )
    tracker = JobTracker(client, service, settings)
    deps = Deps(settings=settings, service=service, client=client, tracker=tracker)
    app.middleware(dedupe_middleware(SeenEvents(settings.dedupe_ttl_s)))
    app.error(handle_error)
    register_all(app, deps)
    return SlackBot(app=app, tracker=tracker, settings=settings)


def build_app(settings: SlackSettings, service: Any, client: AsyncWebClient) -> AsyncApp:
    """The Bolt app alone (no resume at start-up); `build_bot` is what `ampa slack` runs."""
    return build_bot(settings, service, client).app
