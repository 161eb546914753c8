"""ampa's own arrangement, rendered and mixed, as the guide a neural model follows.

The guided modes (Stable Audio's audio-to-audio, MusicGen's melody model) start from this: the
symbolic composer fixes the tempo, key, form and length exactly, the model re-imagines the sound.
The arrangement is also what the job delivers as MIDI.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.backends.base import StageCallback
from pipeline.score import Arrangement
from pipeline.spec import Spec

GUIDE_PEAK = 10 ** (-1 / 20)  # -1 dBFS: loud enough to carry, never clipped in 16-bit


@dataclass(frozen=True)
class Guide:
    arrangement: Arrangement
    mix: np.ndarray  # (2, n) float32
    sample_rate: int

    def chunk(self, start_s: float, seconds: float) -> np.ndarray:
        """`seconds` of the mix from `start_s`, padded with silence past its end."""
        start = int(round(start_s * self.sample_rate))
        length = int(round(seconds * self.sample_rate))
        out = np.zeros((2, length), np.float32)
        piece = self.mix[:, start : start + length]
        out[:, : piece.shape[1]] = piece
        return out


def render_guide(spec: Spec, config, *, scratch: Path | None, on_stage: StageCallback) -> Guide:
    """Compose and render with the symbolic backend, then mix the stems with the genre's chains."""
    from pipeline.backends.symbolic import SymbolicBackend
    from pipeline.mixing import MixParams, mix_stems

    generated = SymbolicBackend.from_config(config, scratch=scratch).generate(spec, on_stage=on_stage)
    assert generated.stems is not None and generated.arrangement is not None
    params = MixParams(stem_offsets_db=dict(spec.mix), workers=config.render_workers)
    mix = mix_stems(generated.stems, generated.arrangement, spec, params, sample_rate=generated.sample_rate).mix
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    if peak > 0:
        mix = mix * np.float32(GUIDE_PEAK / peak)
    return Guide(arrangement=generated.arrangement, mix=np.asarray(mix, np.float32), sample_rate=generated.sample_rate)


def wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV in memory (what an upload carries: half the size of 32-bit, transparent here)."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(audio, -1.0, 1.0).T, sample_rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()
