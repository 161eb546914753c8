"""The plain-word gate: which sentences of a long prompt the tagger must read."""

from __future__ import annotations

from pipeline.understanding import plain_words

PLAIN = frozenset({"the", "recording", "is", "noisy", "and", "in", "mono", "a", "plays", "softly"})


def test_a_sentence_of_plain_words_and_lexicon_words_is_skipped() -> None:
    sentence = "The recording is noisy and in mono."
    assert not plain_words.needs_tagger(sentence, [], 0, PLAIN)
    # "cello" is read by the lexicon (its span is known), the rest is plain
    assert not plain_words.needs_tagger("A cello plays softly.", [(2, 7)], 0, PLAIN)


def test_an_unknown_word_sends_the_sentence_to_the_tagger() -> None:
    assert plain_words.needs_tagger("A guzheng plays softly.", [], 0, PLAIN)
    # offsets are in the whole prompt: the known span must line up with the sentence's own offset
    assert plain_words.needs_tagger("A cello plays softly.", [(2, 7)], 100, PLAIN)
    assert not plain_words.needs_tagger("A cello plays softly.", [(102, 107)], 100, PLAIN)


def test_without_a_list_every_sentence_is_tagged() -> None:
    assert plain_words.needs_tagger("The recording is noisy.", [], 0, frozenset())
