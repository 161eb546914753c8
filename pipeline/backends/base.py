"""The generator interface: what turns a resolved spec into audio before mixing.

The symbolic backend (the default) composes a score and renders one stem per role, so ampa can
hand a producer stems and MIDI. The interface also fits a backend that returns one stereo mix and
no stems (a remote text-to-audio service): then mixing passes the mix through, and mastering and
QA run as for any track.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

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
    notes: tuple[str, ...] = ()  # for report.json: what this backend could not do as usual (a missing sample bank)

    def __post_init__(self) -> None:
        if (self.stems is None) == (self.mix is None):
            raise ValueError("a backend returns either stems or a mix")


class GeneratorBackend(Protocol):
    name: str

    def generate(self, spec: Spec, *, on_stage: StageCallback) -> Generated:
        """Make audio for a resolved spec; call on_stage(stage) as each stage starts."""
        ...
