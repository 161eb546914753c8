"""The database engine: one async engine per process, built at start-up from `DATABASE_URL`.

PostgreSQL (asyncpg) in production, SQLite (aiosqlite) for the embedded default. `pool_pre_ping`
makes a pooled connection that died with a restarted PostgreSQL get replaced on its next checkout
instead of failing the operation that drew it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_recycle=1800)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL (readers never block the writer), a busy timeout, and BEGIN IMMEDIATE.

    BEGIN IMMEDIATE takes the write lock when a transaction starts, so a read-then-write
    transaction (a limit check followed by an insert) waits its turn instead of failing with
    SQLITE_BUSY when another process (the CLI next to a bot) wrote in between.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
