"""The plain-torch encoder used for parsing computes what transformers' BertModel computes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.understanding.encoder import Encoder
from pipeline.understanding.tagger import SpanTagger

TEXTS = [
    "dark atmospheric synthwave at 140 BPM in A minor",
    "lofi beat w/ jazzy keys ~85bpm, no drums",
    "retrowave 🌆 outrun vibes, smoky jazz bar",
    "x" * 600,  # longer than the 128-token cut
]


@pytest.fixture(scope="module")
def encoders() -> tuple[Encoder, Encoder]:
    return Encoder.load(backend="light"), Encoder.load(backend="transformers")


def test_tokens_offsets_and_words_match_the_transformers_tokenizer(encoders):
    light, reference = (e.encode(TEXTS, offsets=True) for e in encoders)
    for name in ("input_ids", "attention_mask", "offset_mapping"):
        assert light[name].tolist() == reference[name].tolist(), name
    assert [light.word_ids(i) for i in range(len(TEXTS))] == [reference.word_ids(i) for i in range(len(TEXTS))]


def test_sentence_embeddings_match_to_float_precision(encoders):
    light, reference = (e.sentence_embeddings(TEXTS) for e in encoders)
    assert float((light - reference).abs().max()) < 1e-5


def test_the_fine_tuned_tagger_finds_the_same_spans_on_either_encoder(encoders):
    light, reference = (SpanTagger.load(e) for e in encoders)
    for text in TEXTS:
        a, b = light.tag(text), reference.tag(text)
        assert [(s.label, s.start, s.end) for s in a] == [(s.label, s.start, s.end) for s in b]
        assert all(abs(x.score - y.score) < 1e-4 for x, y in zip(a, b))


def test_parsing_never_imports_transformers():
    code = (
        "import sys; from pipeline.understanding import parse_prompt; "
        "parse_prompt('lofi beat with rhodes, 85 bpm'); print('transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False"
