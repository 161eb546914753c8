"""Real audio bytes for reference uploads: a chord over a click track (written with soundfile)."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf


def wav_bytes(seconds: float = 3.0, sample_rate: int = 22050, bpm: float = 100.0) -> bytes:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    signal = sum(0.15 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))  # A major
    beat = 60.0 / bpm
    since_beat = np.mod(t, beat)
    signal = signal + 0.6 * np.sin(2 * np.pi * 60.0 * t) * np.exp(-since_beat * 30.0)  # a kick on every beat
    buffer = io.BytesIO()
    sf.write(
        buffer, (0.7 * signal / np.max(np.abs(signal))).astype(np.float32), sample_rate, format="WAV", subtype="PCM_16"
    )
    return buffer.getvalue()
