"""Words in the prompt that choose the generator backend."""

from __future__ import annotations

import pytest

from pipeline.understanding import parse_prompt
from pipeline.understanding.backend_words import backend_from_words


@pytest.mark.parametrize(
    ("text", "backend"),
    [
        ("dark techno, 128 BPM, made with stable audio", "stable-audio"),
        ("lofi beat via Stable-Audio please", "stable-audio"),
        ("ambient pads using Stability AI's API", "stable-audio"),
        ("chill house, use musicgen", "musicgen"),
        ("jazz trio on Music Gen", "musicgen"),
        ("cinematic strings with stable audio open", "stable-audio-open"),
        ("synthwave but keep it offline", "symbolic"),
        ("use the symbolic backend for a funk groove", "symbolic"),
        ("symbolic, mysterious ambient", None),
        ("a stable groove with open hats", None),
        ("music for a general audience", None),
    ],
)
def test_backend_named_in_words(text, backend):
    assert backend_from_words(text) == backend


def test_the_parser_sets_the_backend_and_still_reads_the_music():
    spec = parse_prompt("dark techno at 128 BPM in F minor, made with stable audio").spec
    assert spec.backend == "stable-audio"
    assert [g.value for g in spec.genres] == ["techno"] and spec.tempo_bpm.value == 128 and spec.key.value == "F minor"
    assert parse_prompt("dark techno at 128 BPM").spec.backend == "symbolic"
