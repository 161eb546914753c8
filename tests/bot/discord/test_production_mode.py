"""The bot on PostgreSQL + Redis: it only submits and reports; a separate `ampa worker` process
(arq) makes the track. Skips when the servers are down, except under CI=true."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.bot.discord.conftest import open_service, running_bot
from tests.bot.discord.emulator import DiscordEmulator, message_text
from tests.bot.discord.helpers import eventually, job_id_of, result_messages, status_messages
from worker.settings import Settings
from tests.patience import patience

PG_ADMIN_DSN = os.environ.get("AMPA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("AMPA_TEST_REDIS_DISCORD", "redis://127.0.0.1:6379/6")  # not the job-system tests' db
REPO = Path(__file__).resolve().parents[3]


def _need(host: str, port: int, what: str) -> None:
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{what} is not running at {host}:{port} (CI=true: servers must be up)")
        pytest.skip(f"{what} is not running at {host}:{port}")


@pytest.fixture
async def production_settings(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    _need("127.0.0.1", 5432, "PostgreSQL")
    _need("127.0.0.1", 6379, "Redis")
    import asyncpg
    from redis.asyncio import Redis

    from worker.migrate import upgrade

    name = f"ampa_discord_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_DSN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"
    await asyncio.to_thread(upgrade, url)
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    try:
        yield {
            "DATABASE_URL": url,
            "REDIS_URL": REDIS_URL,
            "AMPA_DATA_DIR": str(tmp_path),
            "AMPA_PIPELINE": "tests.stand_in_pipeline",
            "AMPA_FAKE_STAGE_S": "0.6",  # stages slow enough for the live status to show them
            "AMPA_LEASE_SECONDS": "3",
            "AMPA_RECONCILE_SECONDS": "1",
        }
    finally:
        await redis.flushdb()
        await redis.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def worker_process(env_values: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMPA_", "DATABASE_URL", "REDIS_URL"))}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_values)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ampa", "worker", cwd=REPO, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout=patience(20))
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def test_bot_with_postgres_and_an_arq_worker(
    emulator: DiscordEmulator, production_settings: dict[str, str]
) -> None:
    settings = Settings(_env_file=None, **production_settings)
    assert settings.uses_arq
    async with (
        open_service(settings, pipeline=None) as service,
        worker_process(production_settings),
        running_bot(emulator, service, settings) as bot,
    ):
        await emulator.slash_command("generate", {"prompt": "melancholic jazz piano trio", "duration": 6})
        status = (
            await emulator.wait_for(
                lambda: status_messages(emulator, emulator.channel_id), timeout=60, what="a status message"
            )
        )[0]
        job_id = job_id_of(status)
        await emulator.wait_for(
            lambda: result_messages(emulator, status["id"]), timeout=90, what="results made by the arq worker"
        )
        job: Any = await eventually(lambda: _delivered(bot.service, job_id), timeout=10, what="delivered")
        assert job.status.value == "SUCCESS"
        assert "Your track is ready" in message_text(emulator.messages[status["id"]])
        assert any("▶" in message_text(c.json) for c in emulator.message_edits(status["id"])), (
            "live progress through Redis"
        )


async def _delivered(service: Any, job_id: str) -> Any:
    job = await service.get(job_id)
    return job if job is not None and job.delivered else None
