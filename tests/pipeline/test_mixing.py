"""mix_stems: the stems sum to the mix, offsets land in dB, sidechain ducks, EQ high-passes."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.mixing import MixParams, active_rms_db, mix_stems
from pipeline.score import Arrangement, Note, Track
from tests.pipeline.audio_fixtures import (
    SR,
    chord_progression,
    harmonic_tone,
    kick_pattern,
    make_spec,
    noise,
    sine,
    stereo,
)

BPM = 124.0
SECONDS = 8.0


def arrangement(genre: str = "house", kicks: bool = True) -> Arrangement:
    beats = int(SECONDS * BPM / 60)
    drum_notes = [Note(start=float(b), duration=0.25, pitch=36, velocity=110) for b in range(beats)] if kicks else []
    return Arrangement(
        tempo_bpm=BPM,
        beats_per_bar=4,
        beat_unit=4,
        key_tonic_pc=9,
        mode="minor",
        bars=beats // 4,
        sections=[],
        tracks=[
            Track(role="drums", instrument="drums", program=0, is_drum=True, notes=drum_notes),
            Track(role="bass", instrument="synth-bass", program=38, notes=[Note(0.0, 4.0, 33, 100)]),
            Track(role="harmony", instrument="piano", program=0, notes=[Note(0.0, 4.0, 57, 100)]),
            Track(role="pad", instrument="synth-pad", program=89, notes=[Note(0.0, 4.0, 57, 100)]),
            Track(role="lead", instrument="synth-lead", program=81, notes=[Note(0.0, 4.0, 69, 100)]),
        ],
        seed=1,
        genre=genre,
    )


@pytest.fixture(scope="module")
def stems() -> dict[str, np.ndarray]:
    return {
        "drums": kick_pattern(BPM, SECONDS),
        "bass": stereo(harmonic_tone(33, SECONDS, amplitude=0.3)),
        "harmony": chord_progression("A", "minor", SECONDS, bpm=BPM),
        "pad": noise(SECONDS, 0.05, seed=3),
        "lead": stereo(harmonic_tone(69, SECONDS, amplitude=0.2)),
    }


def spec(genre: str = "house", **values):
    return make_spec(genres=[genre], tempo_bpm=BPM, key="A minor", duration_s=SECONDS, **values)


def test_processed_stems_sum_to_the_mix(stems):
    result = mix_stems(stems, arrangement(), spec(), MixParams())
    assert set(result.stems) == set(stems)
    total = np.sum(np.stack(list(result.stems.values())), axis=0)
    assert result.mix.shape == (2, stems["drums"].shape[1]) and result.mix.dtype == np.float32
    assert np.max(np.abs(total - result.mix)) < 1e-5


@pytest.mark.parametrize(
    "key, role, db", [("bass", "bass", -6.0), ("synth-lead", "lead", 4.0), ("drums", "drums", -4.0)]
)
def test_offsets_move_their_stem_by_the_db_asked(stems, key, role, db):
    plain = mix_stems(stems, arrangement(), spec(), MixParams())
    moved = mix_stems(stems, arrangement(), spec(), MixParams(stem_offsets_db={key: db}))
    change = active_rms_db(moved.stems[role], SR) - active_rms_db(plain.stems[role], SR)
    assert abs(change - db) < 0.1
    others = [r for r in stems if r != role]
    for other in others:
        assert np.allclose(moved.stems[other], plain.stems[other])


def test_spec_mix_offsets_apply_once_even_when_also_passed_in_params(stems):
    plain = mix_stems(stems, arrangement(), spec(), MixParams())
    both = mix_stems(stems, arrangement(), spec(mix={"drums": -4.0}), MixParams(stem_offsets_db={"drums": -4.0}))
    change = active_rms_db(both.stems["drums"], SR) - active_rms_db(plain.stems["drums"], SR)
    assert abs(change + 4.0) < 0.1


def test_unknown_offset_is_noted_not_fatal(stems):
    result = mix_stems(stems, arrangement(), spec(), MixParams(stem_offsets_db={"bagpipes": -3.0}))
    assert any("bagpipes" in note for note in result.notes)


def _envelope_at(stem: np.ndarray, times_s: list[float], window_s: float = 0.02) -> float:
    w = int(window_s * SR)
    values = [np.sqrt(np.mean(stem[:, int(t * SR) : int(t * SR) + w] ** 2)) for t in times_s]
    return 20 * np.log10(np.mean(values))


@pytest.mark.parametrize("use_arrangement", [True, False])
def test_sidechain_ducks_bass_under_kicks(stems, use_arrangement):
    beat = 60.0 / BPM
    kicks = [b * beat + 0.01 for b in range(2, int(SECONDS / beat) - 1)]
    between = [b * beat + 0.8 * beat for b in range(2, int(SECONDS / beat) - 1)]
    arr = arrangement() if use_arrangement else None
    ducked = mix_stems(stems, arr, spec(), MixParams()).stems["bass"]
    assert _envelope_at(ducked, between) - _envelope_at(ducked, kicks) >= 3.0
    flat = mix_stems(stems, arr, spec(), MixParams(sidechain_depth_db=0.0)).stems["bass"]
    assert abs(_envelope_at(flat, between) - _envelope_at(flat, kicks)) < 1.5


def test_no_sidechain_in_genres_without_it(stems):
    beat = 60.0 / BPM
    kicks = [b * beat + 0.01 for b in range(2, int(SECONDS / beat) - 1)]
    between = [b * beat + 0.8 * beat for b in range(2, int(SECONDS / beat) - 1)]
    bass = mix_stems(stems, arrangement("jazz"), spec("jazz"), MixParams()).stems["bass"]
    assert abs(_envelope_at(bass, between) - _envelope_at(bass, kicks)) < 1.5


def _band_db(audio: np.ndarray, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(audio.mean(axis=0))) ** 2
    freqs = np.fft.rfftfreq(audio.shape[1], 1 / SR)
    return 10 * np.log10(spectrum[(freqs >= low) & (freqs < high)].sum() + 1e-20)


@pytest.mark.parametrize("role", ["harmony", "pad", "lead"])
def test_high_pass_removes_lows_from_non_bass_roles(role):
    test_stems = {role: sine(50.0, SECONDS, 0.3) + sine(1000.0, SECONDS, 0.3)}
    out = mix_stems(test_stems, arrangement(), spec(), MixParams()).stems[role]
    before = _band_db(test_stems[role], 45, 55) - _band_db(test_stems[role], 950, 1050)
    after = _band_db(out, 45, 55) - _band_db(out, 950, 1050)
    assert before - after >= 20.0


def test_bass_keeps_its_lows_and_is_mono(stems):
    out = mix_stems({"bass": stems["bass"]}, arrangement("jazz"), spec("jazz"), MixParams()).stems["bass"]
    assert _band_db(out, 50, 60) > _band_db(out, 900, 1100)
    assert np.max(np.abs(out[0] - out[1])) < 1e-6


def test_mixing_is_deterministic(stems):
    a = mix_stems(stems, arrangement(), spec(), MixParams())
    b = mix_stems(stems, arrangement(), spec(), MixParams())
    assert np.array_equal(a.mix, b.mix)


@pytest.mark.parametrize("genre", ["lofi-hiphop", "metal", "ambient", "synthwave"])
def test_genre_flavours_run_and_stay_finite(stems, genre):
    result = mix_stems(stems, arrangement(genre), spec(genre), MixParams())
    assert np.all(np.isfinite(result.mix)) and np.max(np.abs(result.mix)) > 0.01
