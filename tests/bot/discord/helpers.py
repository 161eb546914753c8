"""What a user sees, read from the emulator's records."""

from __future__ import annotations

from typing import Any

from bot.discord.status import FOOTER_PREFIX
from tests.bot.discord.emulator import DiscordEmulator, message_text
from tests.patience import patience


def job_id_of(message: dict[str, Any]) -> str | None:
    for embed in message.get("embeds") or []:
        text = (embed.get("footer") or {}).get("text", "")
        if text.startswith(FOOTER_PREFIX):
            return text[len(FOOTER_PREFIX) :].split(" ", 1)[0]
    return None


def status_messages(emu: DiscordEmulator, channel_id: str) -> list[dict[str, Any]]:
    """ampa's status messages in a channel (bot messages with a job footer and no files), oldest first."""
    return [
        m
        for m in emu.messages_in(channel_id)
        if m["author"]["id"] == emu.app_id
        and job_id_of(m)
        and not m["attachments"]
        and m.get("interaction_token") is None
    ]


def result_messages(emu: DiscordEmulator, channel_id: str) -> list[dict[str, Any]]:
    return [
        m for m in emu.messages_in(channel_id) if m["author"]["id"] == emu.app_id and job_id_of(m) and m["attachments"]
    ]


def status_texts(emu: DiscordEmulator, message_id: str) -> list[str]:
    """The status message as it was first posted and after each successful edit, in order."""
    first = next(c for c in emu.calls if c.created is not None and c.created["id"] == message_id)
    return [message_text(first.json)] + [message_text(c.json) for c in emu.message_edits(message_id)]


def final_text(emu: DiscordEmulator, message_id: str) -> str:
    return message_text(emu.messages[message_id])


async def eventually(check: Any, *, timeout: float = 10.0, what: str = "condition", every: float = 0.05) -> Any:
    """Await `check()` (a coroutine function) until it returns something truthy, or fail after `timeout`."""
    import asyncio
    import time

    deadline = time.monotonic() + patience(timeout)
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {patience(timeout):.0f} s waiting for {what}")
        await asyncio.sleep(every)  # polling a database row: there is no event to wait on from here
