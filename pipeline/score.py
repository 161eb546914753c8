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


@dataclass(frozen=True)
class Automation:
    """A section-level move for the mixer: one stem's (or the whole mix's) parameter ramping over a span.

    Targets (values in their natural unit):
      "lowpass": cutoff in Hz of a low-pass filter on the stem (20000 = open). Builds open it, intros
                 of club genres start filtered, breakdowns close it.
      "gain":    level in dB added to the stem (0 = as mixed). Outros fade, builds swell.
    Between `start` and `end` (beats) the value moves from `begin` to `finish`, linearly in dB for
    gain and in octaves for a cutoff; before `start` and after `end` the lane does nothing, except
    that a lane reaching the piece's last barline holds its final value through the release tail
    (as the last controller value in song.mid does). The mixer plays these lanes (pipeline.sound_design)
    and derives no moves of its own: a lane must say the whole move, holds included.
    """

    role: str  # a stem role, or "mix" for the whole bus
    target: str  # "lowpass" | "gain"
    start: float  # beats
    end: float  # beats
    begin: float
    finish: float

    def value_at(self, beat: float) -> float:
        """The lane's value at `beat` (inside the span; clamped to its ends outside)."""
        if self.end <= self.start:
            return self.finish
        t = min(1.0, max(0.0, (beat - self.start) / (self.end - self.start)))
        if self.target == "lowpass":
            return float(self.begin * (self.finish / self.begin) ** t)  # even octaves per beat
        return self.begin + (self.finish - self.begin) * t


@dataclass(frozen=True)
class Marker:
    """A transition event the mixer and the track page can show or act on.

    kinds: "fill" (a drum fill ends here), "crash" (a crash on the downbeat after a fill),
    "riser" (a reverse swell peaks here), "drop" (the full arrangement lands), "breakdown" (the beat
    drops out), "filter_open" (a build's filter reaches fully open).
    """

    beat: float
    kind: str
    section: int  # index of the section that starts (or is) here


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
    # Transitions in the score for the mixer (filter opens, fades) and markers (fills, crashes, risers, drops).
    automation: list[Automation] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)

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
