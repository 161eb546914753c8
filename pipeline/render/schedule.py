"""Beats to samples: where every note of a track starts and stops, exactly.

A note at beat b starts at sample round(b * 60 / tempo * sample_rate), independently of every other
event, so nothing accumulates rounding error and all stems stay locked to each other.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.score import RELEASE_TAIL_S, Arrangement, Track

log = logging.getLogger(__name__)

TAIL_SECONDS = RELEASE_TAIL_S  # after the last bar: room for releases and the mixer's reverb tails


@dataclass(frozen=True)
class Timeline:
    sample_rate: int
    seconds_per_beat: float
    n_samples: int  # the stem length: musical length + tail

    @classmethod
    def for_arrangement(cls, arrangement: Arrangement, sample_rate: int) -> Timeline:
        return cls(
            sample_rate=sample_rate,
            seconds_per_beat=arrangement.seconds_per_beat,
            n_samples=stem_length(arrangement, sample_rate),
        )

    def sample_at(self, beat: float) -> int:
        return round(beat * self.seconds_per_beat * self.sample_rate)


def stem_length(arrangement: Arrangement, sample_rate: int) -> int:
    """round(duration_s * sample_rate) + round(TAIL_SECONDS * sample_rate): every stem has this length."""
    return round(arrangement.duration_s * sample_rate) + round(TAIL_SECONDS * sample_rate)


@dataclass(frozen=True)
class ScheduledNote:
    index: int  # position in Track.notes (seeds the note's noise)
    onset: int  # sample
    gate: int  # samples the key is held (>= 1)
    pitch: int
    velocity: int  # clamped to 1..127
    beat: float


def schedule_track(track: Track, timeline: Timeline) -> list[ScheduledNote]:
    """The track's playable notes in onset order. Notes that cannot sound are dropped, with a log line."""
    notes: list[ScheduledNote] = []
    dropped = 0
    for index, note in enumerate(track.notes):
        if not (0 <= note.pitch <= 127) or not math.isfinite(note.start) or not math.isfinite(note.duration):
            dropped += 1
            continue
        onset = max(0, timeline.sample_at(note.start))
        if onset >= timeline.n_samples:
            dropped += 1
            continue
        end = timeline.sample_at(note.start + max(note.duration, 0.0))
        notes.append(
            ScheduledNote(
                index=index,
                onset=onset,
                gate=max(1, end - onset),
                pitch=int(note.pitch),
                velocity=max(1, min(127, int(note.velocity))),
                beat=max(0.0, float(note.start)),
            )
        )
    if dropped:
        log.warning("track %r: %d note(s) out of range were not rendered", track.role, dropped)
    notes.sort(key=lambda n: (n.onset, n.pitch, n.index))
    return notes


def cut_samples(notes: list[ScheduledNote], *, mono: bool, chokes: Mapping[int, frozenset[int]]) -> list[int | None]:
    """For each note, the sample where it must fall silent, or None to let it ring out.

    A monophonic voice stops a note when the next one starts (last-note priority); a choke group stops
    a note when one of its choking keys is hit (a closed hi-hat silences the open one).
    """
    cuts: list[int | None] = [None] * len(notes)
    if mono:
        following: int | None = None  # onset of the next later note, scanning backwards
        for i in range(len(notes) - 1, -1, -1):
            if i + 1 < len(notes) and notes[i + 1].onset > notes[i].onset:
                following = notes[i + 1].onset
            cuts[i] = following
    if chokes:
        next_choke: dict[int, int] = {}  # choking key -> onset of its next hit, scanning backwards
        for i in range(len(notes) - 1, -1, -1):
            note = notes[i]
            by = chokes.get(note.pitch)
            if by:
                hits = [next_choke[k] for k in by if k in next_choke and next_choke[k] > note.onset]
                if hits:
                    cuts[i] = min(hits) if cuts[i] is None else min(cuts[i], min(hits))
            next_choke[note.pitch] = note.onset
    return cuts
