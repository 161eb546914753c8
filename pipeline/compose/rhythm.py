"""Time: the meter's grid, swing, humanisation, and the drum part (grooves, fills, crashes, rolls).

Positions are in quarter-note beats. The grid step is a 16th note (0.25 beats), so a 4/4 bar has
16 steps, 3/4 and 6/8 have 12, 7/8 has 14 and 5/4 has 20.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.compose.genres import (
    CLAP,
    CLOSED_HAT,
    CRASH,
    KICK,
    OPEN_HAT,
    RIDE,
    RIM,
    SNARE,
    TOM_FLOOR,
    TOM_HIGH,
    TOM_LOW,
    TOM_MID,
    DrumLine,
    GenreProfile,
)
from pipeline.score import Note

STEP = 0.25  # quarter beats per grid step
_VELOCITY = {"X": 118, "x": 100, "o": 76, "g": 42}
_HATS = {CLOSED_HAT, OPEN_HAT, RIDE, 44, 53, 82, 54}
_SNARES = {SNARE, CLAP, RIM, 40}


@dataclass(frozen=True)
class Grid:
    """Where the beats of one bar fall, on the 16th-note grid."""

    numerator: int
    denominator: int

    @property
    def steps(self) -> int:
        return self.numerator * 16 // self.denominator

    @property
    def bar_beats(self) -> float:
        return self.steps * STEP

    @property
    def pulse(self) -> int:
        """Steps per counted beat: a quarter in x/4, an eighth in x/8."""
        return 4 if self.denominator == 4 else 2

    @property
    def pulses(self) -> list[int]:
        return list(range(0, self.steps, self.pulse))

    @property
    def groups(self) -> list[int]:
        """Steps where the meter's strong beats (beat groups) start: 5/4 = 3+2, 6/8 = 3+3, 7/8 = 2+2+3."""
        return {
            (4, 4): [0, 8],
            (3, 4): [0],
            (5, 4): [0, 12],
            (6, 8): [0, 6],
            (7, 8): [0, 4, 8],
        }.get((self.numerator, self.denominator), [0])

    @property
    def backbeats(self) -> list[int]:
        return {
            (4, 4): [4, 12],
            (3, 4): [4, 8],
            (5, 4): [8, 16],
            (6, 8): [6],
            (7, 8): [8],
        }.get((self.numerator, self.denominator), [self.steps // 2])

    @property
    def half(self) -> int:
        """The half-time backbeat: one snare per bar near its middle."""
        return {(4, 4): 8, (3, 4): 8, (5, 4): 12, (6, 8): 6, (7, 8): 8}.get(
            (self.numerator, self.denominator), self.steps // 2
        )

    @property
    def offbeats(self) -> list[int]:
        """Eighth-note off-beats in x/4; the eighths that start no group in x/8."""
        if self.denominator == 4:
            return [p + 2 for p in self.pulses]
        return [p for p in self.pulses if p not in self.groups]


def swing(position: float, amount: float, unit: float) -> float:
    """Delay off-beat `unit`s (8ths or 16ths) by `amount` (0.5 = full triplet swing)."""
    if amount <= 0:
        return position
    index = round(position / unit)
    if abs(position - index * unit) < 1e-6 and index % 2 == 1:
        return position + amount * (2.0 / 3.0) * unit
    return position


class Humaniser:
    """Small, seeded timing and velocity deviations, as a player would make them."""

    def __init__(self, rng: random.Random, profile: GenreProfile, tempo_bpm: float, swing_amount: float) -> None:
        self.rng = rng
        self.timing_beats = profile.humanise_ms / 1000.0 * tempo_bpm / 60.0
        self.velocity_spread = profile.velocity_spread
        self.swing_amount = swing_amount
        self.swing_unit = profile.swing_unit

    def time(self, position: float) -> float:
        out = swing(position, self.swing_amount, self.swing_unit)
        if self.timing_beats > 0:
            out += max(-2.0, min(2.0, self.rng.gauss(0.0, 1.0))) * self.timing_beats * 0.5
        return max(0.0, out)

    def velocity(self, base: float) -> int:
        spread = self.rng.gauss(0.0, self.velocity_spread / 2.0) if self.velocity_spread else 0.0
        return int(max(1, min(127, round(base + spread))))


def groove_for(profile: GenreProfile, grid: Grid) -> tuple[DrumLine, ...]:
    """The genre's groove for this meter: its 4/4 pattern, or one built on the meter's beat groups.
    A drumless genre whose listener asked for drums anyway gets a plain backbeat."""
    if (grid.numerator, grid.denominator) == (4, 4) and profile.drums:
        return profile.drums
    kick = next((l.key for l in profile.drums if l.key in (KICK, 35)), KICK)
    snare = next((l.key for l in profile.drums if l.key in _SNARES), SNARE)
    hat = next((l.key for l in profile.drums if l.key in _HATS), CLOSED_HAT)
    n = grid.steps

    def line(steps: list[int], char: str = "x") -> str:
        return "".join(char if i in steps else "." for i in range(n))

    style = profile.drum_style if profile.drums else "backbeat"
    eighths = list(range(0, n, 2))
    if style == "four_on_floor":
        kicks = grid.pulses if grid.denominator == 4 else grid.groups
        return (
            DrumLine(kick, line(kicks, "X")),
            DrumLine(snare, line(grid.backbeats), 0.35),
            DrumLine(hat, line(grid.offbeats), 0.3),
            DrumLine(CLOSED_HAT, line(list(range(n)), "o"), 0.7),
        )
    if style in ("halftime", "one_drop"):
        kicks = [0] if style == "halftime" else [grid.half]
        rolls = list(range(n)) if profile.hat_rolls else eighths
        return (
            DrumLine(kick, line(kicks, "X")),
            DrumLine(kick, line(grid.groups[1:]), 0.6),
            DrumLine(snare, line([grid.half], "X")),
            DrumLine(hat, line(rolls, "x"), 0.3),
        )
    if style == "orchestral":
        return (
            DrumLine(kick, line(grid.groups, "x"), 0.5),
            DrumLine(TOM_LOW, line(grid.pulses), 0.65),
            DrumLine(snare, line(grid.backbeats), 0.9),
        )
    if style == "train":
        return (
            DrumLine(kick, line(grid.groups)),
            DrumLine(snare, "".join("X" if i in grid.backbeats else "g" for i in range(n))),
        )
    # backbeat, breakbeat, swing, shuffle, latin: kick on the groups, snare on the backbeats, hats on 8ths.
    pickup = [g - 2 for g in grid.groups[1:]]
    return (
        DrumLine(kick, line(grid.groups)),
        DrumLine(kick, line(pickup, "o"), 0.6),
        DrumLine(snare, line(grid.backbeats, "X" if style != "swing" else "g")),
        DrumLine(hat, line(eighths), 0.0 if style in ("swing", "shuffle") else 0.3),
    )


def kick_steps(lines: tuple[DrumLine, ...], energy: float, bar_index: int, grid: Grid) -> list[int]:
    """Steps of this bar where the kick plays (what the bass locks to)."""
    steps: set[int] = set()
    for line in lines:
        if line.key in (KICK, 35) and line.min_energy <= energy:
            steps.update(_hits(line, bar_index, grid))
    return sorted(steps)


def _hits(line: DrumLine, bar_index: int, grid: Grid) -> list[int]:
    return [step for step, _ in _pattern_hits(line, bar_index, grid)]


def _pattern_hits(line: DrumLine, bar_index: int, grid: Grid) -> list[tuple[int, str]]:
    """(step, accent character) of this bar's hits; two-bar patterns alternate by bar."""
    pattern = line.pattern
    if len(pattern) > grid.steps:
        offset = (bar_index % (len(pattern) // grid.steps)) * grid.steps
        pattern = pattern[offset : offset + grid.steps]
    return [(i, c) for i, c in enumerate(pattern[: grid.steps]) if c != "."]


@dataclass(frozen=True)
class DrumBar:
    start: float  # beat where the bar starts
    index: int  # bar number within its section
    energy: float
    fill: bool  # last bar before another section: play a fill
    crash: bool  # first bar of a section: crash on the one
    build: bool  # a build-up section: snare roll rising to the drop
    build_progress: float = 0.0  # 0..1 through the build
    thin: bool = False  # an outro winding down: hats on the beats only, no upper layers


def drum_bar(
    bar: DrumBar, lines: tuple[DrumLine, ...], profile: GenreProfile, grid: Grid, human: Humaniser, rng: random.Random
) -> list[Note]:
    """One bar of drums: the groove's lines that fit the energy, then fills, rolls and crashes."""
    notes: list[Note] = []
    # Fills take the bar's last beat, or its last two beats when the music is full.
    fill_from = grid.steps
    if bar.fill:
        fill_from = grid.steps - (8 if bar.energy > 0.6 and grid.steps >= 12 else 4)
    level = 0.72 + 0.3 * bar.energy
    for line in lines:
        if line.min_energy > bar.energy:
            continue
        if profile.hat_rolls and line.key == CLOSED_HAT:
            continue  # trap hats are written below with their rolls
        if bar.thin and line.min_energy > 0:
            continue
        for step, char in _pattern_hits(line, bar.index, grid):
            if step >= fill_from or (bar.thin and line.key in _HATS and step % grid.pulse):
                continue
            velocity = _VELOCITY.get(char, 100) * level
            if line.key in _HATS and step % 4 != 0:
                velocity *= 0.85
            notes.append(Note(human.time(bar.start + step * STEP), 0.1, line.key, human.velocity(velocity)))
    if profile.hat_rolls and bar.energy >= 0.3 and not bar.thin:
        notes += _trap_hats(bar, grid, human, rng, fill_from)
    if bar.build:
        notes += _build_roll(bar, grid, human)
        if profile.drum_style == "four_on_floor":
            notes += _open_hat_build(bar, grid, human)
    if bar.fill:
        notes += _fill(bar, profile, grid, human, fill_from)
    if bar.crash:
        notes.append(Note(bar.start, 1.0, CRASH, human.velocity(108)))
        if not any(n.pitch in (KICK, 35) and abs(n.start - bar.start) < 0.05 for n in notes):
            notes.append(Note(bar.start, 0.1, KICK if profile.drum_style != "orchestral" else 35, human.velocity(105)))
    return notes


def _trap_hats(bar: DrumBar, grid: Grid, human: Humaniser, rng: random.Random, fill_from: int) -> list[Note]:
    """Straight 16th hats with a roll (32nds or 16th triplets) on one beat of most bars."""
    notes: list[Note] = []
    roll_beat = rng.choice(grid.pulses[1:]) if rng.random() < 0.6 and len(grid.pulses) > 1 else None
    for pulse in grid.pulses:
        if pulse >= fill_from:
            break
        span = grid.pulse * STEP
        if pulse == roll_beat:
            # 16th triplets, 32nds, or a lazy 8th-note triplet: the three rolls of a trap hat part.
            count = rng.choice((6, 8, 3)) if grid.pulse == 4 else 4
        else:
            count = grid.pulse
        for i in range(count):
            pos = bar.start + pulse * STEP + i * span / count
            accent = 96 if i == 0 else 70 + (i * 30 // count if pulse == roll_beat else 0)
            notes.append(Note(round(pos, 4), 0.08, CLOSED_HAT, human.velocity(accent)))
    return notes


def _build_roll(bar: DrumBar, grid: Grid, human: Humaniser) -> list[Note]:
    """A snare roll whose notes get denser and louder through a build-up."""
    division = 2 if bar.build_progress < 0.5 else 1 if bar.build_progress < 0.85 else 0.5
    notes = []
    count = int(grid.steps / division)
    for i in range(count):
        progress = bar.build_progress + (i / count) * 0.15
        notes.append(Note(bar.start + i * division * STEP, 0.08, SNARE, human.velocity(50 + 70 * min(1.0, progress))))
    return notes


def _open_hat_build(bar: DrumBar, grid: Grid, human: Humaniser) -> list[Note]:
    """House and techno builds: open hats on the off-beats, then on every 8th, then 16th closed hats
    on top, louder as the drop nears."""
    notes = []
    offbeats = set(grid.offbeats)
    for step in range(grid.steps):
        position = bar.start + step * STEP
        level = 60 + 50 * bar.build_progress
        if step in offbeats or (bar.build_progress >= 0.5 and step % 2 == 0):
            notes.append(Note(human.time(position), 0.2, OPEN_HAT, human.velocity(level)))
        elif bar.build_progress >= 0.75:
            notes.append(Note(human.time(position), 0.08, CLOSED_HAT, human.velocity(level * 0.8)))
    return notes


def _fill(bar: DrumBar, profile: GenreProfile, grid: Grid, human: Humaniser, fill_from: int) -> list[Note]:
    count = grid.steps - fill_from
    if profile.drum_voice in ("edrums", "chipdrums") or profile.drum_style in ("halftime", "four_on_floor"):
        keys = [SNARE] * count  # a drum-machine snare run
    elif profile.drum_style == "swing":
        keys = [SNARE if i % 3 else TOM_MID for i in range(count)]
    else:
        toms = [TOM_HIGH, TOM_HIGH, TOM_MID, TOM_MID, TOM_LOW, TOM_LOW, TOM_FLOOR, TOM_FLOOR]
        keys = [SNARE] * max(0, count - len(toms)) + toms[-count:]
    notes = []
    for i, key in enumerate(keys):
        velocity = 70 + 45 * (i + 1) / count
        notes.append(Note(human.time(bar.start + (fill_from + i) * STEP), 0.1, key, human.velocity(velocity)))
    notes.append(
        Note(
            human.time(bar.start + fill_from * STEP),
            0.1,
            KICK if profile.drum_style != "orchestral" else 35,
            human.velocity(90),
        )
    )
    return notes
