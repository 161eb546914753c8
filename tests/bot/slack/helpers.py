"""Small test helpers: wait for a condition with a deadline; read what the emulator recorded."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

from tests.bot.slack.emulator import Call, SlackEmulator
from tests.patience import patience


async def eventually(
    predicate: Callable[[], Any],
    timeout: float = 20.0,
    interval: float = 0.05,
    explain: Callable[[], Any] | None = None,
) -> Any:
    """Poll `predicate` (sync or async) until truthy; fail with the last value at the deadline."""
    deadline = time.monotonic() + patience(timeout)
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            context = f"; {explain()!r}" if explain else ""
            raise AssertionError(f"condition not met within {patience(timeout):g} s (last value: {value!r}){context}")
        await asyncio.sleep(interval)


def thread_posts(emulator: SlackEmulator, thread_ts: str) -> list[Call]:
    return [c for c in emulator.of("chat.postMessage") if c.args.get("thread_ts") == thread_ts]


def texts(calls: list[Call]) -> list[str]:
    return [str(c.args.get("text", "")) for c in calls]


def updates_of(emulator: SlackEmulator, ts: str) -> list[Call]:
    return [c for c in emulator.of("chat.update") if c.args.get("ts") == ts]
