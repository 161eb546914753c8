"""apply_reply: follow-up edits in a thread."""

from __future__ import annotations

import pytest

from pipeline.spec import Spec
from pipeline.understanding import apply_reply

LOFI = {"genres": ["lofi-hiphop"], "moods": ["chill", "sad"], "instruments": ["piano", "drums", "bass"],
        "exclude": ["strings"], "tempo_bpm": 80, "key": "A minor", "duration_s": 120, "time_signature": "4/4",
        "seed": 7}


def _edit(reply: str, previous: dict | None = None):
    return apply_reply(Spec.from_dict(previous or LOFI), reply)


@pytest.mark.parametrize(
    ("reply", "changes"),
    [
        ("make the drums quieter", [{"field": "mix", "stem": "drums", "db": -4.0}]),
        ("louder bass", [{"field": "mix", "stem": "bass", "db": 3.0}]),
        ("drums down 3 dB", [{"field": "mix", "stem": "drums", "db": -3.0}]),
        ("faster", [{"field": "tempo_bpm", "to": 88}]),
        ("slower", [{"field": "tempo_bpm", "to": 72}]),
        ("20 bpm faster", [{"field": "tempo_bpm", "to": 100}]),
        ("half time", [{"field": "tempo_bpm", "to": 40}]),
        ("double time", [{"field": "tempo_bpm", "to": 160}]),
        ("drop it to 120 bpm", [{"field": "tempo_bpm", "to": 120}]),
        ("change the key to G minor", [{"field": "key", "to": "G minor"}]),
        ("add strings", [{"field": "instruments", "add": "strings"}]),
        ("remove the piano", [{"field": "instruments", "remove": "piano"}]),
        ("bring back the drums", [{"field": "instruments", "add": "drums"}]),
        ("make it 3 minutes", [{"field": "duration_s", "to": 180}]),
        ("a bit longer", [{"field": "duration_s", "to": 150}]),
        ("shorter", [{"field": "duration_s", "to": 90}]),
        ("more energetic", [{"field": "moods", "add": "energetic"}]),
        ("less sad", [{"field": "moods", "remove": "sad"}]),
        ("same but jazz", [{"field": "genres", "to": ["jazz"]}]),
        ("in 3/4", [{"field": "time_signature", "to": "3/4"}]),
        ("switch the piano for a rhodes", [{"field": "instruments", "remove": "piano"},
                                           {"field": "instruments", "add": "electric-piano"}]),
        ("love it", []),
        ("who made you?", []),
        ("thanks!! this is perfect", []),
    ],
)
def test_edits(reply: str, changes: list[dict]) -> None:
    result = _edit(reply)
    assert result.changes == changes
    assert result.makes_new_version == bool(changes)
    assert not result.new_prompt


def test_two_edits_in_one_reply_apply_to_the_spec() -> None:
    result = _edit("make the drums quieter and switch to G minor")
    assert result.spec.mix == {"drums": -4.0}
    assert result.spec.key.value == "G minor" and result.spec.key.source == "prompt"
    assert result.spec.tempo_bpm.value == 80  # untouched fields kept


def test_removing_excludes_and_bringing_back_includes() -> None:
    removed = _edit("remove the piano").spec
    assert "piano" in removed.exclude_values and "piano" not in removed.instrument_values
    back = apply_reply(removed, "bring the piano back").spec
    assert "piano" in back.instrument_values and "piano" not in back.exclude_values


def test_more_energetic_raises_energy() -> None:
    before = _edit("more energetic")
    assert before.spec.energy is not None and "energetic" in before.spec.mood_values


@pytest.mark.parametrize("reply", ["another take", "again", "reroll"])
def test_new_take_changes_only_the_seed_deterministically(reply: str) -> None:
    first, second = _edit(reply), _edit(reply)
    assert [c["field"] for c in first.changes] == ["seed"]
    assert first.spec.seed.value != 7 and first.spec.seed.value == second.spec.seed.value
    assert first.spec.model_dump(exclude={"seed"}) == Spec.from_dict(LOFI).model_dump(exclude={"seed"})


def test_a_whole_new_prompt_starts_over() -> None:
    result = _edit("can you do a dark techno track at 130 instead, 4 minutes")
    assert result.new_prompt and result.changes == [{"new_prompt": True}]
    assert result.spec.genre == "techno" and result.spec.tempo_bpm.value == 130 and result.spec.duration_s.value == 240


def test_an_edit_that_cannot_be_done_is_listed_and_said() -> None:
    result = _edit("add a female vocal on top")
    assert result.changes == [{"field": "instruments", "add": "vocals"}]
    assert result.messages == ["ampa makes instrumentals, so I can't add vocals"]
    assert not result.makes_new_version
    assert "vocals" not in result.spec.instrument_values


@pytest.mark.parametrize("reply", ["", "   ", "🔥🔥", "x" * 10_000, None, "<@123>"])
def test_bad_replies_never_raise(reply) -> None:
    result = _edit(reply)
    assert result.spec is not None and not result.makes_new_version
