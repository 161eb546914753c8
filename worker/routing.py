"""Which worker makes which job: one arq queue per generator backend, and workers that say what
they serve.

A GPU box runs `ampa worker --backends musicgen,stable-audio-open`, a CPU box `ampa worker
--backends symbolic,stable-audio`. Each job goes into the queue of its backend, and a worker listens
only on the queues of the backends it serves (worker/tasks.py), so a symbolic-only worker never
sees a stable-audio job. The symbolic queue keeps arq's default name, so jobs queued before
backends existed, and `arq worker.tasks.WorkerSettings`, still work.

Each worker process advertises what it serves: one Redis sorted set per backend,
`ampa:serving:<backend>`, member = the worker's identity, score = when the claim expires (now +
ADVERTISE_TTL_S, renewed every ADVERTISE_EVERY_S). A killed worker simply stops renewing. A sorted
set rather than one key per worker with a TTL: "does anyone serve musicgen?" is one ZCOUNT instead
of a SCAN over the keyspace. The submitting side reads it to say "waiting for a worker that runs
musicgen" at once, and the reconciler to fail a job that waited longer than AMPA_BACKEND_WAIT.

The embedded runner (no Redis) serves whatever this process can run: the backends that
`pipeline.backends.readiness` says are ready with this process's settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from arq.constants import default_queue_name

from pipeline.backends import BACKEND_NAMES, Readiness, readiness
from worker.schemas import JobRejected
from worker.settings import Settings, backend_config

log = logging.getLogger(__name__)

SYMBOLIC = "symbolic"
SERVING_KEY_PREFIX = "ampa:serving:"
ADVERTISE_EVERY_S = 5.0
ADVERTISE_TTL_S = 20.0  # four missed renewals: a busy event loop is not mistaken for a dead worker


def queue_name(backend: str) -> str:
    """The arq queue that holds the jobs of `backend`."""
    return default_queue_name if backend == SYMBOLIC else f"{default_queue_name}:{backend}"


def local_readiness(settings: Settings) -> list[Readiness]:
    return readiness(backend_config(settings))


def ready_here(settings: Settings) -> list[str]:
    return [r.name for r in local_readiness(settings) if r.ready]


def parse_backends(text: str | Iterable[str] | None, settings: Settings) -> list[str]:
    """The backends a worker serves: the ones named (each must be ready here), or every ready one.

    Raises ValueError with a message fit for the terminal when a name is unknown or not ready."""
    states = {r.name: r for r in local_readiness(settings)}
    if text is None or (isinstance(text, str) and not text.strip()):
        return [name for name, state in states.items() if state.ready]
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    for name in names:
        if name not in states:
            raise ValueError(f"Unknown backend {name!r}; ampa has: {', '.join(BACKEND_NAMES)}.")
        if not states[name].ready:
            raise ValueError(f"This worker cannot run {name}: {states[name].reason}.")
    return list(dict.fromkeys(names))


def choose_backend(
    request_backend: str | None, spec_backend: str | None, *, from_ready_spec: bool, default: str, prompt: str = ""
) -> str:
    """Which backend a request asks for: an explicit option, else a ready spec's own backend (a
    follow-up keeps its parent's), else the prompt's words ("made with stable audio": the parser's
    spec.backend; the words again for "use the symbolic composer", which the spec cannot tell
    from the default), else the operator's default."""
    if request_backend:
        chosen = request_backend.strip().lower()
    elif from_ready_spec and spec_backend:
        chosen = spec_backend
    elif spec_backend and spec_backend != SYMBOLIC:
        chosen = spec_backend
    else:
        from pipeline.understanding.backend_words import backend_from_words

        chosen = backend_from_words(prompt) or default
    if chosen not in BACKEND_NAMES:
        raise JobRejected(
            "bad_option", f"I don't know the model {chosen!r}. The models ampa has: {', '.join(BACKEND_NAMES)}."
        )
    return chosen


def next_version_backend(parent_backend: str, edited_backend: str | None, reply: str) -> str:
    """A thread reply keeps its parent's backend unless it asks for another: the reply's words
    name a neural model (the parser sets the edited spec's backend), or say to go back to the
    symbolic composer. A reply that starts a new idea keeps the model too: the thread's choice."""
    if edited_backend and edited_backend != parent_backend and edited_backend != SYMBOLIC:
        return edited_backend
    from pipeline.understanding.backend_words import backend_from_words

    return backend_from_words(reply) or parent_backend


def predict_credits(spec: dict[str, Any], backend: str, settings: Settings) -> float | None:
    """Credits a job on a paid backend will cost when every take lands (pipeline.backends.credits),
    before any request is made; None for the free backends."""
    from pipeline.backends.credits import predict_credits as estimate
    from pipeline.spec import Spec

    credits = estimate(Spec.from_dict(spec), backend_config(settings), backend=backend).credits
    return credits or None


def unavailable(backend: str, states: list[Readiness]) -> JobRejected:
    state = next(r for r in states if r.name == backend)
    ready = ", ".join(r.name for r in states if r.ready)
    return JobRejected(
        "backend_unavailable",
        f"The {backend} model isn't available on this server ({state.reason}). Models you can use here: {ready}.",
    )


def waiting_message(backend: str) -> str:
    return f"Waiting for a worker that runs {backend} — none is running right now"


def gave_up_message(backend: str, waited_s: float) -> str:
    minutes = max(1, round(waited_s / 60))
    return (
        f"No worker that runs {backend} came up within {minutes} minute{'s' if minutes != 1 else ''}, so this "
        f"track was not made. Choose another model, or ask the operator to start `ampa worker --backends {backend}`."
    )


# ---------------------------------------------------------------------------- advertising


async def advertise(redis: Any, owner: str, backends: Iterable[str], *, ttl_s: float = ADVERTISE_TTL_S) -> None:
    expires = time.time() + ttl_s
    async with redis.pipeline(transaction=False) as pipe:
        for backend in backends:
            pipe.zadd(SERVING_KEY_PREFIX + backend, {owner: expires})
        await pipe.execute()


async def withdraw(redis: Any, owner: str, backends: Iterable[str]) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        for backend in backends:
            pipe.zrem(SERVING_KEY_PREFIX + backend, owner)
        await pipe.execute()


async def serving(redis: Any) -> dict[str, int]:
    """Live workers per backend (claims not yet expired); expired claims are dropped on the way."""
    now = time.time()
    async with redis.pipeline(transaction=False) as pipe:
        for backend in BACKEND_NAMES:
            pipe.zremrangebyscore(SERVING_KEY_PREFIX + backend, "-inf", now)
            pipe.zcount(SERVING_KEY_PREFIX + backend, now, "+inf")
        answers = await pipe.execute()
    return {backend: int(count) for backend, count in zip(BACKEND_NAMES, answers[1::2], strict=True)}


class Advertiser:
    """Keeps this worker's claims fresh while it runs; withdraws them when it stops."""

    def __init__(self, redis: Any, owner: str, backends: Iterable[str], *, every_s: float = ADVERTISE_EVERY_S) -> None:
        self.redis = redis
        self.owner = owner
        self.backends = list(backends)
        self.every_s = every_s

    async def run_forever(self) -> None:
        try:
            while True:
                try:
                    await advertise(self.redis, self.owner, self.backends, ttl_s=max(ADVERTISE_TTL_S, 4 * self.every_s))
                except Exception as exc:  # noqa: BLE001 - Redis away: try again next period
                    log.warning("could not advertise this worker's backends: %s", exc)
                await asyncio.sleep(self.every_s)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(withdraw(self.redis, self.owner, self.backends))


__all__ = [
    "Advertiser",
    "advertise",
    "choose_backend",
    "local_readiness",
    "parse_backends",
    "queue_name",
    "ready_here",
    "serving",
    "withdraw",
]
