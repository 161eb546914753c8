"""master(): loudness on target and true peak under the ceiling, checked by an independent meter."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import soundfile

from pipeline.limiter import LimiterParams, limit
from pipeline.mastering import MasterParams, master
from pipeline.mixing import MixParams
from pipeline.qa import corrective, run_qa
from pipeline.qa.loudness import fast_integrated_lufs, integrated_lufs
from pipeline.qa.truepeak import true_peak_dbtp
from tests.pipeline.audio_fixtures import SR, ebur128, make_spec, noise, song

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None and os.environ.get("CI") != "true", reason="ffmpeg is not installed"
)


@pytest.fixture(scope="module")
def track() -> np.ndarray:
    return song(120, "A", "minor", 12.0)


@needs_ffmpeg
@pytest.mark.parametrize("target", [-14.0, -16.0, -9.0])
@pytest.mark.parametrize("input_gain_db", [-30.0, 0.0, 12.0])
def test_master_lands_on_target_with_true_peak_under_ceiling(track, tmp_path, target, input_gain_db):
    mix = track * np.float32(10 ** (input_gain_db / 20))
    mastered = master(mix, SR, MasterParams(target_lufs=target, ceiling_dbtp=-1.0))
    path = tmp_path / "m.wav"
    soundfile.write(path, mastered.T, SR, subtype="PCM_24")
    lufs, peak = ebur128(path)
    assert abs(lufs - target) <= 0.5, f"ffmpeg measured {lufs} LUFS for target {target}"
    assert peak <= -1.0, f"ffmpeg measured true peak {peak} dBTP"
    assert np.max(np.abs(mastered)) < 0.999


def test_master_keeps_shape_and_silence():
    silent = np.zeros((2, SR * 2), np.float32)
    assert np.array_equal(master(silent, SR), silent)
    out = master(noise(3.0, 0.05), SR)
    assert out.shape == (2, 3 * SR) and out.dtype == np.float32


def test_limiter_enforces_ceiling_on_intersample_peaks():
    # A quarter-sample-rate sine at 45 degrees: every sample is at 0.707 of the true peak.
    n = np.arange(SR * 2)
    tone = np.sin(2 * np.pi * (SR / 4) * n / SR + np.pi / 4).astype(np.float32) * 1.2
    audio = np.stack([tone, tone])
    assert true_peak_dbtp(audio) > 1.0
    limited = limit(audio, SR, LimiterParams(ceiling_dbtp=-1.0))
    assert true_peak_dbtp(limited) <= -1.0


def test_limiter_leaves_quiet_audio_untouched():
    quiet = noise(2.0, 0.01)
    assert np.allclose(limit(quiet, SR, LimiterParams(ceiling_dbtp=-1.0)), quiet)


def test_hot_first_master_fails_qa_and_the_corrected_retry_passes(track):
    """THE RETRY CASE: forced ~-9.5 LUFS and clipping -> QA fails -> corrective -> passes near -14."""
    spec = make_spec(tempo_bpm=120, key="A minor", duration_s=12.0, loudness_lufs=-14.0, true_peak_dbtp=-1.0)
    mix_params, master_params = MixParams(), MasterParams(pre_gain_db=4.5)

    first = master(track, SR, master_params)
    report1 = run_qa(first, SR, spec, attempt=1)
    assert not report1.passed
    assert report1.failed("loudness") and (report1.failed("clipping") or report1.failed("true_peak"))
    assert report1.check("clipping").measured > 0
    assert -10.0 <= report1.check("loudness").measured <= -9.0
    assert any("too loud" in reason for reason in report1.failures)

    fix = corrective(report1, mix_params, master_params)
    assert fix.actions
    second = master(track, SR, fix.master_params)
    report2 = run_qa(second, SR, spec, attempt=2)
    assert report2.passed, report2.failures
    assert abs(report2.check("loudness").measured + 14.0) <= 0.5
    assert report2.check("clipping").measured == 0
    assert report2.check("true_peak").measured <= -1.0
    both = [report1.to_dict(), report2.to_dict()]
    assert [r["attempt"] for r in both] == [1, 2] and [r["passed"] for r in both] == [False, True]


def test_master_params_round_trip():
    params = MasterParams(target_lufs=-16.0, pre_gain_db=2.0)
    assert MasterParams.from_dict(params.to_dict()) == params


def test_mastered_loudness_agrees_with_our_meter(track):
    mastered = master(track, SR)
    assert abs(integrated_lufs(mastered, SR) + 14.0) <= 0.2


@pytest.mark.parametrize(
    "make",
    [
        lambda: noise(12.0, 0.1),
        lambda: song(100, "E", "minor", 12.0) * 0.2,
        lambda: song(100, "E", "minor", 12.0)[:, : int(0.45 * SR)],  # one gating block and a bit
        lambda: np.concatenate([noise(4.0, 0.1), noise(4.0, 0.0001), song(90, "C", "major", 25.0)], axis=1),
        lambda: noise(12.0, 0.1)[:1],  # mono
    ],
)
def test_fast_meter_equals_pyloudnorm(make):
    """QA and mastering use the vectorised meter: it must give pyloudnorm's own figure."""
    audio = make()
    assert abs(fast_integrated_lufs(audio, SR) - integrated_lufs(audio, SR)) < 1e-6


@pytest.mark.parametrize("rate", [48000, 22050, 96000])
def test_fast_meter_equals_pyloudnorm_at_other_rates(rate):
    seconds = np.arange(int(6.3 * rate)) / rate
    audio = np.stack([np.sin(2 * np.pi * 440 * seconds), 0.5 * np.sin(2 * np.pi * 97 * seconds)]).astype(np.float32)
    assert abs(fast_integrated_lufs(audio, rate) - integrated_lufs(audio, rate)) < 1e-6


def test_limiter_release_matches_the_recursion_across_blocks():
    from pipeline.limiter import _release

    rng = np.random.default_rng(3)
    ahead = np.where(rng.random(5000) < 0.01, rng.uniform(0.0, 6.0, 5000), 0.0).astype(np.float32)
    step = 20.0 / 44100 * 40  # fast release, so it both carries over block edges and dies out
    expected = np.zeros_like(ahead)
    previous = 0.0
    for i, value in enumerate(ahead):
        previous = max(float(value), previous - step)
        expected[i] = previous
    for block in (64, 999, 1 << 16):
        assert np.allclose(_release(ahead, step, block=block), expected, atol=1e-4)
