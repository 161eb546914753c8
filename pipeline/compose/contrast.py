"""How much the sections of an arrangement differ: measured on the score and on rendered audio.

An arrangement "breathes" when its quiet sections (intro, breakdown, outro) are clearly thinner and
softer than its big ones (chorus, drop, climax). Used by the tests and by
`benchmarks/arrangement_contrast.py`; nothing in the pipeline depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.compose.structure import section_kind
from pipeline.score import Arrangement, Section

QUIET_KINDS = ("intro", "breakdown", "outro")
BIG_KINDS = ("chorus", "drop", "climax", "solo", "head")


@dataclass(frozen=True)
class SectionProfile:
    name: str
    start_bar: int
    bars: int
    stems: tuple[str, ...]  # roles (fx aside) with at least one note starting in the section
    notes_per_bar: float  # every stem's onsets together
    drum_hits_per_bar: float
    mean_velocity: float

    @property
    def kind(self) -> str:
        return section_kind(self.name)


def section_profiles(arrangement: Arrangement) -> list[SectionProfile]:
    bar = arrangement.quarter_beats_per_bar
    out = []
    for section in arrangement.sections:
        start, end = section.start_bar * bar, (section.start_bar + section.bars) * bar
        stems, count, drums, velocities = [], 0, 0, []
        for track in arrangement.tracks:
            inside = [n for n in track.notes if start - 0.1 <= n.start < end - 0.1]
            if inside and track.role != "fx":  # a riser into the next section belongs to the transition
                stems.append(track.role)
            count += len(inside)
            drums += len(inside) if track.is_drum else 0
            velocities += [n.velocity for n in inside]
        out.append(
            SectionProfile(
                name=section.name,
                start_bar=section.start_bar,
                bars=section.bars,
                stems=tuple(stems),
                notes_per_bar=count / section.bars,
                drum_hits_per_bar=drums / section.bars,
                mean_velocity=float(np.mean(velocities)) if velocities else 0.0,
            )
        )
    return out


def section_levels_db(audio: np.ndarray, sample_rate: int, arrangement: Arrangement) -> list[float]:
    """RMS level (dBFS) of each section of a rendered track, channels together.

    The audio starts on bar 1 (the renderer's contract); a section's last beat is left out so a
    riser or a fill into the next section does not count as the section itself.
    """
    mono = np.asarray(audio, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=0) if mono.shape[0] <= 2 else mono.mean(axis=1)
    levels = []
    for section in arrangement.sections:
        a = round(_seconds(arrangement, section.start_bar) * sample_rate)
        end = _seconds(arrangement, section.start_bar + section.bars) - arrangement.seconds_per_beat
        b = round(end * sample_rate)
        chunk = mono[a : max(a + 1, b)]
        levels.append(float(10 * np.log10(np.mean(chunk**2) + 1e-12)))
    return levels


def _seconds(arrangement: Arrangement, bar: int) -> float:
    return bar * arrangement.bar_seconds


def quiet_and_big(sections: list[Section]) -> tuple[list[int], list[int]]:
    """Indices of the quiet sections and of the big ones (the fullest kind present if none is 'big')."""
    quiet = [i for i, s in enumerate(sections) if section_kind(s.name) in QUIET_KINDS]
    big = [i for i, s in enumerate(sections) if section_kind(s.name) in BIG_KINDS]
    if not big:
        top = max(s.energy for s in sections)
        big = [i for i, s in enumerate(sections) if s.energy >= top - 1e-9]
    return quiet, big
