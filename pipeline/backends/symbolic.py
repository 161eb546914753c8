"""The symbolic backend (the default): compose a score, render one stem per role.

Because it owns the score, it is the one backend that can hand a producer stems and MIDI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.backends.base import Generated, StageCallback
from pipeline.spec import Spec


@dataclass
class SymbolicBackend:
    """Compose with the symbolic composer, render with a SoundFont and built-in synth voices."""

    soundfont: Path | None = None
    sample_rate: int = 44100
    render_workers: int = 2
    scratch: Path | None = None  # render the stems into files here (see pipeline.spool)
    keep_soundfont: bool = True  # False: free the decoded SoundFont after each render
    name: str = "symbolic"

    def generate(self, spec: Spec, *, on_stage: StageCallback) -> Generated:
        from pipeline.compose import compose
        from pipeline.render import fallback_notes, find_soundfont, render_stems

        soundfont = find_soundfont(self.soundfont)  # fail before composing if it is missing
        on_stage("composing")
        arrangement = compose(spec)
        on_stage("rendering")
        stems = render_stems(
            arrangement,
            soundfont=soundfont,
            sample_rate=self.sample_rate,
            workers=self.render_workers,
            spool=self.scratch,
            keep_soundfont=self.keep_soundfont,
        )
        voices = {track.voice for track in arrangement.tracks if track.notes}
        return Generated(
            sample_rate=self.sample_rate,
            stems=stems,
            mix=None,
            arrangement=arrangement,
            notes=tuple(fallback_notes(soundfont, voices)),
        )

    @classmethod
    def from_config(cls, config, *, scratch: Path | None = None) -> SymbolicBackend:
        return cls(
            soundfont=config.soundfont,
            sample_rate=config.sample_rate,
            render_workers=config.render_workers,
            scratch=scratch,
            keep_soundfont=config.keep_soundfont,
        )
