"""Reading a reference file, and refusing the ones that cannot be read.

File-level problems (missing, empty, over the size or duration cap, not audio ampa can decode)
raise `BadReference`: the user must send another file. Content-level problems (silence, noise,
speech, too short to hear a beat) are not errors: see `pipeline.reference.content`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.errors import BadReference

SUPPORTED = "WAV, FLAC, MP3 or OGG"


def read_reference(path: Path, *, max_seconds: float, max_bytes: int) -> tuple[np.ndarray, int]:
    """Channels-first float32 audio and its sample rate; BadReference for anything unusable."""
    if not path.exists():
        raise BadReference(f"The reference file {path.name} does not exist: check the path.")
    if not path.is_file():
        raise BadReference(f"The reference {path.name} is not a file: give an audio file ({SUPPORTED}).")
    size = path.stat().st_size
    if size == 0:
        raise BadReference(f"The reference file {path.name} is empty (0 bytes): send a {SUPPORTED} file.")
    if size > max_bytes:
        raise BadReference(
            f"The reference file {path.name} is too large ({size / 1e6:.0f} MB, limit {max_bytes / 1e6:.0f} MB): "
            "send a shorter or compressed (MP3/OGG) version."
        )
    try:
        audio, sample_rate = _read_with_pedalboard(path, max_seconds)
    except BadReference:
        raise
    except Exception:  # noqa: BLE001 - any decoder failure: try the other reader
        try:
            audio, sample_rate = _read_with_soundfile(path, max_seconds)
        except BadReference:
            raise
        except Exception:  # noqa: BLE001 - neither decoder understood it
            raise BadReference(
                f"The reference file {path.name} is not audio ampa can read: send a {SUPPORTED} file."
            ) from None
    if not np.all(np.isfinite(audio)):
        raise BadReference(f"The reference file {path.name} holds broken samples (NaN or infinite): export it again.")
    return audio, sample_rate


def _too_long(path: Path, seconds: float, max_seconds: float) -> BadReference:
    return BadReference(
        f"The reference file {path.name} is too long ({seconds / 60:.1f} min, limit {max_seconds / 60:.0f} min): "
        "send an excerpt."
    )


def _read_with_pedalboard(path: Path, max_seconds: float) -> tuple[np.ndarray, int]:
    from pedalboard.io import AudioFile

    with AudioFile(str(path)) as f:
        sample_rate = int(f.samplerate)
        frames = int(f.frames)
        if frames / max(sample_rate, 1) > max_seconds:
            raise _too_long(path, frames / sample_rate, max_seconds)
        audio = f.read(frames)
    return np.asarray(audio, dtype=np.float32), sample_rate


def _read_with_soundfile(path: Path, max_seconds: float) -> tuple[np.ndarray, int]:
    import soundfile

    info = soundfile.info(str(path))
    if info.frames / max(info.samplerate, 1) > max_seconds:
        raise _too_long(path, info.frames / info.samplerate, max_seconds)
    data, sample_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return data.T.copy(), int(sample_rate)
