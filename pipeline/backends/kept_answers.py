"""Answers a paid generator already gave for one job, kept on disk until the job ends.

A worker killed after Stability answered (while correcting, mixing or mastering) would otherwise
make the next worker pay for the same audio again. The job system gives each job a folder on the
data volume every worker shares (BackendConfig.answer_dir); the client files each successful answer
there under a hash of exactly what it sent (fields and init audio: the same seed renders the same
guide, so a retry sends the same bytes) and reuses it instead of asking again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.backends.stability import StabilityAnswer, StabilityRequest


class KeptAnswers:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, request: StabilityRequest) -> StabilityAnswer | None:
        from pipeline.backends.stability import StabilityAnswer

        key = _key(request)
        meta, audio = self.folder / f"{key}.json", self.folder / f"{key}.audio"
        if not meta.is_file() or not audio.is_file():
            return None
        about = json.loads(meta.read_text())
        return StabilityAnswer(audio=audio.read_bytes(), **about)

    def put(self, request: StabilityRequest, answer: StabilityAnswer) -> None:
        key = _key(request)
        self.folder.mkdir(parents=True, exist_ok=True)
        about = {
            "content_type": answer.content_type,
            "seed": answer.seed,
            "finish_reason": answer.finish_reason,
            "credits": answer.credits,
        }
        # The description last: an answer counts as kept only once both files are whole.
        _write(self.folder / f"{key}.audio", answer.audio)
        _write(self.folder / f"{key}.json", json.dumps(about).encode())


def _key(request: StabilityRequest) -> str:
    fields, files = request.form()
    digest = hashlib.sha256(request.endpoint.encode())
    for name in sorted(fields):
        digest.update(f"\0{name}={fields[name]}".encode())
    for name in sorted(files):
        digest.update(f"\0{name}:".encode() + files[name][1])
    return digest.hexdigest()[:32]


def _write(path: Path, data: bytes) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)
