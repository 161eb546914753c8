"""Stems kept in files while a job runs, and mapped into memory only while something reads them.

A 2-minute track's six stems are ~250 MB of float32, and a job has two sets: the dry stems (read by
the mixer, then again only if QA asks for a remix) and the processed ones (read by QA's key and
stem checks and by the export). Held in memory, both sets would sit beside the mix and the master's
working copies all through mastering, QA and export. Spooled, each is in memory only while it is
read. The dry stems are rendered straight into shared file mappings (forked render children write
into the same pages), so spooling costs no extra copy; the kernel keeps the pages cached, so a
re-read costs no disk read either.

    spool = StemSpool(folder, n_samples)
    out = spool.allocate("bass")   # writable (2, n) float32, zero-filled, shared with forks
    ...render into out...
    spool.order(["drums", "bass"])
    spool["bass"]                  # a fresh read-only mapping of the file
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np


SCRATCH_PREFIX = "ampa-stems-"
STALE_SCRATCH_S = 6 * 3600.0  # far beyond any job's run time (the job timeout is minutes)


def remove_stale_scratch(parent: Path | None = None, older_than_s: float = STALE_SCRATCH_S) -> int:
    """Remove the scratch folders of jobs whose process was killed before it could clean up.

    Only folders named like ours and untouched for `older_than_s` go: another process's running job
    is never that old. Returns how many were removed.
    """
    parent = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    cutoff = time.time() - older_than_s
    removed = 0
    try:
        candidates = list(parent.glob(f"{SCRATCH_PREFIX}*"))
    except OSError:
        return 0
    for folder in candidates:
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


class StemSpool(Mapping[str, np.ndarray]):
    """role -> (2, n) float32 stem, each stored in `<folder>/<role>.f32`."""

    def __init__(self, folder: Path, n_samples: int) -> None:
        if n_samples < 1:
            raise ValueError("a spooled stem needs at least one sample")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.n_samples = n_samples
        self._roles: list[str] = []

    def _path(self, role: str) -> Path:
        return self.folder / f"{role}.f32"

    def allocate(self, role: str) -> np.ndarray:
        """A zero-filled writable stem backed by its file (replacing an earlier take's).

        The file's blocks are reserved before it is mapped: writing into a mapped page the disk has
        no room for kills the process with SIGBUS, where a full disk must only fail the job.
        Raises ScratchSpaceFull with what to do.
        """
        from pipeline.errors import ScratchSpaceFull

        path = self._path(role)
        size = 2 * self.n_samples * np.dtype(np.float32).itemsize
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.posix_fallocate(descriptor, 0, size)
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # a filesystem without fallocate
                    raise
                os.ftruncate(descriptor, size)
            finally:
                os.close(descriptor)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise ScratchSpaceFull(
                f"There is no room for this track's stems ({size / 1e6:.0f} MB for the {role} stem) in "
                f"{self.folder.parent}: {exc.strerror or exc}. Free some disk space, choose a shorter "
                "track, or point AMPA_SCRATCH_DIR at a disk with room."
            ) from exc
        if role not in self._roles:
            self._roles.append(role)
        # MAP_SHARED: a forked child's writes land in the same pages the parent reads.
        return np.memmap(path, dtype=np.float32, mode="r+", shape=(2, self.n_samples))

    def order(self, roles: Iterable[str]) -> None:
        """Set the iteration order (the mixer and the stem files follow it)."""
        roles = list(roles)
        if sorted(roles) != sorted(self._roles):
            raise ValueError(f"order {roles} does not match the spooled roles {self._roles}")
        self._roles = roles

    def __getitem__(self, role: str) -> np.ndarray:
        if role not in self._roles:
            raise KeyError(role)
        # Not cached: the mapping lives only as long as its reader holds it.
        return np.memmap(self._path(role), dtype=np.float32, mode="r", shape=(2, self.n_samples))

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._roles))

    def __len__(self) -> int:
        return len(self._roles)

    def __repr__(self) -> str:
        return f"StemSpool({self.folder}, roles={self._roles}, n_samples={self.n_samples})"
