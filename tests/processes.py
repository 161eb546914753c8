"""A command of ours run as a real child process in a test, its output read as it comes.

Reading as it comes matters: a child that logs more than a pipe holds (64 KiB) blocks on its next
write until someone reads, so a test that only reads at the end can stall the very process it is
waiting for. The output is kept, so a failure shows what the process said.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from tests.patience import patience


class ChildProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._chunks: list[bytes] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, *argv: str, env: dict[str, str], cwd: Path) -> ChildProcess:
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := await self.process.stdout.read(65536):
            self._chunks.append(chunk)

    @property
    def output(self) -> str:
        return b"".join(self._chunks).decode(errors="replace")

    def tail(self, chars: int = 4000) -> str:
        return self.output[-chars:]

    async def stop(self, sig: signal.Signals = signal.SIGINT, expected_s: float = 30.0) -> int:
        """Send `sig` and wait for the exit (and the last output); kill it and fail if it never comes."""
        if self.process.returncode is None:
            self.process.send_signal(sig)
        try:
            await asyncio.wait_for(self.process.wait(), patience(expected_s))
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"the process did not stop after {sig.name}; it said:\n{self.tail()}") from None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reader, patience())
        return self.process.returncode
