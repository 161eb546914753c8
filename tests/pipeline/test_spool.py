"""StemSpool keeps stems in files, mapped only while read; mixing into it changes nothing audible."""

from __future__ import annotations

import os

import numpy as np
import pytest

from pipeline.mixing import MixParams, mix_stems
from pipeline.parallel import can_fork, share_work, shared_stem
from pipeline.spool import StemSpool
from tests.pipeline.audio_fixtures import chord_progression, harmonic_tone, kick_pattern, make_spec, noise, stereo


def test_spool_stores_reads_back_and_keeps_its_order(tmp_path):
    spool = StemSpool(tmp_path, 1000)
    spool.allocate("bass")[:] = 0.25
    spool.allocate("drums")[0, :10] = 1.0
    spool.order(["drums", "bass"])
    assert list(spool) == ["drums", "bass"] and len(spool) == 2
    assert spool["bass"].shape == (2, 1000) and np.all(spool["bass"] == 0.25)
    assert spool["drums"][0, :10].sum() == 10.0 and spool["drums"][1].sum() == 0.0
    with pytest.raises(ValueError):
        spool["bass"][0, 0] = 1.0  # readers get read-only mappings
    with pytest.raises(KeyError):
        spool["lead"]
    with pytest.raises(ValueError):
        spool.order(["drums"])
    assert "lead" not in spool and spool.get("lead") is None


@pytest.mark.skipif(not can_fork(), reason="needs os.fork")
def test_a_forked_child_writes_into_the_parents_spool(tmp_path):
    spool = StemSpool(tmp_path, 4410)
    out = spool.allocate("pad")
    pid = os.fork()
    if pid == 0:
        out[:] = 0.5
        os._exit(0)
    os.waitpid(pid, 0)
    assert np.all(spool["pad"] == 0.5)


def test_share_work_does_every_item_once_whatever_the_workers():
    results = shared_stem(50)
    calls = shared_stem(50)

    def work(index: int) -> None:
        results[0, index] = index * 2.0
        calls[0, index] += 1.0

    share_work(50, work, workers=2, timeout=30.0)
    assert np.array_equal(results[0], np.arange(50) * 2.0)
    assert np.all(calls[0] == 1.0)


@pytest.fixture(scope="module")
def band() -> dict[str, np.ndarray]:
    seconds, bpm = 6.0, 124.0
    return {
        "drums": kick_pattern(bpm, seconds),
        "bass": stereo(harmonic_tone(33, seconds, amplitude=0.3)),
        "harmony": chord_progression("A", "minor", seconds, bpm=bpm),
        "pad": noise(seconds, 0.05, seed=3),
        "lead": stereo(harmonic_tone(69, seconds, amplitude=0.2)),
    }


def test_spooled_forked_mix_is_bit_identical_to_one_process_in_memory(band, tmp_path):
    spec = make_spec(genres=["synthwave"], tempo_bpm=124.0, key="A minor", duration_s=6.0)
    alone = mix_stems(band, None, spec, MixParams(workers=1))
    shared = mix_stems(band, None, spec, MixParams(workers=2), spool=tmp_path / "mixed")
    assert list(shared.stems) == list(alone.stems)
    assert shared.gains_db == alone.gains_db
    assert shared.mix.tobytes() == alone.mix.tobytes()
    for role in alone.stems:
        assert shared.stems[role].tobytes() == alone.stems[role].tobytes(), role
    summed = np.zeros_like(shared.mix)
    for role in shared.stems:
        summed += shared.stems[role]
    assert np.array_equal(summed, shared.mix)


def test_stale_scratch_folders_are_removed_and_fresh_ones_kept(tmp_path):
    import time

    from pipeline.spool import SCRATCH_PREFIX, remove_stale_scratch

    stale, fresh, other = tmp_path / f"{SCRATCH_PREFIX}old", tmp_path / f"{SCRATCH_PREFIX}new", tmp_path / "keep-me"
    for folder in (stale, fresh, other):
        folder.mkdir()
        (folder / "bass.f32").write_bytes(b"\0" * 16)
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    assert remove_stale_scratch(tmp_path) == 1
    assert not stale.exists() and fresh.exists() and other.exists()


def test_produce_leaves_no_scratch_behind(tmp_path):
    from pathlib import Path

    from pipeline.produce import ProduceOptions, produce
    from pipeline.spool import SCRATCH_PREFIX

    spec = make_spec(genres=["house"], tempo_bpm=124.0, key="A minor", duration_s=6.0, seed=3)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = produce(spec, tmp_path / "out", options=ProduceOptions(scratch_dir=scratch))
    assert result.passed and Path(result.files["stems.zip"]).exists()
    assert not list(scratch.glob(f"{SCRATCH_PREFIX}*"))
