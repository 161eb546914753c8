"""Shared pieces of the job-system commands (`ampa submit|jobs|worker|db|api`): loading settings with
a readable error, running a coroutine with the service, and turning failures into one-line messages."""

from __future__ import annotations

import asyncio
import shutil
import sys
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from worker.schemas import JobEvent, JobRejected
from worker.settings import Settings

T = TypeVar("T")


class CommandError(Exception):
    """A message for the terminal and an exit code; never a traceback."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def load_settings(*kinds: type[Any], missing: Mapping[str, str] | None = None) -> Any:
    """Build each settings class (default: the job system's) from the environment and .env.

    Returns the one instance, or a tuple when several classes are asked for. A missing or invalid value
    raises CommandError (exit code 2) with one line per problem, naming the environment variable and,
    for a missing one, what to do (`missing`: variable -> hint). `ampa.cli.main` prints it.
    """
    from pydantic import ValidationError

    kinds = kinds or (Settings,)
    built = []
    lines: list[str] = []
    for kind in kinds:
        try:
            built.append(kind())
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]).upper() if error["loc"] else "A setting"
                if error["type"] == "missing":
                    lines.append(f"{name} is not set. {(missing or {}).get(name, '')}".rstrip())
                else:
                    lines.append(f"{name}: {error['msg']}")
    if lines:
        raise CommandError("\n".join(lines), 2)
    return built[0] if len(built) == 1 else tuple(built)


def run_command(main: Callable[[], Awaitable[int]]) -> int:
    """Run an async command body; print JobRejected/CommandError/connection failures as one message."""
    try:
        return asyncio.run(main())
    except CommandError as exc:
        print(exc.message, file=sys.stderr)
        return exc.code
    except JobRejected as exc:
        print(exc.user_message, file=sys.stderr)
        return 2
    except (OSError, ConnectionError) as exc:
        print(f"Could not reach the job store or queue: {exc}. Check DATABASE_URL / REDIS_URL.", file=sys.stderr)
        return 1
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            first = (str(exc.__cause__ or exc).strip().splitlines() or [type(exc).__name__])[0]
            print(f"Database error: {first}. Check DATABASE_URL and run `ampa db upgrade`.", file=sys.stderr)
            return 1
        raise


def keep_reference(settings: Settings, source: Path) -> Path:
    """Copy a reference file next to the job data, where every worker can read it."""
    if not source.is_file():
        raise CommandError(f"Reference file not found: {source}. Give the path of a WAV, FLAC, MP3 or OGG file.", 2)
    folder = settings.data_dir / "references"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}{source.suffix.lower()}"
    shutil.copyfile(source, target)
    return target


def event_line(event: JobEvent) -> str:
    stage = f" [{event.stage}]" if event.stage else ""
    return f"{event.at:%H:%M:%S} {event.status}{stage} {event.message}"
