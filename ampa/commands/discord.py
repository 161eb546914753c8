"""`ampa discord`: run the Discord bot.

With only DISCORD_TOKEN set it runs jobs itself (in-process worker, SQLite under the data folder);
with DATABASE_URL / REDIS_URL it uses PostgreSQL and the arq workers (`ampa worker`) instead.
It serves the track pages on AMPA_WEB_PORT (8080; 0: not here) and links them as AMPA_PUBLIC_URL.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "discord",
        help="run the Discord bot",
        description="Run the Discord bot. Needs DISCORD_TOKEN; DATABASE_URL and REDIS_URL pick the job store and queue.",
    )
    parser.add_argument(
        "--guild",
        type=int,
        default=None,
        help="register the slash commands in this server only (instant; for development)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from bot.discord.settings import DiscordSettings
    from worker.cli_support import load_settings
    from worker.settings import Settings

    job_settings, discord_settings = load_settings(
        Settings,
        DiscordSettings,
        missing={
            "DISCORD_TOKEN": "Create a bot at https://discord.com/developers/applications and export its token."
        },
    )
    if args.guild is not None:
        discord_settings = discord_settings.model_copy(update={"dev_guild_id": args.guild})
    try:
        asyncio.run(serve(job_settings, discord_settings))
    except KeyboardInterrupt:
        return 130
    except LoginRefused as exc:
        print(f"ampa discord: {exc}", file=sys.stderr)
        return 1
    return 0


class LoginRefused(Exception):
    pass


async def serve(job_settings, discord_settings) -> None:
    import discord

    from bot.discord.client import AmpaBot
    from worker.service import JobService

    from worker.web.server import serve_pages

    service = await JobService.open(job_settings)
    try:
        pages = await serve_pages(job_settings, service, "ampa discord")
    except OSError as exc:
        await service.close()
        raise LoginRefused(str(exc)) from None
    bot = AmpaBot(service, discord_settings, job_settings=job_settings)
    try:
        await bot.start_with_settings()
    except discord.LoginFailure:
        raise LoginRefused(
            "Discord refused the token (DISCORD_TOKEN). Copy it again from the Bot page of your application."
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise LoginRefused(
            "Discord refused the Message Content intent. Switch on 'Message Content Intent' on the Bot page "
            "of your application (thread replies need it)."
        ) from None
    finally:
        if not bot.is_closed():
            await bot.close()
        if pages is not None:
            await pages.stop()
        await service.close()
