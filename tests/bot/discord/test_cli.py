"""`ampa discord` as a real process: with only the token (and the emulator's endpoints) it runs the
embedded job system on SQLite, logs in, registers the commands and answers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.bot.discord.conftest import TOKEN
from tests.bot.discord.emulator import DiscordEmulator


async def test_ampa_discord_runs_embedded_against_the_configured_endpoints(
    emulator: DiscordEmulator, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_URL=emulator.api_url,
        DISCORD_GATEWAY_URL=emulator.gateway_url,
        AMPA_DATA_DIR=str(tmp_path),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ampa", "-v", "discord", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await emulator.wait_for(
            lambda: emulator.commands and emulator.identifies, timeout=60, what="the bot logged in with its commands"
        )
        help_ = await emulator.slash_command("help")
        await emulator.wait_for(lambda: help_.callbacks, timeout=20, what="/help answered")
        assert (tmp_path / "ampa.db").exists(), "the embedded default stores jobs in SQLite under the data folder"
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    log = output.decode(errors="replace")
    assert "Traceback" not in log, log[-2000:]
    assert TOKEN not in log and "emulator-bot-token" not in log


async def test_ampa_discord_without_a_token_says_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ampa", "discord", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2
    assert b"DISCORD_TOKEN is not set" in err and b"Traceback" not in err
