"""ampa's control around neural takes, on synthetic grooves with a known tempo and key."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.backends import control
from pipeline.qa.key import estimate_key
from pipeline.qa.tempo import estimate_tempo
from pipeline.spec import Spec
from tests.stability_server import groove

SR = 44100


def _spec(bpm: float = 128, key: str = "F minor", seconds: float = 8.0, meter: str = "4/4") -> Spec:
    return Spec.from_dict(
        {"genres": ["techno"], "tempo_bpm": bpm, "key": key, "duration_s": seconds, "time_signature": meter, "seed": 5}
    )


@pytest.fixture(scope="module")
def slow_and_flat() -> control.Controlled:
    """A take at 125 BPM in Eb minor for a request of 128 BPM in F minor: close on both counts."""
    take = control.Take(audio=groove(125, 3, True, 8.0), sample_rate=SR, seed=9)
    return control.correct(take, _spec(), SR)


def test_a_close_take_is_stretched_and_shifted_onto_the_asked_tempo_and_key(slow_and_flat):
    assert slow_and_flat.on_target, slow_and_flat.problems
    assert slow_and_flat.tempo_before == pytest.approx(125, abs=0.5) and slow_and_flat.key_before == "Eb minor"
    assert slow_and_flat.corrections == ("time-stretched 125.0 → 128 BPM (+2.4 %)", "pitch-shifted Eb minor → F minor (+2 semitones)")
    # Measured again from the corrected audio, independently of what the corrector believed.
    assert estimate_tempo(slow_and_flat.audio, SR, 128).bpm == pytest.approx(128, rel=0.02)
    assert estimate_key(slow_and_flat.audio, SR).name == "F minor"
    assert slow_and_flat.audio.shape[1] == pytest.approx(8.0 * SR * 125 / 128, rel=0.01)


def test_a_take_too_far_off_is_not_forced(tmp_path):
    take = control.Take(audio=groove(100, 5, False, 8.0), sample_rate=SR, seed=1)
    result = control.correct(take, _spec(), SR)
    assert not result.on_target
    assert any("too far from 128" in p for p in result.problems)
    assert any("F major cannot be shifted cleanly to F minor" in p for p in result.problems)
    assert result.corrections == ()


def test_far_takes_are_re_requested_with_new_seeds_until_one_lands():
    seeds_asked: list[int] = []

    def make_take(seed: int) -> control.Take:
        seeds_asked.append(seed)
        bpm = 100 if len(seeds_asked) == 1 else 127  # the first take is far off, the second close
        return control.Take(audio=groove(bpm, 5, True, 6.0), sample_rate=SR, seed=seed)

    seeds = control.take_seeds(5, 0, 3)
    chosen, tried = control.best_take(_spec(seconds=5), make_take, seeds, sample_rate=SR)
    assert seeds_asked == seeds[:2] and len(set(seeds)) == 3
    assert chosen.seed == seeds[1] and chosen.on_target and len(tried) == 2
    assert control.take_seeds(5, 0, 3) == seeds  # reproducible from the job's seed


def test_the_length_is_cut_to_whole_bars_on_the_beat_grid():
    spec = _spec(bpm=120, seconds=6.2)  # 2 s bars: 3 bars
    audio = np.concatenate([np.zeros((2, int(0.3 * SR)), np.float32), groove(120, 5, True, 9.0)], axis=1)
    fitted, notes = control.fit_length(audio, SR, spec, control.target_bars(spec))
    assert notes == [] and fitted.shape[1] == 3 * 2 * SR
    # The cut starts on the first kick (0.3 s in), not in the silence before it.
    assert np.max(np.abs(fitted[:, : int(0.02 * SR)])) > 0.05
    assert np.max(np.abs(fitted[:, -10:])) < 1e-3  # faded out over the last beat


def test_a_short_take_keeps_whole_bars_and_says_so():
    spec = _spec(bpm=120, seconds=10)
    fitted, notes = control.fit_length(groove(120, 5, True, 7.0), SR, spec, 5, align=False)
    assert fitted.shape[1] == 3 * 2 * SR and notes == ["the model returned 7.0 s; kept 3 whole bars"]


def test_long_tracks_are_made_in_segments_joined_on_bar_lines():
    spec = _spec(bpm=120, seconds=14)  # 7 bars of 2 s; at most 3 bars (6 s) per segment
    asked: list[control.Segment] = []

    def make_take(segment: control.Segment, seed: int) -> control.Take:
        asked.append(segment)
        return control.Take(audio=groove(120, 5, True, segment.request_s), sample_rate=SR, seed=seed)

    track = control.controlled_track(
        spec, make_take, sample_rate=SR, max_segment_s=6.5, max_request_s=190, takes=2, align=False,
        on_stage=lambda stage: None,
    )
    assert [s.bars for s in asked] == [3, 2, 2] and [s.start_s for s in asked] == [0.0, 6.0, 10.0]
    assert asked[0].request_s >= 6.0 * 1.08 and [s.last for s in asked] == [False, False, True]
    assert track.mix.shape == (2, 14 * SR)
    assert "made in 3 segments of 3, 2, 2 bars, joined on bar lines" in track.notes
    assert estimate_tempo(track.mix, SR, 120).bpm == pytest.approx(120, rel=0.02)


def test_segments_are_as_equal_as_whole_bars_allow():
    assert control.plan_segments(90, 1.875, 170.0) == [90]  # 168.75 s: one request
    assert control.plan_segments(100, 1.875, 170.0) == [50, 50]
    assert control.plan_segments(181, 1.875, 170.0) == [61, 60, 60]
    assert control.plan_segments(7, 2.0, 6.5) == [3, 2, 2]
