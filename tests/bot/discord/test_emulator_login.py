"""The real discord.py client logs in to the emulator, receives gateway events and posts messages.

This checks the emulator itself (and the endpoint settings), independently of ampa's bot.
"""

from __future__ import annotations

import asyncio
import logging

import discord
import pytest

from bot.discord.client import configure_endpoints
from bot.discord.settings import DiscordSettings
from tests.bot.discord.emulator import DiscordEmulator
from tests.patience import patience

TOKEN = "emulator-token-0123456789.secret"


@pytest.fixture
async def emulator():
    async with DiscordEmulator() as emu:
        yield emu


async def test_discord_py_logs_in_receives_events_and_posts(
    emulator: DiscordEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    configure_endpoints(
        DiscordSettings(DISCORD_TOKEN=TOKEN, DISCORD_API_URL=emulator.api_url, DISCORD_GATEWAY_URL=emulator.gateway_url)
    )
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.Client(intents=intents, guild_ready_timeout=0.1)
    received: asyncio.Queue[discord.Message] = asyncio.Queue()
    client.event(_on_message(received))
    runner = asyncio.create_task(client.start(TOKEN))
    try:
        await asyncio.wait_for(client.wait_until_ready(), timeout=patience(10))
        assert client.user is not None and str(client.user.id) == emulator.app_id
        channel = client.get_channel(int(emulator.channel_id))
        assert isinstance(channel, discord.TextChannel) and channel.guild.id == int(emulator.guild_id)

        await emulator.post_message(emulator.channel_id, "hello bot")
        message = await asyncio.wait_for(received.get(), timeout=patience(5))
        assert message.content == "hello bot" and str(message.author.id) == emulator.user["id"]

        sent = await channel.send("hi", file=discord.File(__file__, filename="proof.txt"))
        assert str(sent.id) in emulator.messages
        call = emulator.calls_matching("POST", rf"/channels/{emulator.channel_id}/messages$")[-1]
        assert call.json["content"] == "hi"
        assert [f.filename for f in call.files] == ["proof.txt"] and call.files[0].size > 100
        thread = await sent.create_thread(name="results")
        await emulator.wait_for(lambda: client.get_channel(thread.id), timeout=5, what="THREAD_CREATE in the cache")

        # The gateway drops the connection: the client resumes its session at resume_gateway_url.
        await emulator.drop_connections()
        await emulator.wait_for(lambda: emulator.resumes == 1 and emulator._sockets, timeout=15, what="a RESUME")
        assert emulator.identifies == 1
        await emulator.post_message(str(thread.id), "still there?")
        message = await asyncio.wait_for(received.get(), timeout=patience(5))
        assert message.content == "still there?" and message.channel.id == thread.id
    finally:
        await client.close()
        await runner
    assert all(call.headers.get("Authorization") == f"Bot {TOKEN}" for call in emulator.calls)
    assert TOKEN not in caplog.text


def _on_message(queue: asyncio.Queue[discord.Message]):
    async def on_message(message: discord.Message) -> None:
        await queue.put(message)

    return on_message
