"""Checks on a reference track a user attached, before it becomes part of a job.

Both bots download the file themselves (each platform has its own rules for that), then hand
the bytes here: too large, not audio, corrupt, empty or too long is refused with a message the
user can act on; a good file is saved where the job system can read it.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".aiff", ".aif", ".m4a")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class AttachmentError(Exception):
    """A reference file that cannot be used; `user_message` says why and what to do."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


def reference_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / "ampa-references"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check_reference(
    data: bytes,
    filename: str,
    *,
    max_bytes: int,
    max_seconds: float,
    folder: Path | None = None,
) -> Path:
    """Validate an uploaded reference and save it; return the saved path."""
    shown = filename or "the file"
    if len(data) > max_bytes:
        raise AttachmentError(
            f"{shown} is {len(data) / 1e6:.1f} MB; references can be at most {max_bytes / 1e6:.0f} MB. "
            "Send a shorter excerpt (30–60 s is plenty) or a compressed MP3/OGG."
        )
    if not data:
        raise AttachmentError(f"{shown} is empty. Attach a WAV, FLAC, MP3 or OGG file.")
    suffix = Path(filename).suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        raise AttachmentError(
            f"{shown} doesn't look like audio. Attach a WAV, FLAC, MP3 or OGG file as the reference."
        )
    stem = _SAFE_NAME.sub("_", Path(filename).stem)[:40] or "reference"
    path = (folder or reference_dir()) / f"{uuid.uuid4().hex}-{stem}{suffix}"
    path.write_bytes(data)
    try:
        seconds = _duration_seconds(path)
    except Exception:  # any decoder error means the same thing to the user
        path.unlink(missing_ok=True)
        raise AttachmentError(
            f"I couldn't read {shown} as audio: it may be corrupt or in a format I don't know. "
            "Try exporting it again as WAV or MP3."
        ) from None
    if seconds <= 0.1:
        path.unlink(missing_ok=True)
        raise AttachmentError(f"{shown} has no audio in it. Attach a track with sound in it.")
    if seconds > max_seconds:
        path.unlink(missing_ok=True)
        raise AttachmentError(
            f"{shown} is {seconds / 60:.1f} minutes long; references can be at most "
            f"{max_seconds / 60:.0f} minutes. Send an excerpt of the part you like."
        )
    return path


def _duration_seconds(path: Path) -> float:
    from pedalboard.io import AudioFile  # imported here: bots start without loading the audio stack

    with AudioFile(str(path)) as audio:
        return audio.frames / audio.samplerate
