"""The generator interface: what turns a resolved spec into audio before mixing.

The symbolic backend (the default) composes a score and renders one stem per role, so ampa can
hand a producer stems and MIDI. The interface also fits a backend that returns one stereo mix and
no stems (a remote text-to-audio service): then mixing passes the mix through, and mastering and
QA run as for any track.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

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
    # What a neural backend did, for report.json's "generation": model, seeds, credits, requests,
    # corrections. Never a secret.
    report: Mapping[str, Any] | None = None
    # QA checks to report without failing on: what the backend tried and could not guarantee
    # (a take whose tempo could not be corrected is delivered, and the job says why).
    advisory: frozenset[str] = field(default_factory=frozenset)
    notes: tuple[str, ...] = ()  # plain-language notes for the user

    def __post_init__(self) -> None:
        if (self.stems is None) == (self.mix is None):
            raise ValueError("a backend returns either stems or a mix")


class GeneratorBackend(Protocol):
    name: str

    def generate(self, spec: Spec, *, on_stage: StageCallback) -> Generated:
        """Make audio for a resolved spec; call on_stage(stage) as each stage starts."""
        ...
