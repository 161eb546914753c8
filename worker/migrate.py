"""Run the Alembic migrations programmatically (`ampa db upgrade`, and the embedded default at start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations


def alembic_config(url: str) -> Config:
    # __path__ rather than __file__: an editable install made before migrations/ had an __init__.py
    # sees it as a namespace package.
    folder = Path(next(iter(migrations.__path__))).resolve()
    config = Config()
    config.set_main_option("script_location", str(folder))
    # '%' would be read as interpolation by configparser (passwords may contain it).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Blocking (Alembic's env runs its own event loop): call it from a thread inside async code."""
    command.upgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    """The revision the database is at (None: empty). Blocking, like `upgrade`."""
    import asyncio

    from alembic.runtime.migration import MigrationContext

    from worker.db import make_engine

    async def read() -> str | None:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
        finally:
            await engine.dispose()

    return asyncio.run(read())
