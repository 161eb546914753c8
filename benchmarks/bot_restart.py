"""How fast a bot process starts and stops: `ampa discord` and `ampa slack --http`, embedded (SQLite,
in-process worker), against the tests' local Discord and Slack emulators.

    python benchmarks/bot_restart.py [--runs 5] [--hogs 1]

For each run it times, from the process's start: logged in with its commands (Discord) or answering
at /slack/events (Slack), and the first slash command answered; then the time from SIGINT to exit.
`--hogs N` keeps N other processes spinning on the CPU meanwhile (a busy machine). Prints medians.
A bot that starts or stops slowly misses Discord's interactions while it restarts (Discord wants an
answer within 3 s), so these are product figures, quoted in the README.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.bot.discord.conftest import TOKEN  # noqa: E402
from tests.bot.discord.emulator import DiscordEmulator  # noqa: E402
from tests.bot.slack.conftest import BOT_TOKEN, SIGNING_SECRET, SlackHarness, mention  # noqa: E402
from tests.bot.slack.emulator import SlackEmulator  # noqa: E402
from tests.processes import ChildProcess  # noqa: E402


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMPA_", "DATABASE_URL", "REDIS_URL", "SLACK_"))}
    env["PYTHONPATH"] = str(REPO)
    env.update(values)
    return env


async def time_bot(argv: list[str], env: dict[str, str], cwd: Path,
                   ready: Callable[[], Awaitable[None]], answer: Callable[[], Awaitable[None]]) -> dict[str, float]:
    """Start `ampa ARGV`, time `ready` and then `answer` from the start, then SIGINT and time the exit."""
    started = time.monotonic()
    bot = await ChildProcess.start(sys.executable, "-m", "ampa", *argv, env=env, cwd=cwd)
    try:
        await ready()
        ready_s = time.monotonic() - started
        await answer()
        answered_s = time.monotonic() - started
    finally:
        stopping = time.monotonic()
        await bot.stop(signal.SIGINT)
        stopped_s = time.monotonic() - stopping
    return {"ready": ready_s, "first answer": answered_s, "stop": stopped_s}


async def discord_run() -> dict[str, float]:
    emulator = DiscordEmulator()
    await emulator.start()
    folder = Path(tempfile.mkdtemp(prefix="ampa-bench-"))
    env = _env(
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_URL=emulator.api_url,
        DISCORD_GATEWAY_URL=emulator.gateway_url,
        AMPA_DATA_DIR=str(folder),
    )

    async def logged_in() -> None:
        await emulator.wait_for(lambda: emulator.commands and emulator.identifies, timeout=300, what="login")

    async def help_answered() -> None:
        help_ = await emulator.slash_command("help")
        await emulator.wait_for(lambda: help_.callbacks, timeout=300, what="/help")

    try:
        return await time_bot(["discord"], env, folder, logged_in, help_answered)
    finally:
        await emulator.stop()


async def slack_run() -> dict[str, float]:
    import aiohttp

    emulator = await SlackEmulator(bot_token=BOT_TOKEN).start()
    folder = Path(tempfile.mkdtemp(prefix="ampa-bench-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = _env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=emulator.api_url,
        AMPA_DATA_DIR=str(folder),
        AMPA_PIPELINE="tests.stand_in_pipeline",
    )
    argv = ["slack", "--http", "--port", str(port), "--host", "127.0.0.1"]
    async with aiohttp.ClientSession() as session:
        harness = SlackHarness(
            bot=None, service=None, emulator=emulator, url=f"http://127.0.0.1:{port}/slack/events", session=session
        )

        async def answering_events() -> None:  # an unsigned request is refused once the app listens
            while True:
                try:
                    if (await harness.post("{}", "application/json", secret=None)).status == 401:
                        return
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)

        async def mention_answered() -> None:
            await harness.send_event(mention("upbeat funk, 6 seconds"))
            await emulator.wait_for(lambda: emulator.of("chat.postMessage"), 300)

        try:
            return await time_bot(argv, env, folder, answering_events, mention_answered)
        finally:
            await emulator.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hogs", type=int, default=0, help="CPU-spinning processes to run meanwhile")
    args = parser.parse_args()
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.hogs)]
    try:
        for name, run in (("discord", discord_run), ("slack --http", slack_run)):
            runs = [asyncio.run(run()) for _ in range(args.runs)]
            medians = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            worst = {key: max(r[key] for r in runs) for key in runs[0]}
            print(
                f"ampa {name:13s} ({args.runs} runs, {args.hogs} CPU hogs): "
                + ", ".join(f"{key} {medians[key]:.1f} s (max {worst[key]:.1f})" for key in medians)
            )
    finally:
        for hog in hogs:
            hog.kill()


if __name__ == "__main__":
    main()
