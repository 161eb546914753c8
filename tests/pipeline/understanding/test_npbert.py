"""The numpy encoder and tagger used for parsing compute what the torch training path computes,
and parsing never imports torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.understanding.encoder import Encoder
from pipeline.understanding.normalise import CACHE_FILE, Normaliser, phrases
from pipeline.understanding.tagger import CONFIG_FILE, MODEL_DIR, WEIGHTS_FILE, SpanTagger, build_head, frozen_states

TEXTS = [
    "dark atmospheric synthwave at 140 BPM in A minor",
    "lofi",  # short: mostly padding in a batch with the others
    "lofi beat w/ jazzy keys ~85bpm, no drums",
    "retrowave 🌆 outrun vibes, smoky jazz bar",
    "x" * 600,  # one over-long word: [UNK]
    "an epic cinematic piece with choir, " * 30,  # longer than the 128-token cut
]


@pytest.fixture(scope="module")
def encoders():
    """(numpy Encoder used for parsing, TorchEncoder around transformers' BertModel used for training)"""
    return Encoder.load(), Encoder.load(backend="transformers")


def test_tokens_offsets_and_words_match_the_transformers_tokenizer(encoders):
    fast, reference = (e.encode(TEXTS, offsets=True) for e in encoders)
    assert fast["input_ids"].shape[1] == 128, "the long prompt is cut at 128 tokens"
    for name in ("input_ids", "attention_mask", "offset_mapping"):
        assert fast[name].tolist() == reference[name].tolist(), name
    assert [fast.word_ids(i) for i in range(len(TEXTS))] == [reference.word_ids(i) for i in range(len(TEXTS))]


def test_forward_pass_matches_bert_model_on_a_padded_batch(encoders):
    import torch

    numpy_encoder, reference = encoders
    batch = numpy_encoder.encode(TEXTS)
    mask = batch["attention_mask"]
    assert (mask == 0).any(), "the batch must contain padding"
    ours = numpy_encoder.run_layers(numpy_encoder.embed_tokens(batch["input_ids"]), mask, numpy_encoder.layers)
    with torch.inference_mode():
        theirs = reference.model(input_ids=torch.from_numpy(batch["input_ids"]),
                                 attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    real = mask.astype(bool)  # padded positions carry no meaning in either
    np.testing.assert_allclose(ours[real], theirs[real], atol=1e-4, rtol=0)
    # padding changes nothing for a row: each prompt alone gives what its padded row gave
    for row, text in enumerate(TEXTS[:4]):
        alone = numpy_encoder.encode([text])
        hidden = numpy_encoder.run_layers(numpy_encoder.embed_tokens(alone["input_ids"]), alone["attention_mask"],
                                          numpy_encoder.layers)
        np.testing.assert_allclose(hidden[0], ours[row, :hidden.shape[1]], atol=1e-5, rtol=0)


def test_sentence_embeddings_match_to_float_precision(encoders):
    ours, theirs = (e.sentence_embeddings(TEXTS) for e in encoders)
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=0)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def _torch_tagger_probabilities(reference, model_dir: Path, texts: list[str]) -> np.ndarray:
    """The training path: frozen_states -> build_head's fine-tuned top + head -> softmax, in torch."""
    import torch
    from safetensors.torch import load_file

    info = json.loads((model_dir / CONFIG_FILE).read_text())
    top = build_head(reference, info["n_top"], len(info["labels"]))
    top.load_state_dict({k: v.to(torch.float32) for k, v in load_file(str(model_dir / WEIGHTS_FILE)).items()})
    top.eval()
    batch = reference.encode(texts, offsets=True)
    with torch.inference_mode():
        hidden = frozen_states(reference, batch["input_ids"], batch["attention_mask"], info["n_top"])
        return torch.softmax(top(hidden, batch["attention_mask"]), dim=-1).numpy()


def _assert_same_tagger(numpy_encoder, reference, model_dir: Path) -> None:
    tagger = SpanTagger.load(numpy_encoder, model_dir)
    batch = numpy_encoder.encode(TEXTS, offsets=True)
    ours = tagger.probabilities(batch)
    theirs = _torch_tagger_probabilities(reference, model_dir, TEXTS)
    real = batch["attention_mask"].astype(bool)
    np.testing.assert_allclose(ours[real], theirs[real], atol=1e-4, rtol=0)
    assert (ours[real].argmax(-1) == theirs[real].argmax(-1)).all(), "a token changed label"


def test_numpy_tagger_matches_the_torch_training_path_on_the_committed_weights(encoders):
    _assert_same_tagger(*encoders, MODEL_DIR)


def test_what_training_saves_loads_into_the_numpy_tagger(encoders, tmp_path: Path):
    from pipeline.understanding.training.train import TrainConfig, train

    numpy_encoder, reference = encoders
    config = TrainConfig(seed=1, n_generated=20, handwritten_repeats=1, epochs=1, max_steps=2)
    train(config, tmp_path, encoder=reference)
    _assert_same_tagger(numpy_encoder, reference, tmp_path)
    # the vocabulary cache training wrote (torch-computed, via safetensors.numpy) is what the numpy encoder computes
    cached = Normaliser.load(numpy_encoder, cache_dir=tmp_path).matrices
    table = phrases()
    for field, matrix in cached.items():
        fresh = numpy_encoder.sentence_embeddings([phrase for _, phrase in table[field]])
        np.testing.assert_allclose(matrix, fresh, atol=1e-3, rtol=0)  # the cache is float16


def test_the_committed_vocabulary_cache_is_read_without_recomputing():
    class NoEncoder:
        def sentence_embeddings(self, texts):
            raise AssertionError("the committed cache must be current: nothing to recompute")

    loaded = Normaliser.load(NoEncoder(), cache_dir=MODEL_DIR)
    assert all(m.dtype == np.float32 and m.shape[1] == 384 for m in loaded.matrices.values())


def test_damaged_tagger_weights_fall_back_with_a_warning(tmp_path: Path, caplog):
    from safetensors.numpy import load_file, save_file

    from pipeline.understanding.loader import load_parser

    shutil.copy(MODEL_DIR / CONFIG_FILE, tmp_path / CONFIG_FILE)
    shutil.copy(MODEL_DIR / CACHE_FILE, tmp_path / CACHE_FILE)  # the normaliser needs no recomputing
    state = load_file(str(MODEL_DIR / WEIGHTS_FILE))
    state.pop("head.bias")
    save_file(state, str(tmp_path / WEIGHTS_FILE))
    try:
        with caplog.at_level("WARNING"):
            fallback = load_parser(tmp_path, reload=True)
        assert fallback.mode == "lexicon+embeddings" and fallback.tagger is None and fallback.normaliser is not None
        assert "unusable" in caplog.text and "head.bias" in caplog.text
    finally:
        load_parser(reload=True)


def test_parsing_imports_neither_torch_nor_transformers():
    code = (
        "import sys; from pipeline.understanding import load_parser, parse_prompt; "
        "parse_prompt('dark atmospheric synthwave at 140 BPM in A minor, 2 minutes'); "
        "print(load_parser().mode, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "tagger False False", out.stdout + out.stderr
