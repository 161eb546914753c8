"""Synthesised drum kits keyed by General MIDI drum keys.

`EDrums` is a punchy drum machine (808/909 recipes: swept-sine kick, noise + tone snare, multi-burst
clap, metallic hats from six detuned square waves, long noisy cymbals, pitched toms). `ChipDrums` is an
NES-style kit (the 2A03's LFSR noise channel and stepped triangle, with a 4-bit volume envelope).
Noise is seeded from (arrangement seed, track index, round-robin take): like a sampler's round-robin,
consecutive hits of one drum step through ROUND_ROBIN takes, yet the renderer can reuse each rendered
take, which keeps a 16th-note hi-hat track cheap. Drums are one-shots: the note's length does not matter.
"""

from __future__ import annotations

import dataclasses
import functools
from types import MappingProxyType

import numpy as np

from pipeline.render import dsp
from pipeline.render.voice import NoteRequest, Voice, round_robin

ROUND_ROBIN = 4

# GM drum keys, grouped by what they are.
KICKS = frozenset({35, 36})
SNARES = frozenset({38, 40})
CLAPS = frozenset({39})
CLOSED_HATS = frozenset({42, 44})
OPEN_HATS = frozenset({46})
CRASHES = frozenset({49, 52, 55, 57})
RIDES = frozenset({51, 53, 59})
TOMS: dict[int, float] = {41: 72.0, 43: 88.0, 45: 105.0, 47: 124.0, 48: 148.0, 50: 176.0}  # key -> Hz

# Where each piece sits in the kit (drummer's view); the track's own pan moves the whole kit.
_KIT_PAN: dict[int, float] = {
    42: 0.25,
    44: 0.25,
    46: 0.25,
    49: -0.35,
    57: 0.35,
    52: 0.4,
    55: -0.4,
    51: -0.3,
    53: -0.3,
    59: -0.3,
    41: -0.35,
    43: -0.2,
    45: -0.05,
    47: 0.1,
    48: 0.2,
    50: 0.3,
    39: 0.05,
}

# TR-808 hi-hat: six square oscillators at these (inharmonic) frequencies, high-passed.
_METAL_HZ = np.array([205.3, 304.4, 369.6, 522.7, 540.0, 800.0])


def _time(seconds: float, sr: int) -> np.ndarray:
    return np.arange(int(seconds * sr), dtype=np.float64) / sr


def _metal(n: int, sr: int, scale: float = 1.0) -> np.ndarray:
    """Six detuned square waves summed: the metallic core of 808 hats and cymbals (n samples)."""
    return _metal_table(scale, sr)[:n]


@functools.lru_cache(maxsize=8)
def _metal_table(scale: float, sample_rate: int, seconds: float = 2.5) -> np.ndarray:
    """The oscillator bank, computed once (every hit restarts it at phase 0, as 808 hats retrigger)."""
    t = np.arange(int(seconds * sample_rate), dtype=np.float64) / sample_rate
    phases = np.mod(np.outer(_METAL_HZ * scale, t), 1.0)
    table = (np.where(phases < 0.5, 1.0, -1.0)).sum(axis=0) / 6.0
    table.setflags(write=False)
    return table


def _swept_sine(t: np.ndarray, f_end: float, f_extra: float, tau: float, sr: int) -> np.ndarray:
    freq = f_end + f_extra * np.exp(-t / tau)
    return np.sin(dsp.TWO_PI * dsp.phase_from_freq(freq, sr))


class _DrumKit(Voice):
    stereo = True
    chokes = MappingProxyType({46: CLOSED_HATS})  # a closed hat silences the open hat, as on a real kit

    def canonical(self, req: NoteRequest) -> NoteRequest:
        base = super().canonical(req)
        arrangement_seed, track_index = (*req.seed, 0, 0)[:2]
        return dataclasses.replace(base, gate=0, seed=(arrangement_seed, track_index, round_robin(req, ROUND_ROBIN)))


# --- electronic kit ------------------------------------------------------------------------------


def _kick(b: float, rng: np.random.Generator, sr: int) -> np.ndarray:
    t = _time(0.5, sr)
    tune = _round_robin_tune(rng)
    body = _swept_sine(t, 46.0 * tune, (120.0 + 60.0 * b) * tune, 0.04, sr) * np.exp(-t / 0.3)
    click = dsp.highpass(rng.standard_normal(t.size) * np.exp(-t / 0.0015), 2000.0, sr) * (0.15 + 0.25 * b)
    attack = np.minimum(t / 0.0007, 1.0)  # a 0.7 ms ramp: punchy, but no step at the onset
    return dsp.saturate((body + click) * attack, 1.4)


def _round_robin_tune(rng: np.random.Generator, cents: float = 12.0) -> float:
    """A small pitch offset per round-robin variant: like a drummer never hitting the same spot."""
    return float(2.0 ** (rng.uniform(-cents, cents) / 1200.0))


def _kick_808(b: float, rng: np.random.Generator, sr: int) -> np.ndarray:
    """TR-808 kick: a sine gliding down onto ~48 Hz, a long boom, driven into soft saturation."""
    t = _time(1.1, sr)
    tune = _round_robin_tune(rng, 8.0)
    body = _swept_sine(t, 48.0 * tune, (150.0 + 90.0 * b) * tune, 0.03, sr)
    boom = body * np.exp(-t / (0.45 + 0.1 * b))
    click = dsp.highpass(rng.standard_normal(t.size) * np.exp(-t / 0.001), 3000.0, sr) * 0.12
    attack = np.minimum(t / 0.0005, 1.0)
    return dsp.saturate((boom + click) * attack, 1.8 + 1.2 * b)


def _kick_909(b: float, rng: np.random.Generator, sr: int) -> np.ndarray:
    """House/techno kick: a punchy body (fast pitch drop from ~250 Hz onto ~52 Hz), a noisy click and
    a short 1.6 kHz blip for the beater, then saturation so it cuts through a full mix."""
    t = _time(0.45, sr)
    tune = _round_robin_tune(rng, 6.0)
    body = _swept_sine(t, 52.0 * tune, (200.0 + 80.0 * b) * tune, 0.022, sr) * np.exp(-t / (0.2 + 0.06 * b))
    beater = np.sin(dsp.TWO_PI * 1600.0 * t) * np.exp(-t / 0.0025) * 0.35
    click = dsp.highpass(rng.standard_normal(t.size) * np.exp(-t / 0.002), 4000.0, sr) * (0.2 + 0.2 * b)
    attack = np.minimum(t / 0.0004, 1.0)
    return dsp.saturate((body + beater + click) * attack, 2.2)


def _snare(b: float, rng: np.random.Generator, sr: int) -> np.ndarray:
    t = _time(0.35, sr)
    tune = _round_robin_tune(rng, 15.0)
    tone = (np.sin(dsp.TWO_PI * 185.0 * tune * t) + 0.6 * np.sin(dsp.TWO_PI * 330.0 * tune * t)) * np.exp(-t / 0.045)
    noise = dsp.bandpass(rng.standard_normal(t.size), 1200.0, 6000.0 + 6000.0 * b, sr)
    noise *= np.exp(-t / (0.08 + 0.05 * b))
    return 0.3 * (0.45 * tone + (0.9 + 0.4 * b) * noise)


def _clap(b: float, rng: np.random.Generator, sr: int) -> np.ndarray:
    """Layered clap, stereo (2, m): four hands a few ms apart, each with its own noise and place in
    the field, over a short diffuse room tail; the spacing varies a little per round-robin hit."""
    t = _time(0.4, sr)
    out = np.zeros((2, t.size))
    spacing = 1.0 + 0.15 * rng.uniform(-1.0, 1.0)
    for i, (onset, pan) in enumerate(((0.0, -0.35), (0.009, 0.3), (0.018, -0.15), (0.028, 0.1))):
        start = onset * spacing
        env = np.where(t >= start, np.exp(-np.maximum(t - start, 0.0) / (0.005 + 0.001 * i)), 0.0)
        hand = dsp.bandpass(rng.standard_normal(t.size), 900.0 + 150.0 * i, 3500.0 + 3000.0 * b, sr) * env
        left, right = dsp.pan_gains(pan)
        out[0] += left * hand
        out[1] += right * hand
    tail_start = 0.028 * spacing
    tail_env = 0.6 * np.where(t >= tail_start, np.exp(-np.maximum(t - tail_start, 0.0) / 0.1), 0.0)
    tail = dsp.bandpass(rng.standard_normal((2, t.size)), 800.0, 5000.0 + 2000.0 * b, sr) * tail_env
    return 0.32 * (out + tail)


def _hat(decay: float, length: float, b: float, rng: np.random.Generator, sr: int, metal: float = 0.6) -> np.ndarray:
    """Hi-hat: the 808's six-square metal (`metal`) plus noise, high-passed; the decay varies a
    little per round-robin hit, as a real hat does with where the stick lands."""
    t = _time(length, sr)
    raw = metal * _metal(t.size, sr) + (1.1 - metal) * rng.standard_normal(t.size)
    bright = dsp.highpass(raw, 7000.0 - 1500.0 * b, sr, order=4)
    return 0.37 * bright * np.exp(-t / (decay * (1.0 + 0.12 * rng.uniform(-1.0, 1.0))))


def _cymbal(decay: float, length: float, lo: float, b: float, rng: np.random.Generator, sr: int) -> np.ndarray:
    t = _time(length, sr)
    raw = 0.5 * _metal(t.size, sr, 1.37) + 0.7 * rng.standard_normal(t.size)
    shaped = dsp.bandpass(raw, lo, 15000.0, sr)
    swell = np.minimum(t / 0.002, 1.0)
    return 0.22 * (0.8 + 0.3 * b) * shaped * np.exp(-t / decay) * swell


def _ride(b: float, rng: np.random.Generator, sr: int) -> np.ndarray:
    t = _time(1.2, sr)
    bell = sum(np.sin(dsp.TWO_PI * f * t) * a for f, a in ((2960.0, 0.3), (4420.0, 0.2), (5810.0, 0.12)))
    wash = dsp.bandpass(0.5 * _metal(t.size, sr, 2.1) + 0.4 * rng.standard_normal(t.size), 4000.0, 14000.0, sr)
    return 0.37 * (bell * np.exp(-t / 0.25) + 0.9 * wash * np.exp(-t / 0.4)) * (0.6 + 0.3 * b)


def _tom(freq: float, b: float, rng: np.random.Generator, sr: int) -> np.ndarray:
    t = _time(0.55, sr)
    body = _swept_sine(t, freq, freq * (0.5 + 0.3 * b), 0.05, sr) * np.exp(-t / 0.22)
    thud = dsp.lowpass(rng.standard_normal(t.size), 1500.0, sr) * np.exp(-t / 0.01) * 0.3
    return 0.76 * (body + thud) * np.minimum(t / 0.0007, 1.0)


def _percussion(key: int, b: float, rng: np.random.Generator, sr: int) -> np.ndarray:
    """Anything else: a short band of noise whose centre follows the key, so keys stay distinct."""
    t = _time(0.06, sr)
    centre = 600.0 * 2.0 ** ((key - 35) / 12.0)
    noise = dsp.bandpass(rng.standard_normal(t.size), centre * 0.7, centre * 1.4, sr)
    return 2.3 * (0.7 + 0.3 * b) * noise * np.exp(-t / 0.012)


class EDrums(_DrumKit):
    """Punchy electronic drum machine."""

    name = "edrums"
    level = 0.5
    kick = staticmethod(_kick)
    hat_metal = 0.6  # how much of the hats is the six-square metal (the rest is noise)
    open_hat_decay = 0.17

    def render(self, req: NoteRequest) -> np.ndarray:
        sr, key = req.sample_rate, req.pitch
        b = dsp.brightness(req.velocity)
        rng = dsp.rng_for(*req.seed, key)
        if key in KICKS:
            mono = self.kick(b, rng, sr)
        elif key in SNARES:
            mono = _snare(b, rng, sr)
        elif key in CLAPS:
            return (_clap(b, rng, sr) * self.level).astype(np.float32)
        elif key in CLOSED_HATS:
            mono = _hat(0.018 if key == 42 else 0.03, 0.12, b, rng, sr, self.hat_metal)
        elif key in OPEN_HATS:
            mono = _hat(self.open_hat_decay, 0.7, b, rng, sr, self.hat_metal)
        elif key in CRASHES:
            mono = _cymbal(0.55, 2.2, 3000.0, b, rng, sr)
        elif key in RIDES:
            mono = _ride(b, rng, sr)
        elif key in TOMS:
            mono = _tom(TOMS[key], b, rng, sr)
        else:
            mono = _percussion(key, b, rng, sr)
        left, right = dsp.pan_gains(_KIT_PAN.get(key, 0.0))
        return (np.stack([left * mono, right * mono]) * self.level).astype(np.float32)


class TR808(EDrums):
    """Trap and R&B kit: the long, saturated 808 boom, metallic hats (open hat choked by the closed)."""

    name = "tr808"
    kick = staticmethod(_kick_808)
    hat_metal = 0.75
    open_hat_decay = 0.22


class TR909(EDrums):
    """House and techno kit: a punchy short kick with a beater click, noisier hats, layered claps."""

    name = "tr909"
    kick = staticmethod(_kick_909)
    hat_metal = 0.35
    open_hat_decay = 0.14


# --- NES-style kit -------------------------------------------------------------------------------

_NES_CPU_HZ = 1_789_773.0
_NES_NOISE_PERIODS = (4, 8, 16, 32, 64, 96, 128, 160, 202, 254, 380, 508, 762, 1016, 2034, 4068)
_NES_FRAME_HZ = 240.0  # the APU's envelope clock


@functools.cache
def nes_noise_sequence(short_mode: bool) -> np.ndarray:
    """One period of the 2A03 noise LFSR's output as +-1 (32767 steps, or 93 in 'metallic' mode).

    The 15-bit register shifts right and feeds bit0 XOR bit1 (bit6 in short mode) into bit 14, so the
    output bit stream s obeys s[n + 15] = s[n] ^ s[n + tap]: computed 15 - tap bits at a time.
    """
    tap = 6 if short_mode else 1
    length = 93 if short_mode else 32767
    bits = np.zeros(length + 15 + tap, dtype=np.uint8)
    bits[0] = 1  # the register powers up as 1
    n = 0
    while n + 15 < bits.size:
        step = min(15 - tap, bits.size - n - 15)
        bits[n + 15 : n + 15 + step] = bits[n : n + step] ^ bits[n + tap : n + tap + step]
        n += step
    seq = np.where(bits[:length] == 0, 1.0, -1.0)  # the channel sounds while bit0 is 0
    # The console's output high-pass removes the DC of the lopsided 93-step sequence; so do we.
    return seq - seq.mean()


def _nes_noise(t: np.ndarray, period_index: int, short_mode: bool, offset: int) -> np.ndarray:
    seq = nes_noise_sequence(short_mode)
    rate = _NES_CPU_HZ / _NES_NOISE_PERIODS[period_index]
    return seq[(np.floor(t * rate).astype(np.int64) + offset) % seq.size]


def _nes_volume(t: np.ndarray, decay: float) -> np.ndarray:
    """The 4-bit volume envelope: 16 levels, stepped at the APU's 240 Hz frame clock."""
    frames = np.floor(t * _NES_FRAME_HZ) / _NES_FRAME_HZ
    return np.floor(15.0 * np.exp(-frames / decay) + 0.5) / 15.0


def _nes_triangle(t: np.ndarray, freq: np.ndarray, sr: int) -> np.ndarray:
    """The 2A03 triangle: a 32-step staircase (no volume control on the real chip)."""
    step = np.floor(dsp.phase_from_freq(freq, sr) * 32.0)
    return (np.abs(step - 15.5) - 8.0) / 7.5  # -1..1, zero mean over a cycle


class ChipDrums(_DrumKit):
    """NES-style drums: LFSR noise for snares, hats and cymbals, a falling triangle for kicks and toms."""

    name = "chipdrums"
    level = 0.45

    def render(self, req: NoteRequest) -> np.ndarray:
        sr, key = req.sample_rate, req.pitch
        b = dsp.brightness(req.velocity)
        offset = int(dsp.rng_for(*req.seed, key).integers(32767))  # where in the LFSR cycle this hit starts

        def noise(t: np.ndarray, period_index: int, short_mode: bool) -> np.ndarray:
            return _nes_noise(t, period_index, short_mode, offset)

        if key in KICKS:
            t = _time(0.2, sr)
            tone = _nes_triangle(t, 50.0 + 280.0 * np.exp(-t / 0.018), sr) * _nes_volume(t, 0.07)
            mono = tone + 0.3 * noise(t, 10, False) * (t < 0.012)
        elif key in SNARES or key in CLAPS:
            t = _time(0.22, sr)
            mono = 0.65 * noise(t, 5, False) * _nes_volume(t, 0.05 + 0.02 * b)
            mono += 0.4 * _nes_triangle(t, 220.0 + 0.0 * t, sr) * (t < 0.035)
        elif key in CLOSED_HATS:
            t = _time(0.06, sr)
            mono = 0.6 * noise(t, 0, False) * _nes_volume(t, 0.012)
        elif key in OPEN_HATS:
            t = _time(0.35, sr)
            mono = 0.55 * noise(t, 1, False) * _nes_volume(t, 0.09)
        elif key in CRASHES or key in RIDES:
            short = key in RIDES  # the 93-step sequence rings metallic, like a ride
            t = _time(0.9, sr)
            mono = (
                (0.4 if short else 0.6) * noise(t, 3 if short else 2, short) * _nes_volume(t, 0.25 if short else 0.35)
            )
        elif key in TOMS:
            t = _time(0.22, sr)
            f = 2.0 * TOMS[key]
            mono = _nes_triangle(t, f + f * np.exp(-t / 0.03), sr) * _nes_volume(t, 0.08)
        else:
            t = _time(0.05, sr)
            mono = 0.5 * noise(t, 8 + key % 4, False) * _nes_volume(t, 0.012)
        mono = mono * (0.7 + 0.3 * b)
        return (np.stack([mono, mono]) * self.level).astype(np.float32)


DRUM_VOICES: tuple[type[Voice], ...] = (EDrums, TR808, TR909, ChipDrums)
