"""Words in a prompt that choose the generator: "made with stable audio", "use musicgen".

A model's own name is unambiguous ("stable audio", "musicgen"), so naming it anywhere in the prompt
asks for it; the symbolic composer is asked for only with a verb ("use the symbolic backend", "keep
it offline"), since "symbolic" alone can describe the music. Thread replies can use the same words
to switch a track's backend.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Checked in order: the open-weights model's name contains the API's.
    ("stable-audio-open", re.compile(r"\bstable[\s_-]*audio[\s_-]*open\b|\bsao\b")),
    ("stable-audio", re.compile(r"\bstable[\s_-]*audio\b|\bstability(?:\s*ai)?(?:'s)?\s+(?:api|model)\b")),
    ("musicgen", re.compile(r"\bmusic[\s_-]*gen\b")),
    (
        "symbolic",
        re.compile(
            r"\b(?:use|using|with|via|on|keep it|stay)\s+(?:the\s+)?(?:symbolic|offline)"
            r"(?:\s+(?:backend|composer|engine|generator|model|mode))?\b"
        ),
    ),
)


def backend_from_words(text: str) -> str | None:
    """The backend the words name, or None when they name none."""
    folded = text.lower()
    for name, pattern in _PATTERNS:
        if pattern.search(folded):
            return name
    return None
