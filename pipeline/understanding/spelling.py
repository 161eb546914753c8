"""difflib's closest match, without running difflib over every form.

`difflib.get_close_matches(word, forms, n=1, cutoff)` tries each form in turn with three tests, each an
upper bound of the next: real_quick_ratio (2 * min(len) / total length), quick_ratio (2 * the size of the
two letter multisets' intersection / total length) and ratio (the real one). A form failing either bound
can never be returned, and whether one passes depends on that form alone, so `CloseMatcher` computes both
bounds for all forms at once in numpy (the same float expression as difflib's `_calculate_ratio`) and
hands difflib only the survivors: the answer is difflib's own, exactly (the best (ratio, form) pair; the
order of the forms does not matter to it). On long prompts the plain loop cost 6-12 ms a caption.
"""

from __future__ import annotations

import difflib
from collections import Counter

import numpy as np


class CloseMatcher:
    """best(word, cutoff) == (difflib.get_close_matches(word, forms, n=1, cutoff=cutoff) or [None])[0]."""

    def __init__(self, forms: list[str]) -> None:
        self.forms = list(forms)
        letters = sorted({c for form in self.forms for c in form})
        self._column = {c: i for i, c in enumerate(letters)}
        self._lengths = np.array([len(form) for form in self.forms], dtype=np.int64)
        self._counts = np.zeros((len(self.forms), len(letters)), dtype=np.int64)  # each form's letter multiset
        for row, form in enumerate(self.forms):
            for c, n in Counter(form).items():
                self._counts[row, self._column[c]] = n

    def candidates(self, word: str, cutoff: float) -> list[str]:
        """The forms that pass difflib's real_quick_ratio and quick_ratio tests against `word`."""
        if not self.forms:
            return []
        total = self._lengths + len(word)
        # _calculate_ratio(matches, length) is 2.0 * matches / length (1.0 for two empty strings)
        with np.errstate(invalid="ignore", divide="ignore"):
            real_quick = np.where(total > 0, 2.0 * np.minimum(self._lengths, len(word)) / total, 1.0)
            wanted = np.zeros(len(self._column), dtype=np.int64)
            for c, n in Counter(word).items():
                if c in self._column:  # a letter no form has matches nothing
                    wanted[self._column[c]] = n
            rows = np.flatnonzero(real_quick >= cutoff)
            shared = np.minimum(self._counts[rows], wanted).sum(axis=1)
            quick = np.where(total[rows] > 0, 2.0 * shared / total[rows], 1.0)
        return [self.forms[i] for i in rows[quick >= cutoff].tolist()]

    def best(self, word: str, cutoff: float) -> str | None:
        close = difflib.get_close_matches(word, self.candidates(word, cutoff), n=1, cutoff=cutoff)
        return close[0] if close else None
