"""The words that switch reference options on, read from a prompt: cheap (no audio imports), so the
job service can read them at submit time."""

from __future__ import annotations

import re

_MATCH_WORDS = re.compile(
    r"\b(match(ing)?|master(ed)?\s+(it\s+)?like|as\s+loud\s+as|same\s+(loudness|sound|master))\b[^.;]{0,30}\b(reference|ref|this|it|the\s+track|the\s+file|attached|original)\b",
    re.IGNORECASE,
)
_ALIGN_WORDS = re.compile(
    r"\b(line\s+(it\s+)?up|align(ed)?|sync(ed)?|lock(ed)?)\b[^.;]{0,30}\b(reference|ref|downbeat|grid)\b", re.IGNORECASE
)


def wants_match(prompt: str) -> bool:
    """'match the reference', 'master it like this', 'as loud as the reference'."""
    return bool(_MATCH_WORDS.search(prompt or ""))


def wants_alignment(prompt: str) -> bool:
    """'line it up with the reference', 'align to the reference's downbeat'."""
    return bool(_ALIGN_WORDS.search(prompt or ""))


# How the notes about a reference begin: the status message shows them together, and a new version
# (which listens to the reference again) replaces its parent's.
REFERENCE_NOTE_PREFIXES = (
    "from the reference",
    "not from the reference",
    "the reference adds nothing",
    "mastered to the reference",
)


def is_reference_note(note: str) -> bool:
    return note.startswith(REFERENCE_NOTE_PREFIXES)
