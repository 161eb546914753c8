"""Fixtures: the Discord emulator, a real JobService (SQLite + in-process runner in a temp dir) and
ampa's real bot client connected to the emulator."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.discord.client import AmpaBot
from bot.discord.settings import DiscordSettings
from tests import stand_in_pipeline
from tests.bot.discord.emulator import DiscordEmulator
from worker.settings import Settings
from tests.patience import patience

TOKEN = "MTAx.emulator-bot-token.Zm9vYmFyYmF6-secret"


@pytest.fixture(autouse=True)
def _stand_in_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with the gate open, no forced failure, and stages slow enough (0.6 s) that a
    status message has stages to show; 6 s of audio."""
    stand_in_pipeline.GATE.set()
    stand_in_pipeline.FAIL_WITH.clear()
    monkeypatch.setattr(stand_in_pipeline, "STAGE_S", 0.6)
    monkeypatch.setattr(stand_in_pipeline, "AUDIO_S", 6.0)


@pytest.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as emu:
        yield emu


def make_job_settings(folder: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "AMPA_DATA_DIR": folder,
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'ampa.db'}",
        "REDIS_URL": None,
        "AMPA_LEASE_SECONDS": 2.0,
        "AMPA_RECONCILE_SECONDS": 0.5,
        "AMPA_MAX_REFERENCE_BYTES": 2_000_000,
        "AMPA_MAX_REFERENCE_SECONDS": 60.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def job_settings(tmp_path: Path) -> Settings:
    return make_job_settings(tmp_path)


@contextlib.asynccontextmanager
async def open_service(
    settings: Settings, pipeline: ModuleType | None = stand_in_pipeline, options: dict[str, Any] | None = None
) -> AsyncIterator[Any]:
    from worker.service import JobService

    service = await JobService.open(settings, pipeline=pipeline, pipeline_options=options)
    try:
        yield service
    finally:
        await service.close()


@pytest.fixture
async def service(job_settings: Settings) -> AsyncIterator[Any]:
    async with open_service(job_settings) as svc:
        yield svc


def discord_settings(emu: DiscordEmulator, **overrides: Any) -> DiscordSettings:
    values: dict[str, Any] = {
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_URL": emu.api_url,
        "DISCORD_GATEWAY_URL": emu.gateway_url,
        "DISCORD_STATUS_EDIT_INTERVAL": 1.0,
    }
    values.update(overrides)
    return DiscordSettings(_env_file=None, **values)


@contextlib.asynccontextmanager
async def running_bot(
    emu: DiscordEmulator, service: Any, job_settings: Settings, **overrides: Any
) -> AsyncIterator[AmpaBot]:
    """ampa's bot, logged in to the emulator and ready (commands registered, guild cached)."""
    bot = AmpaBot(service, discord_settings(emu, **overrides), job_settings=job_settings, guild_ready_timeout=0.05)
    runner = asyncio.create_task(bot.start_with_settings())
    try:
        await asyncio.wait_for(bot.wait_until_ready(), timeout=patience(15))
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runner, timeout=patience(10))


@pytest.fixture
async def bot(emulator: DiscordEmulator, service: Any, job_settings: Settings) -> AsyncIterator[AmpaBot]:
    async with running_bot(emulator, service, job_settings) as b:
        yield b
