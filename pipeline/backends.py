"""Generator backends: what turns a resolved spec into audio before mixing.

The symbolic backend (the default) composes a score and renders one stem per role, so ampa can
hand a producer stems and MIDI. The interface also fits a backend that returns one stereo mix and
no stems (a remote text-to-audio service): then mixing passes the mix through, and mastering and
QA run as for any track.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.errors import BadInput
from pipeline.score import Arrangement
from pipeline.spec import Spec

StageCallback = Callable[[str], None]


@dataclass(frozen=True)
class Generated:
    sample_rate: int
    # role -> (2, n) float32; None for mix-only backends. May be a StemSpool (files mapped on read).
    stems: Mapping[str, np.ndarray] | None
    mix: np.ndarray | None  # (2, n) float32 when the backend gives a finished stereo mix
    arrangement: Arrangement | None  # the score, when there is one (MIDI, QA's bar length)

    def __post_init__(self) -> None:
        if (self.stems is None) == (self.mix is None):
            raise ValueError("a backend returns either stems or a mix")


class GeneratorBackend(Protocol):
    name: str

    def generate(self, spec: Spec, *, on_stage: StageCallback) -> Generated:
        """Make audio for a resolved spec; call on_stage(stage) as each stage starts."""
        ...


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
        from pipeline.render import find_soundfont, render_stems

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
        return Generated(sample_rate=self.sample_rate, stems=stems, mix=None, arrangement=arrangement)


def backend_for(
    name: str,
    *,
    soundfont: Path | None,
    render_workers: int,
    scratch: Path | None = None,
    keep_soundfont: bool = True,
) -> GeneratorBackend:
    if name == "symbolic":
        return SymbolicBackend(
            soundfont=soundfont, render_workers=render_workers, scratch=scratch, keep_soundfont=keep_soundfont
        )
    raise BadInput(f"unknown generator backend {name!r}; this installation has: symbolic")
