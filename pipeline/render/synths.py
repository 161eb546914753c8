"""Built-in pitched synth voices, for the sounds a General MIDI patch gets wrong.

Each voice renders one note as a whole numpy buffer (band-limited PolyBLEP oscillators, vectorised
envelopes, scipy filters). Velocity changes brightness here; its amplitude is applied by the caller.
Oscillators restart at fixed phases on every note (like a synth with key sync), so a note sounds the
same wherever it lands and the renderer can reuse its buffer.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from pipeline.render import dsp
from pipeline.render.voice import NoteRequest, Voice

# Roland JP-8000 style supersaw: seven saws, detune offsets as fractions of the frequency at full detune.
_SUPERSAW_OFFSETS = np.array([-0.11002313, -0.06288439, -0.01952356, 0.0, 0.01991221, 0.06216538, 0.10745242])
_SUPERSAW_PANS = np.array([-0.9, 0.6, -0.3, 0.0, 0.3, -0.6, 0.9])  # neighbours in pitch sit on opposite sides
_SUPERSAW_MIX = np.array([0.55, 0.55, 0.55, 1.0, 0.55, 0.55, 0.55])
_START_PHASES = np.mod(np.arange(7) * 0.6180339887, 1.0)  # fixed, spread starting phases (no RNG)


def _stereo_matrix(pans: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """(2, k) matrix that places k oscillators across the stereo field at constant power."""
    lr = np.array([dsp.pan_gains(float(p)) for p in pans]).T  # (2, k)
    return lr * gains[None, :]


class _Note(NamedTuple):
    """What every voice's render starts from: rate, pitch in Hz, buffer length (gate + release),
    time of each sample, brightness from velocity."""

    sr: int
    f0: float
    m: int
    t: np.ndarray
    b: float

    @classmethod
    def of(cls, req: NoteRequest, release_s: float) -> _Note:
        m = req.gate + int(release_s * req.sample_rate)
        t = np.arange(m, dtype=np.float64) / req.sample_rate
        return cls(req.sample_rate, dsp.midi_to_hz(req.pitch), m, t, dsp.brightness(req.velocity))


def _dc_blocked(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Saturating an asymmetric wave leaves a DC offset; a 15 Hz high-pass removes it."""
    return dsp.highpass(x, 15.0, sample_rate).astype(np.float32)


class SuperSaw(Voice):
    """Seven detuned band-limited saws spread across the stereo field through a resonant low-pass with
    its own envelope (bright on the attack, settling as the note holds: short notes become plucks)
    and a slow LFO on the cutoff (the sound moves while a chord holds)."""

    name = "supersaw"
    stereo = True
    level = 0.34
    detune = 0.3  # fraction of the full JP-8000 detune: about +-55 cents at the outer saws
    release_s = 0.35
    filter_decay_s = 0.18
    lfo_hz = 0.35

    def render(self, req: NoteRequest) -> np.ndarray:
        sr = req.sample_rate
        f0 = dsp.midi_to_hz(req.pitch)
        m = req.gate + int(self.release_s * sr)
        freqs = f0 * (1.0 + self.detune * _SUPERSAW_OFFSETS)
        phase = dsp.phase_constant(freqs, m, sr, _START_PHASES)
        oscs = dsp.saw(phase, (freqs / sr)[:, None])
        stereo = np.einsum("ck,km->cm", _stereo_matrix(_SUPERSAW_PANS, _SUPERSAW_MIX), oscs)
        b = dsp.brightness(req.velocity)
        t = np.arange(m, dtype=np.float64) / sr
        sustain_hz = 900.0 + 3500.0 * b * b
        peak_hz = sustain_hz + 9000.0 * b
        lfo = 2.0 ** (0.35 * np.sin(dsp.TWO_PI * self.lfo_hz * t))  # +-0.35 octave
        cutoff = np.minimum((sustain_hz + (peak_hz - sustain_hz) * np.exp(-t / self.filter_decay_s)) * lfo, 0.42 * sr)
        stereo = np.stack([dsp.swept_lowpass(stereo[c], cutoff, 1.1, sr, poles=2) for c in range(2)])
        env = dsp.adsr(req.gate, m, sr, attack=0.006, decay=0.3, sustain=0.75, release=self.release_s)
        return (stereo * env * self.level).astype(np.float32)


class SquareLead(Voice):
    """Chiptune pulse lead (25 % duty) with a delayed, gently rising vibrato."""

    name = "square_lead"
    level = 0.5
    width = 0.25
    release_s = 0.06
    vibrato_hz = 5.5
    vibrato_semitones = 0.2
    vibrato_delay_s = 0.18

    def render(self, req: NoteRequest) -> np.ndarray:
        sr = req.sample_rate
        f0 = dsp.midi_to_hz(req.pitch)
        m = req.gate + int(self.release_s * sr)
        t = np.arange(m, dtype=np.float64) / sr
        depth = self.vibrato_semitones * np.clip((t - self.vibrato_delay_s) / 0.15, 0.0, 1.0)
        freq = f0 * 2.0 ** (depth * np.sin(dsp.TWO_PI * self.vibrato_hz * t) / 12.0)
        phase = dsp.phase_from_freq(freq, sr)
        tone = dsp.pulse(phase, freq / sr, self.width)
        b = dsp.brightness(req.velocity)
        tone = dsp.lowpass(tone, min(3000.0 + 14000.0 * b, 0.42 * sr), sr)
        env = dsp.adsr(req.gate, m, sr, attack=0.003, decay=0.12, sustain=0.75, release=self.release_s)
        return (tone * env * self.level).astype(np.float32)


class AnalogBass(Voice):
    """Saw + square through a resonant 24 dB/oct low-pass with a decaying filter envelope; mono."""

    name = "analog_bass"
    mono = True
    level = 0.6
    release_s = 0.05
    resonance = 2.2
    filter_decay_s = 0.12

    def render(self, req: NoteRequest) -> np.ndarray:
        sr = req.sample_rate
        f0 = dsp.midi_to_hz(req.pitch)
        m = req.gate + int(self.release_s * sr)
        # Same frequency and phase: the square's fundamental adds to the saw's (a detuned pair would beat
        # and, at the cancelling moments, leave the octave louder than the note).
        phase = dsp.phase_constant(f0, m, sr)
        tone = dsp.saw(phase, f0 / sr) + 0.6 * dsp.pulse(phase, f0 / sr)
        b = dsp.brightness(req.velocity)
        t = np.arange(m, dtype=np.float64) / sr
        base = 1.6 * f0 + 90.0
        sweep = 500.0 + 3500.0 * b
        cutoff = base + sweep * np.exp(-t / self.filter_decay_s)
        tone = dsp.swept_lowpass(tone, cutoff, self.resonance, sr)
        tone = dsp.saturate(0.5 * tone, 1.6)
        env = dsp.adsr(req.gate, m, sr, attack=0.002, decay=0.25, sustain=0.8, release=self.release_s)
        return _dc_blocked(tone * env * self.level, sr)


class Bass808(Voice):
    """Trap 808: a sine whose pitch drops onto the note at the onset, long decay, soft saturation; mono."""

    name = "bass_808"
    mono = True
    glides = True
    level = 0.75
    release_s = 0.08
    drop_semitones = 10.0
    drop_time_s = 0.022
    decay_s = 1.6  # amplitude time constant while held: the long 808 boom
    glide_s = 0.09  # a legato note slides from the previous pitch over this long (trap's 808 slide)

    def render(self, req: NoteRequest) -> np.ndarray:
        sr = req.sample_rate
        f0 = dsp.midi_to_hz(req.pitch)
        m = req.gate + int(self.release_s * sr)
        t = np.arange(m, dtype=np.float64) / sr
        if req.glide_from >= 0:  # slide: the pitch moves (in semitones, smoothly) from the previous note
            interval = req.glide_from - req.pitch
            progress = np.clip(t / self.glide_s, 0.0, 1.0)
            freq = f0 * 2.0 ** (interval * (1.0 - progress * progress * (3.0 - 2.0 * progress)) / 12.0)
        else:
            freq = f0 * 2.0 ** (self.drop_semitones * np.exp(-t / self.drop_time_s) / 12.0)
        body = np.sin(dsp.TWO_PI * dsp.phase_from_freq(freq, sr))
        amp = np.minimum(t / 0.001, 1.0) * np.exp(-t / self.decay_s)
        env = dsp.adsr(req.gate, m, sr, attack=0.0005, decay=0.01, sustain=1.0, release=self.release_s)
        b = dsp.brightness(req.velocity)
        tone = dsp.saturate(body * amp, 1.2 + 1.8 * b)
        return _dc_blocked(tone * env * self.level, sr)


class WobbleBass(Voice):
    """Dubstep wobble: detuned saws + sub sine through a resonant low-pass swept by a tempo-synced LFO.

    The LFO runs at an 8th note or a quarter note (chosen per 4 beats from the arrangement seed) and is
    phase-locked to the beat grid, so every wobble lands in time with the drums.
    """

    name = "wobble_bass"
    mono = True
    level = 0.55
    release_s = 0.05
    resonance = 3.0
    periods_beats = (0.5, 1.0)

    def lfo_period(self, req: NoteRequest) -> float:
        if req.mod_period_beats > 0:
            return req.mod_period_beats
        arrangement_seed = req.seed[0] if req.seed else 0
        choice = dsp.rng_for(arrangement_seed, 0x0B, int(req.beat // 4)).integers(len(self.periods_beats))
        return self.periods_beats[int(choice)]

    def canonical(self, req: NoteRequest) -> NoteRequest:
        period = self.lfo_period(req)
        base = super().canonical(req)
        # Keep where in the LFO cycle the note starts (to 1/64 of a cycle: 0.1 dB of cutoff at most).
        offset = round((req.beat % period) / period * 64.0) / 64.0 * period
        return dataclasses.replace(base, beat=offset, mod_period_beats=period)

    def render(self, req: NoteRequest) -> np.ndarray:
        sr = req.sample_rate
        f0 = dsp.midi_to_hz(req.pitch)
        m = req.gate + int(self.release_s * sr)
        t = np.arange(m, dtype=np.float64) / sr
        detune = 2.0 ** (7.0 / 1200.0)
        saws = dsp.saw(dsp.phase_constant(f0 * detune, m, sr), f0 * detune / sr) + dsp.saw(
            dsp.phase_constant(f0 / detune, m, sr, 0.5), f0 / detune / sr
        )
        period_s = self.lfo_period(req) * req.seconds_per_beat
        lfo_phase = (req.beat % self.lfo_period(req)) / self.lfo_period(req) + t / period_s
        lfo = 0.5 - 0.5 * np.cos(dsp.TWO_PI * lfo_phase)  # 0 (closed) .. 1 (open)
        b = dsp.brightness(req.velocity)
        lo, hi = 80.0 + f0, 900.0 + 3000.0 * b
        cutoff = lo * (hi / lo) ** lfo
        growl = dsp.swept_lowpass(0.5 * saws, cutoff, self.resonance, sr)
        sub = 0.7 * np.sin(dsp.TWO_PI * dsp.phase_constant(f0, m, sr))
        tone = dsp.saturate(growl + sub, 1.8)
        env = dsp.adsr(req.gate, m, sr, attack=0.003, decay=0.1, sustain=0.9, release=self.release_s)
        return _dc_blocked(tone * env * self.level, sr)


class WarmPad(Voice):
    """Three detuned saws spread in stereo, slow attack and release, warm low-pass."""

    name = "warm_pad"
    stereo = True
    level = 0.3
    release_s = 0.9  # fits in the 1 s tail after the last bar
    detune_cents = (-9.0, 9.0, 0.0)
    pans = np.array([-0.75, 0.75, 0.0])
    gains = np.array([0.8, 0.8, 0.6])

    def render(self, req: NoteRequest) -> np.ndarray:
        sr = req.sample_rate
        f0 = dsp.midi_to_hz(req.pitch)
        m = req.gate + int(self.release_s * sr)
        freqs = f0 * 2.0 ** (np.array(self.detune_cents) / 1200.0)
        oscs = dsp.saw(dsp.phase_constant(freqs, m, sr, _START_PHASES[:3]), (freqs / sr)[:, None])
        stereo = np.einsum("ck,km->cm", _stereo_matrix(self.pans, self.gains), oscs)
        b = dsp.brightness(req.velocity)
        stereo = dsp.lowpass(stereo, 900.0 + 2600.0 * b, sr, q=0.9, poles=4)
        attack = min(0.5, max(0.05, 0.5 * req.gate / sr))  # short chords still reach full level
        env = dsp.adsr(req.gate, m, sr, attack=attack, decay=1.0, sustain=0.85, release=self.release_s)
        return (stereo * env * self.level).astype(np.float32)


class Riser(Voice):
    """FX riser (a synthesised reverse cymbal): noise swelling and opening up until the key is released,
    with a rising tone an octave below the note's pitch; a short tail after the release. Wide stereo.

    For the fx role of all-synth genres, so their render needs no SoundFont at all.
    """

    name = "riser"
    stereo = True
    cacheable = False  # the noise is the note's own
    level = 0.6
    release_s = 0.12

    def render(self, req: NoteRequest) -> np.ndarray:
        sr = req.sample_rate
        m = req.gate + int(self.release_s * sr)
        t = np.arange(m, dtype=np.float64) / sr
        rise = np.clip((np.arange(m) + 1.0) / max(req.gate, 1), 0.0, 1.0)  # 0 -> 1 over the gate
        rng = dsp.rng_for(*req.seed, 0x51)
        noise = rng.standard_normal((2, m))  # two streams: decorrelated left and right
        b = dsp.brightness(req.velocity)
        cutoff = 300.0 * ((8000.0 + 8000.0 * b) / 300.0) ** rise  # opens from 300 Hz to 8-16 kHz
        wash = np.stack([dsp.swept_lowpass(noise[c], cutoff, 1.2, sr, block=128) for c in range(2)])
        wash = dsp.highpass(wash, 200.0, sr)
        f0 = dsp.midi_to_hz(req.pitch - 12)
        tone = 0.25 * np.sin(dsp.TWO_PI * dsp.phase_from_freq(f0 * 2.0**rise, sr))  # rises an octave
        swell = rise**3  # slow start, steep finish: the peak lands on the release
        release = np.where(t > req.gate / sr, np.exp(-(t - req.gate / sr) / (self.release_s / 5.0)), 1.0)
        return ((wash + tone) * swell * release * self.level).astype(np.float32)


class ReeseBass(Voice):
    """Drum & bass reese: two saws a few cents apart whose beating makes the bass roll and phase, a
    third whose detune drifts, through a resonant low-pass, over a clean sub sine; mono. The drift
    and a one-octave sweep of the cutoff follow an LFO of `lfo_beats` beats locked to the bar grid,
    so the bass moves with the track's tempo."""

    name = "reese_bass"
    mono = True
    level = 0.5
    release_s = 0.06
    detune_cents = (-14.0, 11.0)
    lfo_beats = 8.0  # two 4/4 bars per sweep

    def canonical(self, req: NoteRequest) -> NoteRequest:
        base = super().canonical(req)
        # Keep where in the LFO cycle the note starts (to 1/64 of a cycle) and the tempo.
        offset = round((req.beat % self.lfo_beats) / self.lfo_beats * 64.0) / 64.0 * self.lfo_beats
        return dataclasses.replace(base, beat=offset)

    def render(self, req: NoteRequest) -> np.ndarray:
        sr, f0, m, t, b = _Note.of(req, self.release_s)
        lfo = np.sin(dsp.TWO_PI * ((req.beat % self.lfo_beats) / self.lfo_beats + t / (self.lfo_beats * req.seconds_per_beat)))
        freqs = f0 * 2.0 ** (np.array(self.detune_cents) / 1200.0)
        saws = dsp.saw(dsp.phase_constant(freqs, m, sr, _START_PHASES[:2]), (freqs / sr)[:, None]).sum(axis=0)
        drift = f0 * 2.0 ** ((4.0 + 7.0 * lfo) / 1200.0)  # the third saw's detune drifts with the LFO
        saws += 0.7 * dsp.saw(dsp.phase_from_freq(drift, sr, 0.37), drift / sr)
        cutoff = np.minimum((250.0 + 5.0 * f0 + 900.0 * b) * 2.0 ** (0.5 * lfo), 0.42 * sr)
        growl = dsp.swept_lowpass(0.4 * saws, cutoff, 1.6, sr)
        sub = 0.8 * np.sin(dsp.TWO_PI * dsp.phase_constant(f0, m, sr))
        tone = dsp.saturate(growl + sub, 1.5)
        env = dsp.adsr(req.gate, m, sr, attack=0.004, decay=0.2, sustain=0.9, release=self.release_s)
        return _dc_blocked(tone * env * self.level, sr)


class PWMPad(Voice):
    """Juno-style pulse-width-modulated pad: two pulse waves a few cents apart, their widths swept by
    slow LFOs in opposite phase (the chorus-like shimmer of PWM), one leading each side; a low-pass that
    opens with velocity. The attack follows the note: long chords swell, short arp notes speak."""

    name = "pwm_pad"
    stereo = True
    level = 0.36
    release_s = 0.7
    lfo_hz = (0.53, 0.41)
    detune_cents = (-6.0, 6.0)

    def render(self, req: NoteRequest) -> np.ndarray:
        sr, f0, m, t, b = _Note.of(req, self.release_s)
        sides = []
        for cents, rate, phase0 in zip(self.detune_cents, self.lfo_hz, (0.0, 0.5), strict=True):
            f = f0 * 2.0 ** (cents / 1200.0)
            width = 0.5 + 0.38 * np.sin(dsp.TWO_PI * (rate * t + phase0))
            phase = dsp.phase_constant(f, m, sr, phase0)
            sides.append(dsp.pulse(phase, f / sr, width))
        # Each side mostly its own oscillator: wide, yet correlated enough to hold up in mono.
        stereo = np.stack([sides[0] + 0.45 * sides[1], sides[1] + 0.45 * sides[0]]) / 1.45
        stereo = dsp.lowpass(stereo, min(1200.0 + 4500.0 * b, 0.42 * sr), sr, q=1.2, poles=2)
        attack = min(0.35, max(0.004, 0.3 * req.gate / sr))
        env = dsp.adsr(req.gate, m, sr, attack=attack, decay=0.8, sustain=0.8, release=min(self.release_s, 0.1 + req.gate / sr))
        return (stereo * env * self.level).astype(np.float32)


def _fm(carrier: np.ndarray, modulator: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Two-operator FM (phase modulation, as on the DX7): sin(carrier + index * sin(modulator))."""
    return np.sin(dsp.TWO_PI * carrier + index * np.sin(dsp.TWO_PI * modulator))


class FMElectricPiano(Voice):
    """DX7-style electric piano: a 1:1 FM pair whose index falls after the hammer (bright attack,
    mellow body), a 14:1 pair for the tine's metallic ping, a decaying level, and a gentle stereo
    tremolo, as a suitcase Rhodes pans."""

    name = "fm_epiano"
    stereo = True
    level = 0.45
    release_s = 0.35

    def render(self, req: NoteRequest) -> np.ndarray:
        sr, f0, m, t, b = _Note.of(req, self.release_s)
        body_phase = dsp.phase_constant(f0, m, sr)
        body = _fm(body_phase, body_phase, (0.4 + 2.2 * b) * np.exp(-t / 0.35) + 0.25)
        tine_phase = dsp.phase_constant(14.0 * f0, m, sr)
        tine = _fm(body_phase, tine_phase, (0.3 + 1.5 * b) * np.exp(-t / 0.025)) * np.exp(-t / 0.6)
        decay = np.exp(-t / (1.2 + 2.0 * (f0 < 400.0)))  # low notes ring longer
        tone = (0.8 * body + 0.35 * tine) * decay
        env = dsp.adsr(req.gate, m, sr, attack=0.0015, decay=0.05, sustain=1.0, release=self.release_s)
        pan = 0.35 * np.sin(dsp.TWO_PI * 4.2 * t)  # tremolo as auto-pan, +-0.35
        mono = tone * env * self.level
        return np.stack([mono * np.sqrt(1.0 - pan), mono * np.sqrt(1.0 + pan)]).astype(np.float32)  # constant power


class FMBells(Voice):
    """FM bell: an inharmonic 1:3.5 pair whose index decays slowly (the strike's clang fading into a
    pure hum), a second pair a touch sharper blended into the right side for width; long decay."""

    name = "fm_bells"
    stereo = True
    level = 0.4
    release_s = 0.9

    def render(self, req: NoteRequest) -> np.ndarray:
        sr, f0, m, t, b = _Note.of(req, self.release_s)
        index = (1.0 + 3.0 * b) * np.exp(-t / 0.9)
        pairs = []
        for sharpen in (1.0, 2.0 ** (4.0 / 1200.0)):
            carrier = dsp.phase_constant(f0 * sharpen, m, sr)
            pairs.append(_fm(carrier, dsp.phase_constant(3.5 * f0 * sharpen, m, sr), index))
        # The sharper pair only on the right, and only partly: width without a hollow mono sum.
        sides = [pairs[0], 0.6 * pairs[0] + 0.4 * pairs[1]]
        decay = np.exp(-t / 2.2)
        env = dsp.adsr(req.gate, m, sr, attack=0.001, decay=0.05, sustain=1.0, release=self.release_s)
        return (np.stack(sides) * decay * env * self.level).astype(np.float32)


SYNTH_VOICES: tuple[type[Voice], ...] = (
    SuperSaw,
    SquareLead,
    AnalogBass,
    Bass808,
    WobbleBass,
    WarmPad,
    Riser,
    ReeseBass,
    PWMPad,
    FMElectricPiano,
    FMBells,
)
