"""Where finished files live. `ArtifactStore` is the seam for an object store later; the filesystem
store lays files out as <root>/<job_id>/<execution attempt>/ and makes them appear atomically: the
pipeline writes into a staging folder on the same filesystem, which is renamed into place only when
the whole set is complete, so a reader never sees half a result and a killed worker leaves only a
staging folder behind (removed by the next attempt, see `clear`)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Protocol


class ArtifactStore(Protocol):
    def staging_dir(self, job_id: str, attempt: int) -> Path: ...

    def commit(self, job_id: str, attempt: int, staging: Path, files: dict[str, Path]) -> dict[str, str]: ...

    def discard(self, job_id: str, attempt: int) -> None: ...

    def clear(self, job_id: str) -> None: ...

    def resolve(self, job_id: str, stored: str) -> Path | None: ...


class FilesystemArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()

    def job_dir(self, job_id: str) -> Path:
        if not job_id or "/" in job_id or job_id.startswith("."):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.root / job_id

    def staging_dir(self, job_id: str, attempt: int) -> Path:
        path = self.job_dir(job_id) / f".staging-{attempt}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    def commit(self, job_id: str, attempt: int, staging: Path, files: dict[str, Path]) -> dict[str, str]:
        """Move the staging folder to its final place in one rename; return name -> final path."""
        final = self.job_dir(job_id) / str(attempt)
        if final.exists():  # a previous run of this very attempt number crashed after committing
            shutil.rmtree(final)
        os.replace(staging, final)
        out: dict[str, str] = {}
        for name, path in files.items():
            relative = Path(path).resolve().relative_to(staging.resolve())
            out[name] = str(final / relative)
        return out

    def discard(self, job_id: str, attempt: int) -> None:
        shutil.rmtree(self.job_dir(job_id) / str(attempt), ignore_errors=True)

    def clear(self, job_id: str) -> None:
        """Remove everything of a job that has no result yet: staging folders and attempt folders
        that a killed worker renamed into place but never recorded."""
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def resolve(self, job_id: str, stored: str) -> Path | None:
        """The stored path of an artifact, only if it is a file inside this job's folder."""
        try:
            path = Path(stored).resolve()
            path.relative_to(self.job_dir(job_id).resolve())
        except ValueError:
            return None
        return path if path.is_file() else None
