"""The word table: one-word spans answered without an encoder pass, as the encoder would answer them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.understanding import plain_words, word_table
from pipeline.understanding.loader import load_parser
from pipeline.understanding.normalise import Normaliser
from pipeline.understanding.tagger import MODEL_DIR


@pytest.fixture(scope="module")
def normaliser():
    return load_parser().normaliser


def test_the_committed_table_is_current_and_covers_the_non_plain_vocabulary_words(normaliser) -> None:
    assert normaliser.word_table, "word_table.json missing or stale: run `ampa train-parser`"
    plain = plain_words.load(MODEL_DIR, normaliser)
    assert set(normaliser.word_table) == {w for w in plain_words.vocabulary_words() if w not in plain}


def test_a_table_word_maps_as_the_encoder_maps_it(normaliser) -> None:
    fresh = Normaliser(normaliser.encoder, normaliser.table, normaliser.matrices)  # no table: the encoder answers
    words = sorted(normaliser.word_table)[::7]
    for field in ("genres", "moods", "instruments"):
        assert normaliser.nearest_many(words, field) == [fresh.nearest(w, field) for w in words], field
    assert not normaliser._embedded.keys() & set(words)  # answered from the table, not embedded


def test_a_table_for_other_phrases_is_not_used(normaliser, tmp_path: Path) -> None:
    word_table.save({"zzz": {"genres": (0, 0.99)}}, tmp_path, normaliser)
    assert word_table.load(tmp_path, normaliser) == {"zzz": {"genres": (0, 0.99)}}
    stored = json.loads((tmp_path / word_table.TABLE_FILE).read_text())
    stored["fingerprint"] = "0" * 16
    (tmp_path / word_table.TABLE_FILE).write_text(json.dumps(stored))
    assert word_table.load(tmp_path, normaliser) == {}
    (tmp_path / word_table.TABLE_FILE).write_text("{not json")
    assert word_table.load(tmp_path, normaliser) == {}
    assert word_table.load(tmp_path / "missing", normaliser) == {}


def test_building_the_table_again_gives_the_stored_entries(normaliser) -> None:
    words = sorted(normaliser.word_table)[:: 41]
    rebuilt = word_table.build(words, normaliser.encoder.sentence_embeddings(words), normaliser)
    for word in words:
        for field, (index, cosine) in rebuilt[word].items():
            stored_index, stored_cosine = normaliser.word_table[word][field]
            assert index == stored_index and abs(cosine - stored_cosine) < 1e-5, (word, field)
