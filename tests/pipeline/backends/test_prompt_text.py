"""The spec as a caption for a text-to-audio model."""

from __future__ import annotations

from pipeline.backends.prompt_text import text_prompt
from pipeline.spec import Spec


def test_caption_names_genre_mood_instruments_tempo_key_and_meter():
    spec = Spec.from_dict({
        "genres": ["lofi-hiphop"], "moods": ["chill", "nostalgic"], "instruments": ["electric-piano", "drums", "vocals"],
        "tempo_bpm": 84, "key": "A minor", "time_signature": "4/4", "energy": 0.3, "exclude": ["synth-lead"],
    })
    assert text_prompt(spec) == (
        "Lo-fi hip hop, chill, nostalgic, with electric piano and drums, 84 BPM, A minor, 4/4 time, "
        "low energy, instrumental, no synth lead"
    )


def test_caption_is_cut_to_the_services_limit():
    spec = Spec.from_dict({"genres": ["techno"], "moods": ["dark"] * 3000})
    assert len(text_prompt(spec, max_chars=10_000)) == 10_000
