"""`ampa slack`: run the Slack app.

    ampa slack                  Socket Mode (needs SLACK_APP_TOKEN; no public URL needed)
    ampa slack --http [--port N] [--host H]
                                Events API, interactivity and /generate at POST /slack/events
                                (port 3000 by default, as Bolt does; needs SLACK_SIGNING_SECRET)

Both need SLACK_BOT_TOKEN. With only the Slack settings it runs jobs itself (in-process worker,
SQLite under the data folder); with DATABASE_URL / REDIS_URL it uses PostgreSQL and the arq
workers (`ampa worker`) instead. Either way it serves the track pages on AMPA_WEB_PORT (8080; 0:
not here) and links them as AMPA_PUBLIC_URL.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

DEFAULT_PORT = 3000


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "slack",
        help="run the Slack app (Socket Mode, or --http)",
        description=(
            "Run the Slack app. Needs SLACK_BOT_TOKEN, and SLACK_APP_TOKEN for Socket Mode (the default) or "
            "SLACK_SIGNING_SECRET with --http. DATABASE_URL and REDIS_URL pick the job store and queue."
        ),
    )
    parser.add_argument(
        "--http", action="store_true", help="serve Slack's HTTP requests at /slack/events instead of Socket Mode"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default="0.0.0.0", help="HTTP address to bind (default 0.0.0.0)")
    parser.set_defaults(func=run)


class StartError(Exception):
    """Why the app cannot start, in words for the operator."""


def run(args: argparse.Namespace) -> int:
    import asyncio

    try:
        job_settings, slack_settings = settings_for(http=args.http)
        asyncio.run(serve(job_settings, slack_settings, http=args.http, host=args.host, port=args.port))
    except StartError as exc:
        print(f"ampa slack: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def settings_for(*, http: bool) -> tuple[Any, Any]:
    """The job system's and the Slack app's settings, checked for what this transport needs."""
    from bot.slack.settings import SlackSettings
    from worker.cli_support import load_settings
    from worker.settings import Settings

    job_settings, slack_settings = load_settings(
        Settings,
        SlackSettings,
        missing={
            "SLACK_BOT_TOKEN": "Copy the Bot User OAuth Token (xoxb-…) from your Slack app's "
            "OAuth & Permissions page and export it."
        },
    )
    if http and slack_settings.slack_signing_secret is None:
        raise StartError("--http needs SLACK_SIGNING_SECRET (Basic Information → App Credentials → Signing Secret).")
    if not http and slack_settings.slack_app_token is None:
        raise StartError(
            "Socket Mode needs SLACK_APP_TOKEN (an app-level token xapp-… with connections:write, "
            "Basic Information → App-Level Tokens). Or run `ampa slack --http` with a public URL."
        )
    return job_settings, slack_settings


async def serve(
    job_settings: Any,
    slack_settings: Any,
    *,
    http: bool,
    host: str = "0.0.0.0",
    port: int = DEFAULT_PORT,
    stop: Any = None,
    service: Any = None,
) -> None:
    """Run until `stop` (an asyncio.Event) is set, or forever. `service`: an open JobService to use
    (then the caller serves the track pages, if it wants them; otherwise this serves them)."""
    import asyncio

    from aiohttp import web
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import build_bot, build_client
    from worker.service import JobService

    owns_service = service is None
    if service is None:
        service = await JobService.open(job_settings)
    client = build_client(slack_settings)
    bot = build_bot(slack_settings, service, client)
    runner = handler = pages = None
    try:
        try:
            await client.auth_test()
        except SlackApiError as exc:
            raise StartError(
                f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error')}). Copy it again from "
                "your app's OAuth & Permissions page."
            ) from None
        if owns_service:  # a caller that passes its service serves its own pages, if any
            from worker.web.server import serve_pages

            try:
                pages = await serve_pages(job_settings, service, "ampa slack")
            except OSError as exc:
                raise StartError(str(exc)) from None
        if http:
            runner = web.AppRunner(bot.web_app())  # its start-up hook resumes undelivered jobs
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            print(f"ampa slack: listening on http://{host}:{port}/slack/events", file=sys.stderr)
        else:
            handler = bot.socket_mode_handler()
            await bot.start()
            await handler.connect_async()
            print("ampa slack: connected to Slack in Socket Mode", file=sys.stderr)
        await (stop or asyncio.Event()).wait()
    finally:
        if handler is not None:
            await handler.close_async()
        if runner is not None:
            await runner.cleanup()
        await bot.close()  # stops following jobs; they stay undelivered and resume at the next start
        if pages is not None:
            await pages.stop()
        if owns_service:
            await service.close()
