"""`ampa slack` with DATABASE_URL and REDIS_URL: jobs go to PostgreSQL and an arq worker (`ampa worker`)
makes them; the app follows them over Redis and delivers into the thread. Skips when the servers are
down, except under CI=true (then it fails)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import uuid
from pathlib import Path

import pytest

from ampa.commands.slack import serve
from tests.bot.slack.conftest import mention
from tests.bot.slack.helpers import eventually
from worker.settings import Settings
from tests.patience import patience

PG_ADMIN_DSN = os.environ.get("AMPA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("AMPA_TEST_SLACK_REDIS", "redis://127.0.0.1:6379/9")  # a db of its own
REPO = Path(__file__).resolve().parents[3]


def _reachable(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _need(port: int, what: str) -> None:
    if not _reachable(port):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{what} is not running at 127.0.0.1:{port} (CI=true: servers must be up)")
        pytest.skip(f"{what} is not running at 127.0.0.1:{port}")


@pytest.fixture
async def pg_url():
    _need(5432, "PostgreSQL")
    import asyncpg

    from worker.migrate import upgrade

    name = f"ampa_slack_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_DSN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def redis_url():
    _need(6379, "Redis")
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    yield REDIS_URL
    await client.flushdb()
    await client.aclose()


@pytest.mark.postgres
@pytest.mark.redis
async def test_mention_runs_on_postgresql_and_an_arq_worker(emulator, slack_settings, pg_url, redis_url, tmp_path):
    env = {
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "AMPA_DATA_DIR": str(tmp_path / "data"),
        "AMPA_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "AMPA_PIPELINE": "tests.stand_in_pipeline",
    }
    settings = Settings(**env)
    assert settings.uses_arq
    port = _free_port()
    stop = asyncio.Event()
    app = asyncio.create_task(serve(settings, slack_settings, http=True, host="127.0.0.1", port=port, stop=stop))
    worker = None
    try:
        from aiohttp import ClientSession

        from tests.bot.slack.conftest import SlackHarness

        async with ClientSession() as session:
            harness = SlackHarness(
                bot=None, service=None, emulator=emulator, url=f"http://127.0.0.1:{port}/slack/events", session=session
            )
            await eventually(lambda: _listening(port), 30)
            event = mention("upbeat funk, 6 seconds")
            assert (await harness.send_event(event)).status == 200
            await emulator.wait_for(lambda: len(emulator.of("chat.update")) >= 1, 30)  # job submitted
            worker = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "ampa",
                "worker",
                "--burst",
                cwd=tmp_path,
                env={**os.environ, **env, "PYTHONPATH": str(REPO)},
            )
            complete = await emulator.wait_for(lambda: emulator.of("files.completeUploadExternal"), 90)
            assert complete[0].args["thread_ts"] == event["ts"]
            assert await asyncio.wait_for(worker.wait(), patience(60)) == 0
        import asyncpg

        conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
        try:
            rows = await conn.fetch("SELECT status, platform, thread_ref FROM jobs")
        finally:
            await conn.close()
        assert [(r["status"], r["platform"], r["thread_ref"]) for r in rows] == [("SUCCESS", "slack", event["ts"])]
    finally:
        if worker is not None and worker.returncode is None:
            worker.kill()
            await worker.wait()
        stop.set()
        await asyncio.wait_for(app, patience(30))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    return _reachable(port)
