"""The spelling prefilter: CloseMatcher gives exactly what difflib.get_close_matches gives."""

from __future__ import annotations

import difflib

import pytest

from pipeline.understanding import lexicon as lx
from pipeline.understanding.normalise import phrases
from pipeline.understanding.spelling import CloseMatcher

# typos, real words, a form itself, words longer and shorter than any form, letters no form has
WORDS = ["tecno", "techno", "agressive", "nostalgik", "swingin", "singing", "recording", "saxaphone", "vilin",
         "orchestral", "electronica", "guitars", "accoustic", "xylophone", "zzzzzzz", "élégant", "drum n bass",
         "lofi hip hop beats", "a", "pianoo", "mellow", "mellowness", "synthesiser", "distortion", "ambience"]


@pytest.mark.parametrize("field", ["genres", "moods", "instruments"])
@pytest.mark.parametrize("cutoff", [0.6, 0.8, 0.88, 1.0])
def test_the_prefilter_returns_exactly_what_difflib_returns(field: str, cutoff: float) -> None:
    forms = list({lx.fold(p): slug for slug, p in phrases()[field] if len(p) >= 4})
    matcher = CloseMatcher(forms)
    for word in WORDS:
        expected = difflib.get_close_matches(word, forms, n=1, cutoff=cutoff)
        assert matcher.best(word, cutoff) == (expected[0] if expected else None), word


def test_the_prefilter_drops_only_forms_difflib_would_drop() -> None:
    forms = ["techno", "tech", "trance", "house", "technological"]
    matcher = CloseMatcher(forms)
    kept = matcher.candidates("tecno", 0.88)
    assert "techno" in kept and "house" not in kept and "technological" not in kept
    for form in forms:
        s = difflib.SequenceMatcher(None, form, "tecno")
        if s.ratio() >= 0.88:
            assert form in kept
    # ties go to difflib's own order: the larger (ratio, form) pair
    assert CloseMatcher(["abcd", "abce"]).best("abcx", 0.7) == difflib.get_close_matches("abcx", ["abcd", "abce"],
                                                                                       n=1, cutoff=0.7)[0]
    assert CloseMatcher([]).best("tecno", 0.5) is None
