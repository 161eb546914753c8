"""Fixtures for the job-system tests: SQLite per test, and the real PostgreSQL and Redis of the
development machine (a fresh database per session, dropped after; Redis db 5, flushed per test).
Servers that are down make their tests skip with the reason, except under CI=true, where they fail."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from worker.settings import Settings
from tests.patience import patience

PG_ADMIN_DSN = os.environ.get("AMPA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("AMPA_TEST_REDIS", "redis://127.0.0.1:6379/5")
IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parents[2]
FAKE_PIPELINE = "tests.stand_in_pipeline"


def need(reason: str) -> None:
    """Skip (or fail under CI=true) when a server the test needs is not there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: servers must be up)")
    pytest.skip(reason)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


async def wait_for(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll an async or sync predicate until it returns something truthy, or fail after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience(timeout)
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {patience(timeout):g} s waiting for {what}")
        await asyncio.sleep(interval)


def in_thread(fn):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated; dropped afterwards."""
    if not _reachable("127.0.0.1", 5432):
        need("PostgreSQL is not running at 127.0.0.1:5432")
    import asyncpg

    name = f"ampa_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    from worker.migrate import upgrade

    url = PG_ADMIN_DSN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"
    # In a thread: this fixture may be set up from inside a running event loop (an async test).
    in_thread(lambda: asyncio.run(admin(f'CREATE DATABASE "{name}"')))
    in_thread(lambda: upgrade(url))
    try:
        yield url
    finally:
        in_thread(lambda: asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """The session database, emptied for this test."""
    import asyncpg

    async def truncate() -> None:
        conn = await asyncpg.connect(pg_database.replace("+asyncpg", ""))
        try:
            await conn.execute("TRUNCATE jobs, job_events RESTART IDENTITY CASCADE")
        finally:
            await conn.close()

    in_thread(lambda: asyncio.run(truncate()))
    return pg_database


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    if not _reachable("127.0.0.1", 6379):
        need("Redis is not running at 127.0.0.1:6379")
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_TEST_URL)
    await client.flushdb()
    try:
        yield REDIS_TEST_URL
    finally:
        await client.flushdb()
        await client.aclose()


def make_settings(tmp_path: Path, **env: object) -> Settings:
    """Settings as a deployment would set them, through the environment names."""
    values = {
        "AMPA_DATA_DIR": tmp_path / "data",
        "AMPA_PIPELINE": FAKE_PIPELINE,
        "AMPA_LEASE_SECONDS": 3.0,
        "AMPA_RECONCILE_SECONDS": 0.5,
        **env,
    }
    return Settings(_env_file=None, **{k: v for k, v in values.items() if v is not None})


# Marks for tests that run arq workers against the real PostgreSQL and Redis.
ARQ_MARKS = [
    pytest.mark.postgres,
    pytest.mark.redis,
    # arq 0.28 closes its pool with redis' deprecated close(); not ours to fix.
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]


@pytest.fixture
def arq_settings(tmp_path: Path, pg_url: str, redis_url: str) -> Settings:
    """Settings for a job system on the real PostgreSQL and Redis (a fresh Redis db per test)."""
    return make_settings(tmp_path, DATABASE_URL=pg_url, REDIS_URL=redis_url)


@pytest.fixture(params=["sqlite", "postgres"])
def db_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Embedded settings on each database (no Redis: in-process runner)."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        return make_settings(tmp_path, DATABASE_URL=url)
    return make_settings(tmp_path)


def subprocess_env(settings_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMPA_", "DATABASE_URL", "REDIS_URL"))}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(settings_env)
    return env
