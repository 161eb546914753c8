"""Shared set-up for the job-system benchmarks: a throwaway PostgreSQL database, a flushed Redis db,
and `ampa worker` processes that count their SQL round trips (SQLAlchemy "before_cursor_execute")."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("AMPA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(prefix: str) -> str:
    from worker.migrate import upgrade

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    return url


def drop_database(url: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


async def flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


def count_round_trips(out_file: Path | None = None) -> list[int]:
    """Count every statement any engine in this process sends; write the total at exit."""
    import atexit

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    counter = [0]

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_args) -> None:
        counter[0] += 1

    if out_file is not None:
        atexit.register(lambda: out_file.write_text(str(counter[0])))
    return counter


def worker_main(count_file: str) -> None:
    """Entry point of a counted worker process: `python benchmarks/_harness.py COUNT_FILE`."""
    count_round_trips(Path(count_file))
    from ampa.cli import main

    try:
        main(["worker"])
    finally:
        pass


def start_workers(n: int, env: dict[str, str], folder: Path) -> list[tuple[subprocess.Popen, Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    started = []
    for i in range(n):
        count_file = folder / f"worker{i}.count"
        log = (folder / f"worker{i}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(count_file)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        started.append((proc, count_file))
    return started


def stop_workers(workers: list[tuple[subprocess.Popen, Path]]) -> int:
    """SIGTERM, wait, and return the workers' total SQL round trips."""
    for proc, _ in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    total = 0
    for proc, count_file in workers:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        deadline = time.monotonic() + 5
        while not count_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        total += int(count_file.read_text() or 0) if count_file.exists() else 0
    return total


def worker_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMPA_", "DATABASE_URL", "REDIS_URL"))}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(values)
    return env


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


if __name__ == "__main__":
    worker_main(sys.argv[1])
