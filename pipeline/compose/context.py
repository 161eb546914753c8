"""What every part writer needs to know about the piece being composed, in one place."""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field

from pipeline.compose.genres import DrumLine, GenreProfile
from pipeline.compose.harmony import ChordSlot
from pipeline.compose.rhythm import Grid, Humaniser
from pipeline.compose.theory import Scale
from pipeline.score import Section


@dataclass
class Context:
    profile: GenreProfile
    scale: Scale
    grid: Grid
    sections: list[Section]
    slots: list[ChordSlot]
    groove: tuple[DrumLine, ...]
    tempo_bpm: float
    rng: random.Random
    human: Humaniser
    moods: tuple[str, ...] = ()
    _starts: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._starts = [s.start for s in self.slots]

    @property
    def bar_beats(self) -> float:
        return self.grid.bar_beats

    @property
    def total_beats(self) -> float:
        return sum(s.bars for s in self.sections) * self.bar_beats

    def slot_at(self, beat: float) -> ChordSlot:
        index = max(0, bisect.bisect_right(self._starts, beat + 1e-6) - 1)
        return self.slots[index]

    def next_slot(self, slot: ChordSlot) -> ChordSlot | None:
        index = bisect.bisect_right(self._starts, slot.start + 1e-6)
        return self.slots[index] if index < len(self.slots) else None

    def changes_in(self, start: float, end: float) -> list[float]:
        """Beats strictly after `start` and before `end` where a new chord starts."""
        lo = bisect.bisect_right(self._starts, start + 1e-6)
        hi = bisect.bisect_left(self._starts, end - 1e-6)
        return self._starts[lo:hi]

    def bar_start(self, section: Section, bar: int) -> float:
        return (section.start_bar + bar) * self.bar_beats

    def tonic_near(self, center: int) -> int:
        """The MIDI pitch of the tonic nearest `center`."""
        base = center - ((center - self.scale.tonic_pc) % 12)
        return base if center - base <= 6 else base + 12
