"""What a built-in voice is: something that turns one note request into a buffer of audio.

The track renderer (pipeline.render.tracks) owns timing: it places each buffer at the note's exact
onset sample, applies the velocity's amplitude and the track's pan, and cuts notes that a monophonic
voice or a choke group silences. A voice only shapes the sound of one note.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
class NoteRequest:
    pitch: int  # MIDI note number (drums: GM drum key)
    velocity: int  # 1..127: the voice maps it to brightness; amplitude is applied by the caller
    gate: int  # samples the key is held
    sample_rate: int
    beat: float = 0.0  # onset in quarter-note beats (tempo-synced modulation locks to the grid)
    seconds_per_beat: float = 0.5
    seed: tuple[int, ...] = ()  # (arrangement seed, track index, note index): the note's private noise
    mod_period_beats: float = 0.0  # a tempo-synced LFO period chosen by the voice (0: none)
    glide_from: int = -1  # a gliding voice's previous pitch when this note is played legato (-1: none)
    hit: int = 0  # how many notes of this pitch the track played before this one (drums' round-robin)


# Cache quantisation: notes that differ by less than this render from the same buffer. A bucket of 8
# velocity steps is about 1 dB of brightness; a 256-sample gate step (5.8 ms) moves only the release,
# never the onset, which stays sample-exact.
VELOCITY_BUCKET = 8
GATE_STEP = 256


class Voice:
    """Base class. Subclasses set the class attributes and implement `render`."""

    name: str = ""
    stereo: bool = False  # render() returns (2, m) if True, else a mono (m,) buffer
    mono: bool = False  # monophonic: a new note cuts the sounding one (bass synths)
    cacheable: bool = True  # render() depends only on canonical() fields, so buffers can be reused
    chokes: Mapping[int, frozenset[int]] = MappingProxyType(
        {}
    )  # key -> keys whose onset silences it (open hat <- closed hat)
    level: float = 1.0  # calibration so voices land at similar peak levels
    own_velocity: bool = False  # render() applies the velocity's loudness itself (a SoundFont does)
    glides: bool = False  # a legato note slides from the previous pitch (the renderer sets glide_from)

    def canonical(self, req: NoteRequest) -> NoteRequest:
        """The request with everything the sound does not depend on quantised away (the cache key)."""
        if not self.cacheable:
            return req
        bucket = min(127, max(1, round(req.velocity / VELOCITY_BUCKET) * VELOCITY_BUCKET))
        gate = max(GATE_STEP, round(req.gate / GATE_STEP) * GATE_STEP)
        glide_from = req.glide_from if self.glides else -1
        return dataclasses.replace(req, velocity=bucket, gate=gate, beat=0.0, seed=(), glide_from=glide_from, hit=0)

    def render(self, req: NoteRequest) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        """Free what render() held on to (a synth); called once a track is done."""


def round_robin(req: NoteRequest, variants: int) -> int:
    """Which of `variants` takes a drum hit plays: consecutive hits of one key step through them in
    turn (never the same take twice in a row), from a start the seed picks per track and key."""
    arrangement_seed, track_index = (*req.seed, 0, 0)[:2]
    start = int(np.random.default_rng([arrangement_seed & 0xFFFFFFFF, track_index, req.pitch]).integers(variants))
    return (start + req.hit) % variants
