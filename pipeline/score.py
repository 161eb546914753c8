"""The symbolic score the composer writes and the renderer plays: the contract between them.

Time is in beats (quarter notes) from the start of the piece; the tempo is constant, so a beat
lasts exactly 60 / tempo_bpm seconds and every event lands on an exact sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Rendered audio is the arrangement's bars plus this much room for releases and reverb tails.
# The composer counts it in, so the file a user gets is within one bar of the length they asked for.
RELEASE_TAIL_S = 1.0


@dataclass(frozen=True)
class Note:
    start: float  # beats from the start of the piece (humanised offsets included)
    duration: float  # beats
    pitch: int  # MIDI note number; for drum tracks, the General MIDI drum key
    velocity: int  # 1..127


@dataclass(frozen=True)
class Section:
    name: str  # intro, verse, chorus, bridge, breakdown, drop, outro, ...
    start_bar: int
    bars: int
    energy: float  # 0..1: how full this section is


@dataclass
class Track:
    """One stem's worth of notes."""

    role: str  # a pipeline.styles.ROLES entry; also the stem's name
    instrument: str  # vocabulary slug (e.g. "synth-lead") or "drums"
    program: int  # General MIDI program 0..127 used when rendered from the SoundFont
    voice: str = "sf2"  # "sf2" or a built-in synth voice name (supersaw, analog_bass, bass_808, pad, edrums, ...)
    is_drum: bool = False
    pan: float = 0.0  # -1 left .. +1 right
    notes: list[Note] = field(default_factory=list)
    # Controller-style automation per bar could go here later; keep the renderer's contract small.


@dataclass
class Arrangement:
    tempo_bpm: float
    beats_per_bar: int  # in quarter-note beats (6/8 -> 3.0 quarter beats is expressed via beat_unit)
    beat_unit: int  # denominator of the time signature (4 or 8)
    key_tonic_pc: int  # 0 = C
    mode: str
    bars: int
    sections: list[Section]
    tracks: list[Track]
    seed: int
    genre: str
    chords: list[tuple[float, list[int]]] = field(default_factory=list)  # (start beat, MIDI pitches) per chord

    @property
    def quarter_beats_per_bar(self) -> float:
        """Length of one bar in quarter-note beats (6/8 -> 3.0, 7/8 -> 3.5, 5/4 -> 5.0)."""
        return self.beats_per_bar * 4.0 / self.beat_unit

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo_bpm

    @property
    def bar_seconds(self) -> float:
        return self.quarter_beats_per_bar * self.seconds_per_beat

    @property
    def duration_s(self) -> float:
        """Musical length: exactly `bars` bars. Rendered audio adds a short release tail."""
        return self.bars * self.bar_seconds

    def beat_to_seconds(self, beat: float) -> float:
        return beat * self.seconds_per_beat

    def track(self, role: str) -> Track | None:
        return next((t for t in self.tracks if t.role == role), None)
