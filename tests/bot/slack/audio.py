"""Real audio bytes for reference uploads (a short chord, written with soundfile)."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf


def wav_bytes(seconds: float = 3.0, sample_rate: int = 22050) -> bytes:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    signal = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))  # A major
    buffer = io.BytesIO()
    sf.write(buffer, signal.astype(np.float32), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
