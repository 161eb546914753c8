"""Stem work on another core: forked children writing into shared memory.

Mixing cannot use a second core from threads: pedalboard holds the GIL while a plugin processes
(measured: two threads running a Reverb each take as long as running them one after the other). A
forked child can: it shares the parent's memory copy-on-write and writes its stems straight into
shared memory the parent reads back (an anonymous shared mapping, or a StemSpool's file), so nothing
is copied or pickled. (Rendering needs none of this: FluidSynth and numpy release the GIL, so the
renderer uses threads.)

A child does only pure computation: everything that logs or takes a lock is done by the parent before
forking, because a lock another thread held at fork time stays locked forever in the child. The
child leaves with os._exit (no atexit handlers, no stdio flush). If it fails or overruns its
deadline, the parent kills it and does its items itself, so the result is always the same, only
slower.

Work is shared dynamically: items sit in a `WorkQueue` (heaviest first) that this process and the
children pull from, so a slow item (a layered pad can cost ten times a bass) never leaves one core
idle while the other still has a queue.
"""

from __future__ import annotations

import logging
import mmap
import multiprocessing
import os
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

POLL_SECONDS = 0.005


def can_fork() -> bool:
    return hasattr(os, "fork") and hasattr(os, "waitpid")


def shared_stem(n_samples: int) -> np.ndarray:
    """A zeroed float32 (2, n) array in anonymous shared memory: a forked child's writes are visible here."""
    buffer = mmap.mmap(-1, max(1, 2 * n_samples * 4))  # MAP_SHARED | MAP_ANONYMOUS, zero-filled
    return np.frombuffer(buffer, dtype=np.float32, count=2 * n_samples).reshape(2, n_samples)


@dataclass(eq=False)
class Child:
    pid: int
    started: float
    reaped: bool = False  # once reaped, the pid may belong to another process: never signal it again


def start_child(work: Callable[[], None]) -> Child | None:
    """Fork a process that runs `work()` and exits 0 (1 on any exception). None if fork failed."""
    try:
        with warnings.catch_warnings():
            # Python 3.12 warns about fork() in a process with threads; the child here never
            # touches a lock, logging or I/O (see the module docstring).
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError as exc:
        log.warning("could not fork a render process (%s); rendering in this process", exc)
        return None
    if pid == 0:  # the child
        code = 1
        try:
            work()
            code = 0
        except BaseException:  # noqa: BLE001, S110 - the parent re-renders and reports
            pass
        finally:
            os._exit(code)
    return Child(pid=pid, started=time.monotonic())


def wait_child(child: Child, timeout: float) -> bool:
    """True if the child finished its work successfully within `timeout` seconds of starting."""
    deadline = child.started + timeout
    while True:
        pid, status = os.waitpid(child.pid, os.WNOHANG)
        if pid == child.pid:
            child.reaped = True
            ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
            if not ok:
                log.warning("a render process failed (status %d); rendering its stems here", status)
            return ok
        if time.monotonic() > deadline:
            log.warning("a render process overran %.0f s; stopping it and rendering its stems here", timeout)
            stop_child(child)
            return False
        time.sleep(POLL_SECONDS)


def stop_child(child: Child) -> None:
    """Kill and reap the child unless it was reaped already (after an error here, or a deadline)."""
    if child.reaped:
        return
    try:
        os.kill(child.pid, signal.SIGKILL)  # a zombie (exited, not yet reaped) keeps its pid: safe
        os.waitpid(child.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    child.reaped = True


class WorkQueue:
    """Hands out item indices 0..count-1, each exactly once, to this process and its forked children.

    State lives in anonymous shared memory, guarded by a process-shared semaphore created just
    before forking (so no other thread can be holding it at fork time).
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._lock = multiprocessing.get_context("fork").Lock()
        # [0]: next index to hand out; [1 + i]: pid that claimed item i, negated once it is done.
        self._state = np.frombuffer(mmap.mmap(-1, 8 * (count + 1)), dtype=np.int64)

    def claim(self) -> int | None:
        with self._lock:
            index = int(self._state[0])
            if index >= self.count:
                return None
            self._state[0] = index + 1
            self._state[1 + index] = os.getpid()
        return index

    def done(self, index: int) -> None:
        self._state[1 + index] = -os.getpid()

    def unfinished_by(self, pid: int) -> list[int]:
        """Items `pid` claimed but did not finish (it crashed or was stopped)."""
        return [i for i in range(self.count) if int(self._state[1 + i]) == pid]

    def drain(self, work: Callable[[int], None]) -> None:
        """Claim and do items until none are left."""
        while (index := self.claim()) is not None:
            work(index)
            self.done(index)


def children_for(count: int, workers: int) -> int:
    """How many children SharedWork forks for `count` items on `workers` processes."""
    return max(0, min(workers, count) - 1) if can_fork() else 0


class SharedWork:
    """Items 0..count-1 shared between this process and `workers - 1` children, forked on creation.

    Create it before starting any thread (see the module docstring). The children run
    `work_in_child(index)`; this process takes its share with drain(work), then finish() waits for
    the children and runs `redo(index)` for every item one of them did not finish (it failed, or
    overran `timeout` seconds). Leaving the `with` block stops any child still running.
    """

    def __init__(self, count: int, work_in_child: Callable[[int], None], *, workers: int) -> None:
        self.queue = WorkQueue(count)
        forks = (start_child(lambda: self.queue.drain(work_in_child)) for _ in range(children_for(count, workers)))
        self.children = [c for c in forks if c]

    def drain(self, work: Callable[[int], None]) -> None:
        self.queue.drain(work)

    def finish(self, timeout: float, redo: Callable[[int], None]) -> None:
        for child in self.children:
            if not wait_child(child, timeout=timeout):
                for index in self.queue.unfinished_by(child.pid):
                    redo(index)

    def __enter__(self) -> SharedWork:
        return self

    def __exit__(self, *_: object) -> None:
        for child in self.children:
            stop_child(child)  # no-op for children already reaped


def share_work(count: int, work: Callable[[int], None], *, workers: int, timeout: float) -> None:
    """Run work(0) .. work(count - 1), each once, on this process and `workers - 1` forked children.

    `work` must write its results into shared memory and be safe in a fork (see the module
    docstring). Items a child did not finish are done here afterwards.
    """
    with SharedWork(count, work, workers=workers) as shared:
        shared.drain(work)
        shared.finish(timeout, redo=work)
