"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
and downgrade cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.worker.conftest import in_thread
from worker.db import make_engine
from worker.migrate import alembic_config, current, upgrade
from worker.models import Base


def _diff(url: str) -> list:
    async def run() -> list:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
                )
        finally:
            await engine.dispose()

    return asyncio.run(run())


HEAD = "0002"


def _check(url: str) -> None:
    upgrade(url, "0001")  # a database made before backends and credits existed
    assert current(url) == "0001"
    upgrade(url)
    assert current(url) == HEAD
    assert _diff(url) == []
    command.downgrade(alembic_config(url), "base")
    assert current(url) is None
    upgrade(url)
    assert current(url) == HEAD


def test_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    _check(f"sqlite+aiosqlite:///{tmp_path / 'ampa.db'}")


@pytest.mark.postgres
def test_postgres_schema_matches_the_models(pg_database: str) -> None:
    # A throwaway database of its own: downgrading the shared one would disturb other tests.
    import asyncpg

    name = pg_database.rsplit("/", 1)[1] + "_mig"
    admin_dsn = pg_database.replace("+asyncpg", "").rsplit("/", 1)[0] + "/postgres"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    in_thread(lambda: asyncio.run(admin(f'CREATE DATABASE "{name}"')))
    try:
        _check(pg_database.rsplit("/", 1)[0] + f"/{name}")
    finally:
        in_thread(lambda: asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
