"""The sections are heard, not only written: through the whole pipeline (render, mix, master), the
intro, breakdown and outro of the mastered mix are clearly quieter than the chorus or drop.
A few genres of different families, rendered once (module fixture), a minute or less each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from pipeline.compose import compose
from pipeline.compose.contrast import quiet_and_big, section_levels_db
from pipeline.errors import QAFailed
from pipeline.produce import ProduceOptions, produce
from pipeline.score import Arrangement
from pipeline.spec import Spec

CASES = {"house": 60.0, "rock": 45.0, "ambient": 60.0}
MIN_GAP_DB = 3.0


@pytest.fixture(scope="module")
def mixes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Arrangement, list[float]]]:
    out = {}
    for genre, seconds in CASES.items():
        folder = tmp_path_factory.mktemp(genre)
        try:
            spec = Spec.from_dict({"genres": [genre], "duration_s": seconds, "seed": 3})
            produce(spec, folder, options=ProduceOptions())
        except QAFailed:
            pass  # the files are written all the same; what is measured here is the form
        spec = Spec.from_dict(json.loads((Path(folder) / "report.json").read_text())["spec"])
        arrangement = compose(spec)  # the same spec and seed: the score that was rendered
        audio, rate = sf.read(Path(folder) / "mix.wav", always_2d=True)
        out[genre] = (arrangement, section_levels_db(audio.T, rate, arrangement))
    return out


@pytest.mark.parametrize("genre", list(CASES))
def test_quiet_sections_are_quieter_in_the_mastered_mix(mixes, genre: str) -> None:
    arrangement, levels = mixes[genre]
    quiet, big = quiet_and_big(arrangement.sections)
    assert quiet and big and len(arrangement.sections) >= 3
    shown = {s.name + str(i): round(level, 1) for i, (s, level) in enumerate(zip(arrangement.sections, levels))}
    gap = min(levels[i] for i in big) - max(levels[i] for i in quiet)
    assert gap >= MIN_GAP_DB, f"{genre}: the fullest sections are only {gap:.1f} dB above the quiet ones: {shown}"
