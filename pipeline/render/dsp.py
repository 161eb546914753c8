"""Small vectorised DSP building blocks shared by the synth and drum voices.

Everything here works on whole numpy arrays (one note at a time); nothing loops per sample in Python.
Phases are accumulated in float64 (a float32 phase drifts audibly over a long note), audio is float32.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import signal

try:  # scipy's sosfilt kernel without its argument checks: ~10x less overhead per short block
    from scipy.signal._sosfilt import _sosfilt as _sosfilt_in_place
except ImportError:  # pragma: no cover
    _sosfilt_in_place = None

TWO_PI = 2.0 * math.pi


def midi_to_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def velocity_gain(velocity: int) -> float:
    """Amplitude for a MIDI velocity: a gentle power curve (64 -> about -10 dB below 127)."""
    return (max(1, min(127, velocity)) / 127.0) ** 1.6


def brightness(velocity: int) -> float:
    """0..1: how open a synth's filter is for this velocity (harder hits sound brighter)."""
    return (max(1, min(127, velocity)) / 127.0) ** 1.2


def pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power pan law (-3 dB at the sides relative to the centre), scaled so centre = unity."""
    theta = (max(-1.0, min(1.0, pan)) + 1.0) * math.pi / 4.0
    return math.sqrt(2.0) * math.cos(theta), math.sqrt(2.0) * math.sin(theta)


def rng_for(*keys: int) -> np.random.Generator:
    """A private random stream for (arrangement seed, track index, note index, ...): no global RNG."""
    return np.random.default_rng([k & 0xFFFFFFFFFFFFFFFF for k in keys])


# --- oscillators ---------------------------------------------------------------------------------


def wrap(x: np.ndarray) -> np.ndarray:
    """x mod 1, in place (x - floor(x) is several times faster than np.mod on floats)."""
    x -= np.floor(x)
    return x


def phase_constant(freq: float | np.ndarray, n: int, sample_rate: int, phase0: float | np.ndarray = 0.0) -> np.ndarray:
    """Phase in cycles [0, 1) of oscillators at fixed frequencies: shape (n,) or (len(freq), n)."""
    k = np.arange(n, dtype=np.float64)
    inc = np.asarray(freq, dtype=np.float64) / sample_rate
    phase = np.multiply.outer(inc, k)
    phase += np.asarray(phase0, dtype=np.float64)[..., None] if inc.ndim else phase0
    return wrap(phase)


def phase_from_freq(freq: np.ndarray, sample_rate: int, phase0: float = 0.0) -> np.ndarray:
    """Phase in cycles [0, 1) for a time-varying frequency (vibrato, pitch drops)."""
    ph = np.cumsum(freq / sample_rate, axis=-1)
    ph += phase0 - freq[..., :1] / sample_rate  # first sample at phase0
    return wrap(ph)


def _polyblep_correct(out: np.ndarray, phase: np.ndarray, dt: np.ndarray | float, scale: float) -> None:
    """Subtract the PolyBLEP residual at a falling edge located at phase 0 (in place, sparse)."""
    dt_arr = np.broadcast_to(np.asarray(dt, dtype=np.float64), phase.shape)
    idx = np.nonzero(phase < dt_arr)
    if idx[0].size:
        t = phase[idx] / dt_arr[idx]
        out[idx] -= scale * (t + t - t * t - 1.0)
    idx = np.nonzero(phase > 1.0 - dt_arr)
    if idx[0].size:
        t = (phase[idx] - 1.0) / dt_arr[idx]
        out[idx] -= scale * (t * t + t + t + 1.0)


def saw(phase: np.ndarray, dt: np.ndarray | float) -> np.ndarray:
    """Band-limited (PolyBLEP) rising sawtooth in [-1, 1]; dt = frequency / sample rate."""
    out = 2.0 * phase - 1.0
    _polyblep_correct(out, phase, dt, 1.0)
    return out


def pulse(phase: np.ndarray, dt: np.ndarray | float, width: float = 0.5) -> np.ndarray:
    """Band-limited pulse as the difference of two saws: zero DC for any width."""
    shifted = wrap(phase - width)
    return 0.5 * (saw(phase, dt) - saw(shifted, dt))


# --- envelopes -----------------------------------------------------------------------------------


def adsr(
    gate: int,
    total: int,
    sample_rate: int,
    attack: float,
    decay: float,
    sustain: float,
    release: float,
) -> np.ndarray:
    """Linear attack, exponential decay to `sustain`, exponential release from wherever the gate ended.

    `gate` is how long the key is held (samples), `total` the buffer length (gate + release tail).
    """
    # Time of each sample's end: the onset sample itself is already (slightly) audible, never exactly 0.
    t = np.arange(1, total + 1, dtype=np.float64) / sample_rate
    a = max(attack, 1e-4)
    d = max(decay, 1e-4)
    env = np.where(
        t < a,
        t / a,
        sustain + (1.0 - sustain) * np.exp(-(t - a) / (d / 4.0)),  # ~98% of the way after `decay`
    )
    t_off = gate / sample_rate
    level_off = (t_off / a) if t_off < a else sustain + (1.0 - sustain) * math.exp(-(t_off - a) / (d / 4.0))
    r = max(release, 1e-3)
    rel = level_off * np.exp(-(t - t_off) / (r / 5.0))  # -43 dB after `release`
    env = np.where(t < t_off, env, rel)
    return env.astype(np.float32)


def fade_out(n: int) -> np.ndarray:
    """Raised-cosine fade from 1 to 0 over n samples (declicks cut notes)."""
    return (0.5 + 0.5 * np.cos(np.linspace(0.0, math.pi, n, dtype=np.float64))).astype(np.float32)


# --- filters -------------------------------------------------------------------------------------


def lowpass_sos(cutoff_hz: float, q: float, sample_rate: int) -> np.ndarray:
    """One RBJ-cookbook resonant low-pass biquad as an SOS row (scipy's designers take no Q)."""
    f = min(max(cutoff_hz, 10.0), 0.45 * sample_rate)
    w0 = TWO_PI * f / sample_rate
    alpha = math.sin(w0) / (2.0 * max(q, 0.1))
    cw = math.cos(w0)
    b0 = (1.0 - cw) / 2.0
    a0 = 1.0 + alpha
    return np.array([[b0 / a0, (1.0 - cw) / a0, b0 / a0, 1.0, -2.0 * cw / a0, (1.0 - alpha) / a0]])


def lowpass(x: np.ndarray, cutoff_hz: float, sample_rate: int, q: float = 0.7071, poles: int = 2) -> np.ndarray:
    """Static low-pass (12 or 24 dB/oct) along the last axis."""
    sos = np.vstack([lowpass_sos(cutoff_hz, q if i == 0 else 0.7071, sample_rate) for i in range(poles // 2)])
    return signal.sosfilt(sos, x, axis=-1)


@functools.lru_cache(maxsize=512)
def _butter(order: int, edges: tuple[float, ...], kind: str, sample_rate: int) -> np.ndarray:
    sos = signal.butter(order, list(edges) if len(edges) > 1 else edges[0], kind, fs=sample_rate, output="sos")
    return sos


def _hz(f: float) -> float:
    """Round a corner frequency to 1/100 octave so drum hits of similar velocity share one design."""
    return float(2.0 ** (round(math.log2(max(f, 1.0)) * 100.0) / 100.0))


def highpass(x: np.ndarray, cutoff_hz: float, sample_rate: int, order: int = 2) -> np.ndarray:
    sos = _butter(order, (_hz(min(cutoff_hz, 0.45 * sample_rate)),), "highpass", sample_rate)
    return signal.sosfilt(sos, x, axis=-1)


def bandpass(x: np.ndarray, low_hz: float, high_hz: float, sample_rate: int, order: int = 2) -> np.ndarray:
    high = min(high_hz, 0.45 * sample_rate)
    sos = _butter(order, (_hz(min(low_hz, high * 0.9)), _hz(high)), "bandpass", sample_rate)
    return signal.sosfilt(sos, x, axis=-1)


def _lowpass_coefficients(cutoff_hz: np.ndarray, q: float, sample_rate: int, sections: int) -> np.ndarray:
    """RBJ low-pass biquads for many cutoffs at once: shape (len(cutoff_hz), sections, 6).

    The first section carries the resonance `q`, the others are Butterworth (Q = 0.7071)."""
    f = np.clip(cutoff_hz, 10.0, 0.45 * sample_rate)
    w0 = TWO_PI * f / sample_rate
    cw, sw = np.cos(w0), np.sin(w0)
    out = np.empty((f.size, sections, 6))
    for s in range(sections):
        alpha = sw / (2.0 * (max(q, 0.1) if s == 0 else 0.7071))
        a0 = 1.0 + alpha
        out[:, s, 0] = out[:, s, 2] = (1.0 - cw) / 2.0 / a0
        out[:, s, 1] = (1.0 - cw) / a0
        out[:, s, 3] = 1.0
        out[:, s, 4] = -2.0 * cw / a0
        out[:, s, 5] = (1.0 - alpha) / a0
    return out


def swept_lowpass(
    x: np.ndarray, cutoff_hz: np.ndarray, q: float, sample_rate: int, block: int = 64, poles: int = 4
) -> np.ndarray:
    """Resonant low-pass whose cutoff moves over time (filter envelopes, wobble LFOs).

    The cutoff is held per block of `block` samples and the filter state carries across blocks, so
    the loop runs once per block (a 64-sample block is 1.5 ms: finer than a sweep can be heard), never
    per sample. Consecutive blocks whose cutoff moved less than a quarter semitone share one run.
    `cutoff_hz` gives one value per sample; each block uses its first value.
    """
    signal_1xn = np.array(x, dtype=np.float64, ndmin=2, copy=True)  # filtered in place, one row
    n = signal_1xn.shape[1]
    starts = np.arange(0, n, block)
    log_cut = np.log2(np.clip(np.asarray(cutoff_hz, dtype=np.float64)[starts], 10.0, 0.45 * sample_rate))
    run_starts = [0]
    for i in range(1, len(starts)):
        first = run_starts[-1]
        if abs(log_cut[i] - log_cut[first]) >= 1.0 / 48.0 or i - first >= 64:
            run_starts.append(i)
    coefficients = _lowpass_coefficients(2.0 ** log_cut[run_starts], q, sample_rate, poles // 2)
    edges = [int(starts[i]) for i in run_starts] + [n]
    state = np.zeros((1, poles // 2, 2))
    for r in range(len(run_starts)):
        a, b = edges[r], edges[r + 1]
        if _sosfilt_in_place is not None:
            _sosfilt_in_place(coefficients[r], signal_1xn[:, a:b], state)
        else:  # pragma: no cover - scipy moved its private kernel: same maths, more overhead per call
            signal_1xn[0, a:b], state[0] = signal.sosfilt(coefficients[r], signal_1xn[0, a:b], zi=state[0])
    return signal_1xn.reshape(np.shape(x))


def saturate(x: np.ndarray, drive: float) -> np.ndarray:
    """tanh soft clipper normalised so a full-scale input stays near full scale."""
    return np.tanh(drive * x) / math.tanh(drive)
