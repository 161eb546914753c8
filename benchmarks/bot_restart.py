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
    started = time.monotonic()
    bot = await ChildProcess.start(sys.executable, "-m", "ampa", "discord", env=env, cwd=folder)
    try:
        await emulator.wait_for(lambda: emulator.commands and emulator.identifies, timeout=300, what="login")
        ready = time.monotonic() - started
        help_ = await emulator.slash_command("help")
        await emulator.wait_for(lambda: help_.callbacks, timeout=300, what="/help")
        answered = time.monotonic() - started
    finally:
        stopping = time.monotonic()
        await bot.stop(signal.SIGINT)
        stopped = time.monotonic() - stopping
        await emulator.stop()
    return {"ready": ready, "first answer": answered, "stop": stopped}


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
    started = time.monotonic()
    app = await ChildProcess.start(
        sys.executable, "-m", "ampa", "slack", "--http", "--port", str(port), "--host", "127.0.0.1", env=env, cwd=folder
    )
    try:
        async with aiohttp.ClientSession() as session:
            harness = SlackHarness(
                bot=None, service=None, emulator=emulator, url=f"http://127.0.0.1:{port}/slack/events", session=session
            )
            while True:
                try:
                    if (await harness.post("{}", "application/json", secret=None)).status == 401:
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            ready = time.monotonic() - started
            await harness.send_event(mention("upbeat funk, 6 seconds"))
            await emulator.wait_for(lambda: emulator.of("chat.postMessage"), 300)
            answered = time.monotonic() - started
    finally:
        stopping = time.monotonic()
        await app.stop(signal.SIGINT)
        stopped = time.monotonic() - stopping
        await emulator.close()
    return {"ready": ready, "first answer": answered, "stop": stopped}


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
