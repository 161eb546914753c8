"""An excluded instrument is never added back: not by the parser, not by the defaults, not by the composer.

Over the whole vocabulary: every instrument slug, said in each of its lexicon forms after "no", is excluded
and not included; and for every genre, excluding each instrument of its band leaves no track (so no stem,
since the renderer renders one stem per track) and no MIDI track playing it.
"""

from __future__ import annotations

import mido
import pytest

from pipeline.compose import compose
from pipeline.defaults import resolve
from pipeline.midi import write_midi
from pipeline.spec import Spec
from pipeline.styles import STYLES
from pipeline.understanding import lexicon as lx
from pipeline.understanding import parse_prompt
from pipeline.vocabulary import INSTRUMENTS


@pytest.mark.parametrize("slug", [s for s in INSTRUMENTS if s in lx.INSTRUMENT_FORMS])
def test_no_form_of_an_instrument_becomes_an_inclusion(slug: str) -> None:
    for form in lx.INSTRUMENT_FORMS[slug][:4]:
        for prompt in (f"house track, no {form}", f"jazz without {form}, 90 bpm", f"ambient, {form} (no)"):
            spec = parse_prompt(prompt).spec
            assert slug in spec.exclude_values, prompt
            assert slug not in spec.instrument_values, prompt
            assert slug not in resolve(spec).instrument_values, prompt


def _band_exclusions() -> list[tuple[str, str]]:
    return sorted({(genre, slug) for genre, style in STYLES.items() for slug in style.band.values()})


@pytest.mark.parametrize(("genre", "slug"), _band_exclusions())
def test_an_excluded_band_instrument_plays_no_track_and_no_midi(genre: str, slug: str, tmp_path) -> None:
    spec = resolve(Spec.from_dict({"genres": [genre], "exclude": [slug], "duration_s": 8, "seed": 3}))
    assert slug not in spec.instrument_values
    arrangement = compose(spec)
    assert arrangement.tracks, "something still plays"
    assert all(track.instrument != slug for track in arrangement.tracks)
    path = tmp_path / "song.mid"
    write_midi(arrangement, path)
    names = [m.name for track in mido.MidiFile(path).tracks for m in track if m.type == "track_name"]
    assert not any(f": {slug} (" in name for name in names), names
