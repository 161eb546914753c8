"""The screened true-peak meter gives exactly what full 4x oversampling gives, where it matters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import maximum_filter1d
from scipy.signal import resample_poly

from pipeline.qa.truepeak import PeakEnvelope, _sliding_max, oversampled_peaks, true_peak
from tests.pipeline.audio_fixtures import SR, song


def _full_oversampled(audio: np.ndarray) -> np.ndarray:
    """Reference: every channel through resample_poly(x, 4, 1), as ffmpeg-checked before."""
    return np.stack([resample_poly(channel.astype(np.float64), 4, 1) for channel in audio])


def _reference_envelope(audio: np.ndarray) -> np.ndarray:
    """Per sample i, max |x| over channels of the points 4i-2 .. 4i+1, the last sample keeping the tail."""
    up = np.abs(_full_oversampled(audio)).max(axis=0)
    n = audio.shape[1]
    padded = np.concatenate([[0.0, 0.0], up, [0.0, 0.0]])
    envelope = padded[: 4 * n].reshape(n, 4).max(axis=1)
    envelope = np.maximum(envelope, np.abs(audio).max(axis=0))
    envelope[-1] = max(envelope[-1], up[-2:].max())
    return envelope


@pytest.mark.parametrize("seed", range(4))
def test_true_peak_equals_full_oversampling(seed):
    rng = np.random.default_rng(seed)
    audio = rng.standard_normal((2, 20_001)).astype(np.float32) * rng.uniform(0.01, 2.0)
    expected = max(np.abs(_full_oversampled(audio)).max(), np.abs(audio).max())
    # Phase 0 of the filter is 1.0006 x: within 0.001 of |x|.
    assert true_peak(audio) == pytest.approx(expected, rel=1e-3)


def test_true_peak_finds_the_intersample_peak_of_a_quarter_rate_sine():
    n = np.arange(SR)
    tone = np.sin(2 * np.pi * n / 4 + np.pi / 4).astype(np.float32)  # every sample at 0.707 of the peak
    assert np.abs(tone).max() == pytest.approx(0.7071, abs=1e-3)
    assert true_peak(tone) == pytest.approx(1.0, abs=0.02)  # within 0.2 dB: the filter's passband ripple


def test_screened_envelope_is_exact_above_its_floor():
    audio = song(120, "A", "minor", 6.0) * np.float32(1.5)
    reference = _reference_envelope(audio)
    full = oversampled_peaks(audio)
    assert np.allclose(full, reference, rtol=1e-3, atol=1e-6)
    floor = float(np.percentile(reference, 99))
    screened = oversampled_peaks(audio, floor)
    loud = reference > floor * 1.002
    assert loud.sum() > 100
    assert np.allclose(screened[loud], reference[loud], rtol=1e-3)
    assert np.all(screened[~loud] <= floor * 1.002)
    assert np.all(screened >= np.abs(audio).max(axis=0))


def test_peak_envelope_scales_and_refines_when_asked_lower():
    audio = song(90, "D", "dorian", 4.0)
    envelope = PeakEnvelope(audio)
    reference = _reference_envelope(audio)
    high = float(reference.max()) * 0.9
    doubled = envelope.scaled(2.0).above(2 * high)
    assert np.allclose(doubled[reference > high], 2 * reference[reference > high], rtol=1e-3)
    low = float(np.median(reference))
    refined = envelope.above(low)  # below the first floor: recomputed
    assert np.allclose(refined[reference > low], reference[reference > low], rtol=1e-3)


@pytest.mark.parametrize("size", [1, 5, 20, 21, 22, 1000])
def test_sliding_max_matches_scipy(size):
    values = np.random.default_rng(size).random(size).astype(np.float32)
    assert np.array_equal(_sliding_max(values, 10), maximum_filter1d(values, 21, mode="constant"))
