"""The scoring rules of evaluate.py."""

from __future__ import annotations

from pipeline.understanding.evaluate import changes_match, score_prompts

PREVIOUS = {"tempo_bpm": 100, "duration_s": 120}


def test_relative_rules() -> None:
    assert changes_match([{"field": "mix", "stem": "drums", "db": -4.0}], [{"field": "mix", "stem": "drums", "db": "<0"}], PREVIOUS)
    assert not changes_match([{"field": "mix", "stem": "drums", "db": 3.0}], [{"field": "mix", "stem": "drums", "db": "<0"}], PREVIOUS)
    assert changes_match([{"field": "tempo_bpm", "to": 110}], [{"field": "tempo_bpm", "to": ">previous"}], PREVIOUS)
    assert not changes_match([{"field": "tempo_bpm", "to": 90}], [{"field": "tempo_bpm", "to": ">previous"}], PREVIOUS)
    assert changes_match([{"field": "seed", "to": 5}], [{"field": "seed", "to": "new"}], PREVIOUS)
    assert changes_match([], [], PREVIOUS)
    # unordered
    a, b = {"field": "instruments", "add": "strings"}, {"field": "key", "to": "G minor"}
    assert changes_match([a, b], [b, a], PREVIOUS)
    assert not changes_match([a], [a, b], PREVIOUS)


def test_prompt_scores_count_only_prompt_sources() -> None:
    items = [{"prompt": "x", "expect": {"genres": ["jazz"], "tempo_bpm": 90, "exclude": ["drums"]}}]

    def parse(_: str) -> dict:
        return {"genres": [{"value": "jazz", "source": "prompt"}, {"value": "pop", "source": "default"}],
                "instruments": [{"value": "drums", "source": "prompt"}],
                "tempo_bpm": {"value": 90, "source": "prompt"}, "key": {"value": "C major", "source": "default"}}

    report = score_prompts(items, parse)
    assert report.fields["genres"].f1 == 1.0
    assert report.exact["tempo_bpm"] == [1, 1] and report.false_explicit["key"] == 0
    assert report.exclusions_included == 1


def test_not_a_request_items_are_scored_on_detection() -> None:
    items = [{"prompt": "how do I download stems?", "request": False, "expect": {}},
             {"prompt": "hi", "request": False, "expect": {}},
             {"prompt": "jazz", "expect": {"genres": ["jazz"]}}]
    taken = {"how do I download stems?": False, "hi": True, "jazz": False}

    def parse(prompt: str) -> dict:
        return {"genres": [], "is_music_request": taken[prompt]}

    report = score_prompts(items, parse)
    assert report.not_requests == [1, 2] and report.requests_refused == 1
    assert report.to_dict()["not_requests"] == {"detected": 1, "total": 2}
