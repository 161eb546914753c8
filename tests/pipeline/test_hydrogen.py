"""Hydrogen drum kits: drumkit.xml parsing, velocity layers, round-robin, GM fallback, the report note.

Most tests build a tiny kit in a temporary folder (two velocity layers of synthetic hits), so they run
without the `hydrogen-drumkits` package; one checks the installed boom-bap kit when it is there.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from pipeline.errors import SoundFontMissing
from pipeline.render import fallback_notes, find_soundfont, render_stems
from pipeline.render.fonts import MUSESCORE_FONT
from pipeline.render.hydrogen import HYDROGEN_KITS, KitSpec, find_hydrogen_kit, layer_for, load_kit
from pipeline.score import Arrangement, Note, Section, Track

SR = 44100

# The newer format (namespace, layers inside an instrumentComponent) and the oldest (one <filename>).
KIT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">
  <name>tiny</name>
  <instrumentList>
    <instrument>
      <id>0</id><name>Snare</name><volume>0.8</volume><gain>1</gain>
      <instrumentComponent>
        <layer><filename>snare_soft.wav</filename><min>0</min><max>0.5</max><gain>1</gain><pitch>0</pitch></layer>
        <layer><filename>snare_hard.wav</filename><min>0.5</min><max>1</max><gain>1</gain><pitch>0</pitch></layer>
      </instrumentComponent>
    </instrument>
    <instrument><id>1</id><name>Kick</name><volume>1</volume><filename>kick.wav</filename></instrument>
    <instrument><id>2</id><name>Missing</name><volume>1</volume><filename>nowhere.wav</filename></instrument>
  </instrumentList>
</drumkit_info>
"""


@pytest.fixture()
def tiny_kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tiny"
    folder.mkdir()
    t = np.arange(int(0.2 * 48000)) / 48000.0  # 48 kHz files: the voice resamples them
    env = np.exp(-t / 0.04)
    rng = np.random.default_rng(3)
    soundfile.write(folder / "snare_soft.wav", 0.3 * np.sin(2 * np.pi * 200 * t) * env, 48000)
    soundfile.write(folder / "snare_hard.wav", 0.9 * rng.standard_normal(t.size) * env, 48000)
    soundfile.write(folder / "kick.wav", 0.9 * np.sin(2 * np.pi * 55 * t) * env, 48000)
    (folder / "drumkit.xml").write_text(KIT_XML)
    monkeypatch.setattr("pipeline.render.hydrogen.HYDROGEN_DIRS", (tmp_path,))
    monkeypatch.setitem(HYDROGEN_KITS, "kit_tiny", KitSpec("tiny", {38: "Snare", 36: "Kick"}, "tiny kit"))
    return folder / "drumkit.xml"


@pytest.fixture(scope="module")
def soundfont() -> Path:
    try:
        return find_soundfont()
    except SoundFontMissing as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no SoundFont installed: {exc.user_message}")


def arrangement(voice: str, notes: list[Note], bars: int = 2) -> Arrangement:
    drums = Track("drums", "drums", 0, voice=voice, is_drum=True, pan=0.0, notes=notes)
    return Arrangement(tempo_bpm=120.0, beats_per_bar=4, beat_unit=4, key_tonic_pc=9, mode="minor", bars=bars,
                       sections=[Section("main", 0, bars, 0.5)], tracks=[drums], seed=5, genre="hip-hop")


def hit(stem: np.ndarray, beat: float, seconds: float = 0.1) -> np.ndarray:
    a = round(beat * 0.5 * SR)
    return stem.mean(axis=0)[a : a + int(seconds * SR)].astype(np.float64)


def test_load_kit_reads_layers_and_the_old_single_file_format(tiny_kit: Path) -> None:
    kit = load_kit(tiny_kit)
    assert set(kit) == {"Snare", "Kick"}, "an instrument whose sample is missing is left out"
    snare = kit["Snare"]
    assert [layer.path.name for layer in snare.layers] == ["snare_soft.wav", "snare_hard.wav"]
    assert snare.gain == pytest.approx(0.8)
    assert layer_for(snare, 30).path.name == "snare_soft.wav"
    assert layer_for(snare, 120).path.name == "snare_hard.wav"
    assert [layer.path.name for layer in kit["Kick"].layers] == ["kick.wav"]


def test_velocity_picks_the_layer_and_hits_land_on_their_beats(tiny_kit: Path, soundfont: Path) -> None:
    notes = [Note(0, 0.1, 38, 30), Note(2, 0.1, 38, 120), Note(4, 0.1, 36, 100)]
    stem = render_stems(arrangement("kit_tiny", notes), soundfont=soundfont)["drums"]
    soft, hard = hit(stem, 0), hit(stem, 2)
    spectrum = lambda x: np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(soft.size, 1 / SR)
    assert freqs[spectrum(soft).argmax()] == pytest.approx(200, abs=20), "the soft layer is the 200 Hz tone"
    assert (spectrum(hard) * freqs).sum() / spectrum(hard).sum() > 3000, "the hard layer is the noise burst"
    assert np.abs(hit(stem, 4)).max() > 0.05 and np.abs(stem[:, : round(0.9 * SR)]).max() > 0  # the kick too
    assert np.abs(hit(stem, 1, 0.4)).max() < 1e-3, "nothing sounds between the hits"


def test_round_robin_varies_repeated_hits_deterministically(tiny_kit: Path, soundfont: Path) -> None:
    notes = [Note(0.5 * i, 0.1, 36, 100) for i in range(8)]
    arr = arrangement("kit_tiny", notes)
    stem = render_stems(arr, soundfont=soundfont)["drums"]
    hits = [hit(stem, 0.5 * i, 0.05) for i in range(8)]
    assert len({h.tobytes() for h in hits}) >= 3
    assert all(a.tobytes() != b.tobytes() for a, b in itertools.pairwise(hits)), "the same take twice in a row"
    assert render_stems(arr, soundfont=soundfont)["drums"].tobytes() == stem.tobytes()


def test_keys_the_kit_lacks_play_from_the_main_font(tiny_kit: Path, soundfont: Path) -> None:
    stem = render_stems(arrangement("kit_tiny", [Note(0, 0.1, 54, 110), Note(2, 0.1, 38, 110)]), soundfont=soundfont)["drums"]
    assert np.abs(hit(stem, 0)).max() > 0.05, "the tambourine, from the GM kit"
    assert np.abs(hit(stem, 2)).max() > 0.05


def test_a_missing_kit_plays_from_the_gm_kit_and_the_report_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, soundfont: Path
) -> None:
    monkeypatch.setattr("pipeline.render.hydrogen.HYDROGEN_DIRS", (tmp_path,))  # nothing installed here
    assert find_hydrogen_kit("kit_rumpf") is None
    (note,) = fallback_notes(MUSESCORE_FONT, {"kit_rumpf", "sf2"})
    assert "rumpf" in note and "hydrogen-drumkits" in note
    stem = render_stems(arrangement("kit_rumpf", [Note(b, 0.1, (36, 38)[b % 2], 100) for b in range(4)]), soundfont=soundfont)["drums"]
    for b in range(4):
        assert np.abs(hit(stem, b, 0.05)).max() > 0.01, b


def test_the_installed_boom_bap_kit_plays_every_mapped_key(soundfont: Path) -> None:
    if find_hydrogen_kit("kit_rumpf") is None:
        if os.environ.get("CI") == "true":
            raise AssertionError("hydrogen-drumkits is missing: scripts/install.sh installs it")
        pytest.skip("hydrogen-drumkits is not installed")
    kit = load_kit(find_hydrogen_kit("kit_rumpf"))
    assert set(HYDROGEN_KITS["kit_rumpf"].keys.values()) <= set(kit), "every mapped instrument is in the kit"
    keys = sorted(HYDROGEN_KITS["kit_rumpf"].keys)
    stem = render_stems(arrangement("kit_rumpf", [Note(b, 0.1, k, 110) for b, k in enumerate(keys)], bars=len(keys) // 4 + 1),
                        soundfont=soundfont)["drums"]
    for b, key in enumerate(keys):
        assert np.abs(hit(stem, b, 0.1)).max() > 0.01, key
