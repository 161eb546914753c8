"""The fine-tuned tagger: loads from the committed files, tags, trains reproducibly, degrades safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.understanding.loader import load_parser
from pipeline.understanding.tagger import CONFIG_FILE, MODEL_DIR, WEIGHTS_FILE


@pytest.fixture(scope="module")
def loaded():
    return load_parser()


def test_committed_weights_are_small_and_load(loaded) -> None:
    assert (MODEL_DIR / WEIGHTS_FILE).stat().st_size < 5_000_000
    assert (MODEL_DIR / CONFIG_FILE).exists()
    assert loaded.mode == "tagger" and loaded.tagger is not None


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("dark synthwave with lush pads, no drums", {("GENRE", "synthwave"), ("MOOD", "dark"), ("INST", "lush pads"),
                                                      ("EXCL", "drums")}),
        ("happy jazz with a muted trumpet and upright bass", {("GENRE", "jazz"), ("MOOD", "happy"),
                                                              ("INST", "muted trumpet"), ("INST", "upright bass")}),
        ("chill lofi beat, rhodes, without vocals", {("GENRE", "lofi"), ("MOOD", "chill"), ("INST", "rhodes"),
                                                     ("EXCL", "vocals")}),
    ],
)
def test_tagger_tags_spans(loaded, prompt: str, expected: set[tuple[str, str]]) -> None:
    spans = {(s.label, s.text.lower()) for s in loaded.tagger.tag(prompt)}
    # a span may or may not include an adjective ("lush pads" / "pads"): its head word must be in it
    missing = {(label, word) for label, word in expected
               if not any(label == got and word.split()[-1] in text for got, text in spans)}
    assert not missing, f"missing {missing}; tagged {spans}"


def test_normaliser_maps_unseen_spellings(loaded) -> None:
    assert loaded.normaliser.nearest("retro wave", "genres")[0] == "synthwave"
    assert loaded.normaliser.nearest("fender rhodes piano", "instruments")[0] == "electric-piano"
    assert loaded.normaliser.nearest("quantum chromodynamics", "genres") is None


def test_parser_works_without_the_model_files(tmp_path: Path, caplog) -> None:
    from pipeline.understanding import parse_prompt

    try:
        with caplog.at_level("WARNING"):
            fallback = load_parser(tmp_path, reload=True)
        assert fallback.mode == "lexicon+embeddings" and fallback.tagger is None
        assert "no tagger weights" in caplog.text
        spec = parse_prompt("dark synthwave at 140 BPM in A minor, no drums").spec
        assert spec.genre == "synthwave" and spec.tempo_bpm.value == 140 and spec.exclude_values == ["drums"]
    finally:
        load_parser(reload=True)


def test_training_is_reproducible_from_a_seed(tmp_path: Path, loaded) -> None:
    from safetensors.torch import load_file

    from pipeline.understanding.encoder import Encoder
    from pipeline.understanding.training.train import TrainConfig, train

    encoder = Encoder.load(backend="transformers")  # training runs in torch; parsing's encoder is numpy
    config = TrainConfig(seed=3, n_generated=30, handwritten_repeats=1, epochs=1, max_steps=3)
    first = train(config, tmp_path / "a", encoder=encoder)
    train(config, tmp_path / "b", encoder=encoder)
    train(TrainConfig(seed=4, n_generated=30, handwritten_repeats=1, epochs=1, max_steps=3), tmp_path / "c",
          encoder=encoder)
    a, b, c = (load_file(str(tmp_path / d / WEIGHTS_FILE)) for d in "abc")
    assert first["steps"] == 3 and a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a), "same seed must give the same weights"
    assert any((a[k] != c[k]).any() for k in a), "another seed should give other weights"
    # the saved weights load back into a working tagger
    from pipeline.understanding.tagger import SpanTagger

    SpanTagger.load(loaded.tagger.encoder, tmp_path / "a").tag("dark techno, no vocals")


def test_handwritten_set_is_big_enough_and_apart_from_the_held_out_set() -> None:
    import json

    from pipeline.understanding.training.train import DATA_DIR, read_handwritten

    handwritten = read_handwritten()
    assert len(handwritten) >= 150
    texts = {t.lower() for t, _ in handwritten}
    held_out = [json.loads(line)["prompt"].lower() for line in (DATA_DIR / "heldout.jsonl").read_text().splitlines()
                if line.strip()]
    assert len(held_out) >= 50 and not texts & set(held_out)
    for text, spans in handwritten:
        for start, end, _ in spans:
            assert 0 <= start < end <= len(text) and text[start:end].strip() == text[start:end]
