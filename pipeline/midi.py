"""Write an Arrangement as a Type-1 Standard MIDI File a producer can open in any DAW.

Track 0 carries the tempo, time signature, key signature, section markers and the transitions as
cue markers (fill, crash, riser, drop, ...); then one track per Track with its name, General MIDI
program and channel (drums on channel 10), and the score's automation as controller ramps: a
low-pass cutoff as CC74 (brightness), a gain as CC11 (expression), one step per beat. Times are exact:
the composer writes every time as a whole number of 1/960 beats, the file's resolution.
"""

from __future__ import annotations

from pathlib import Path

import mido

import math

from pipeline.score import Arrangement, Automation, Track

TICKS_PER_BEAT = 960
DRUM_CHANNEL = 9  # channel 10, counted from zero
_MODE_OFFSET = {"major": 0, "dorian": 2, "phrygian": 4, "lydian": 5, "mixolydian": 7, "minor": 9}
_MAJOR_NAMES = {0: "C", 7: "G", 2: "D", 9: "A", 4: "E", 11: "B", 6: "F#", 1: "Db", 8: "Ab", 3: "Eb", 10: "Bb", 5: "F"}
_MINOR_NAMES = {
    0: "Am",
    7: "Em",
    2: "Bm",
    9: "F#m",
    4: "C#m",
    11: "G#m",
    6: "D#m",
    1: "Bbm",
    8: "Fm",
    3: "Cm",
    10: "Gm",
    5: "Dm",
}
_PC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def key_signature(tonic_pc: int, mode: str) -> str:
    """mido's key name with the right accidentals: modes use their parent major's signature
    (D dorian -> no sharps or flats), flagged minor for the minor-family modes."""
    parent = (tonic_pc - _MODE_OFFSET.get(mode, 0)) % 12
    return _MINOR_NAMES[parent] if mode in ("minor", "dorian", "phrygian") else _MAJOR_NAMES[parent]


def write_midi(arrangement: Arrangement, path: Path) -> None:
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(_conductor(arrangement))
    channels = _channels(arrangement.tracks)
    for track, channel in zip(arrangement.tracks, channels):
        lanes = [a for a in arrangement.automation if a.role in (track.role, "mix")]
        midi.tracks.append(_track(track, channel, lanes))
    midi.save(str(path))


def _ticks(beats: float) -> int:
    return round(beats * TICKS_PER_BEAT)


def _conductor(arrangement: Arrangement) -> mido.MidiTrack:
    track = mido.MidiTrack()
    events: list[tuple[int, mido.MetaMessage]] = [
        (0, mido.MetaMessage("track_name", name=f"ampa {arrangement.genre}")),
        (0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(arrangement.tempo_bpm))),
        (
            0,
            mido.MetaMessage(
                "time_signature",
                numerator=arrangement.beats_per_bar,
                denominator=arrangement.beat_unit,
                clocks_per_click=24 if arrangement.beat_unit == 4 else 12,
                notated_32nd_notes_per_beat=8,
            ),
        ),
        (0, mido.MetaMessage("key_signature", key=key_signature(arrangement.key_tonic_pc, arrangement.mode))),
        (0, mido.MetaMessage("text", text=f"key: {_PC_NAMES[arrangement.key_tonic_pc]} {arrangement.mode}")),
    ]
    for section in arrangement.sections:
        events.append(
            (
                _ticks(section.start_bar * arrangement.quarter_beats_per_bar),
                mido.MetaMessage("marker", text=section.name),
            )
        )
    for marker in arrangement.markers:
        events.append((_ticks(marker.beat), mido.MetaMessage("cue_marker", text=marker.kind)))
    end = _ticks(arrangement.bars * arrangement.quarter_beats_per_bar)
    _append_sorted(track, events, end)
    return track


def _channels(tracks: list[Track]) -> list[int]:
    """Drums on channel 10; other tracks take channels 1..16 in order, skipping 10."""
    free = [c for c in range(16) if c != DRUM_CHANNEL]
    out = []
    for i, track in enumerate(tracks):
        out.append(DRUM_CHANNEL if track.is_drum else free[i % len(free)])
    return out


def _controller_steps(lane: Automation) -> list[tuple[float, int, int]]:
    """(beat, controller, value) along an automation lane, one per beat and one at its end."""
    control = 74 if lane.target == "lowpass" else 11
    beats = [lane.start + i for i in range(int(lane.end - lane.start))] + [lane.end]
    out = []
    for beat in beats:
        value = lane.value_at(beat)
        if lane.target == "lowpass":  # 200 Hz .. 20 kHz over the controller's range, in octaves
            level = math.log2(max(200.0, min(20000.0, value)) / 200.0) / math.log2(100.0)
        else:
            level = 10 ** (value / 20.0)
        out.append((beat, control, max(0, min(127, round(127 * level)))))
    return out


def _track(track: Track, channel: int, lanes: list[Automation]) -> mido.MidiTrack:
    out = mido.MidiTrack()
    events: list[tuple[int, int, mido.Message]] = []  # (tick, order, message): note-offs before note-ons
    head = [
        mido.MetaMessage("track_name", name=f"{track.role}: {track.instrument} ({track.voice})"),
        mido.Message("program_change", channel=channel, program=max(0, min(127, track.program))),
        mido.Message(
            "control_change", channel=channel, control=10, value=round(64 + 63 * max(-1.0, min(1.0, track.pan)))
        ),
    ]
    for note in track.notes:
        on, off = _ticks(note.start), _ticks(note.start + note.duration)
        pitch = max(0, min(127, note.pitch))
        events.append(
            (on, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=max(1, min(127, note.velocity))))
        )
        events.append((max(off, on + 1), 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    for lane in lanes:
        for beat, control, value in _controller_steps(lane):
            message = mido.Message("control_change", channel=channel, control=control, value=value)
            events.append((_ticks(beat), -1, message))
    events.sort(key=lambda e: (e[0], e[1], e[2].control if e[2].type == "control_change" else e[2].note))
    now = 0
    for message in head:
        out.append(message.copy(time=0))
    for tick, _, message in events:
        out.append(message.copy(time=tick - now))
        now = tick
    out.append(mido.MetaMessage("end_of_track", time=0))
    return out


def _append_sorted(track: mido.MidiTrack, events: list[tuple[int, mido.MetaMessage]], end: int) -> None:
    now = 0
    for tick, message in sorted(events, key=lambda e: e[0]):
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end - now)))
