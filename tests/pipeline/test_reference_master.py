"""Reference mastering and a reference followed through the whole pipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from pipeline.mastering import MasterParams, master
from pipeline.qa.loudness import integrated_lufs
from pipeline.qa.truepeak import true_peak_dbtp
from pipeline.reference.character import long_term_balance, measure
from pipeline.reference_master import ReferenceShaper, balance_distance_db
from pipeline.spec import Spec
from tests.pipeline import reference_fixtures as F
from tests.pipeline.audio_fixtures import noise

SR = F.SR


def _character(audio):
    return measure(audio, SR, F.stereo(audio.mean(axis=0))[0], onsets_per_s=4.0)


def _tilted(audio: np.ndarray, db_per_octave: float) -> np.ndarray:
    spectrum = np.fft.rfft(audio, axis=1)
    freqs = np.maximum(np.fft.rfftfreq(audio.shape[1], 1 / SR), 20.0)
    spectrum *= (freqs / 1000.0) ** (db_per_octave / 6.02)
    return np.fft.irfft(spectrum, n=audio.shape[1], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def dark_mix_and_bright_reference():
    mix = _tilted(noise(8, seed=1), -0.7) * 0.3
    reference = _tilted(noise(8, seed=2), +0.7) * 0.2
    return mix, _character(reference), reference


def test_matching_moves_the_tonal_balance_towards_the_reference(dark_mix_and_bright_reference):
    mix, reference, _ = dark_mix_and_bright_reference
    params = MasterParams(target_lufs=reference.loudness_lufs)
    shaper = ReferenceShaper.match(reference)
    plain = master(mix, SR, params)
    matched = master(mix, SR, params, shape=shaper)
    target = np.array(reference.balance_db)
    before = balance_distance_db(long_term_balance(plain, SR), target)
    after = balance_distance_db(long_term_balance(matched, SR), target)
    assert after < before * 0.5, (before, after)
    report = shaper.report(matched, SR)
    assert abs(report["loudness_delta_lu"]) <= 0.5
    assert report["balance_distance_after_db"] == pytest.approx(after, abs=0.05)
    assert true_peak_dbtp(matched) <= params.ceiling_dbtp + 0.05


def test_leaning_moves_less_than_matching(dark_mix_and_bright_reference):
    mix, reference, _ = dark_mix_and_bright_reference
    target = np.array(reference.balance_db)
    params = MasterParams()
    lean = balance_distance_db(
        long_term_balance(master(mix, SR, params, shape=ReferenceShaper.lean(reference)), SR), target
    )
    full = balance_distance_db(
        long_term_balance(master(mix, SR, params, shape=ReferenceShaper.match(reference)), SR), target
    )
    plain = balance_distance_db(long_term_balance(master(mix, SR, params), SR), target)
    assert full < lean < plain


def test_width_follows_the_reference():
    mono_mix = F.stereo(noise(6, seed=3)[0] * 0.2)
    wide = F.stereo(noise(6, seed=4)[0] * 0.2, width=0.8)
    shaper = ReferenceShaper.match(_character(wide))
    shaped = shaper(mono_mix + 0.05 * F.stereo(noise(6, seed=5)[0], width=0.8), SR)
    assert shaper.last["side_gain"] > 1.5
    mid, side = shaped.mean(axis=0), (shaped[0] - shaped[1]) / 2
    assert np.sqrt(np.mean(side**2) / np.mean(mid**2)) > 0.1


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    """A 10-second track following a 96 BPM loop in E minor over drums, matched and lined up."""
    from pipeline.produce import produce

    folder = tmp_path_factory.mktemp("ref-produce")
    audio, _ = F.chord_loop("E", "minor", (1, 6, 3, 7), 96, 8, drums_feel="rock", style="stabs")
    audio = np.concatenate([np.zeros((2, int(0.3 * SR)), np.float32), audio], axis=1)
    soundfile.write(folder / "reference.wav", audio.T, SR)
    spec = Spec.from_dict(
        {"genres": ["pop"], "duration_s": 10, "seed": 5, "match_reference": True, "align_to_reference": True}
    )
    result = produce(spec, folder / "out", reference=folder / "reference.wav")
    return result, json.loads((folder / "out" / "report.json").read_text()), folder


def test_the_track_takes_what_the_reference_lends(produced):
    result, report, _ = produced
    assert result.spec.tempo_bpm.value == pytest.approx(96, rel=0.02) and result.spec.tempo_bpm.source == "reference"
    assert result.spec.key.source == "reference"
    assert "drums" not in result.spec.exclude_values  # the reference has drums
    taken = report["reference"]["taken"]
    assert {"tempo", "key", "chords", "loudness", "downbeat"} <= set(taken)
    assert report["reference"]["analysis"]["beat_grid"]["steady"]


def test_qa_reports_how_close_the_master_came(produced):
    result, report, _ = produced
    match = report["qa"][-1]["reference_match"]
    assert match["mode"] == "match"
    assert abs(match["loudness_delta_lu"]) <= 0.6
    assert match["balance_distance_after_db"] < match["balance_distance_before_db"]
    assert any(note.startswith("mastered to the reference") for note in result.notes)
    assert result.passed


def test_bar_one_lands_on_the_reference_downbeat(produced):
    result, _, folder = produced
    lead = result.spec.lead_in_s.value
    assert lead == pytest.approx(0.3, abs=0.03)
    mix, sr = soundfile.read(folder / "out" / "mix.wav", always_2d=True)
    silent = int(lead * sr) - 10
    assert np.max(np.abs(mix[:silent])) == 0.0 and np.max(np.abs(mix[silent + 2000 :])) > 0.01
    stem = next((folder / "out" / "stems").glob("*.flac"))
    data, _ = soundfile.read(stem, always_2d=True)
    assert data.shape[0] == mix.shape[0] and np.max(np.abs(data[:silent])) == 0.0
    assert integrated_lufs(mix.T.astype(np.float32), sr) == pytest.approx(result.spec.loudness_lufs.value, abs=0.6)
