"""Make chat text readable before parsing: mentions, markdown, code fences, links, huge pastes.

Returns the cleaned text and plain notes of what was dropped, so nothing disappears silently.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 2000  # a prompt longer than this is a paste, not a request: read its start only

_MENTION = re.compile(r"<(?:@[!&]?|#|!subteam\^)[\w|.-]+>|<!(?:here|channel|everyone)(?:\|[^>]*)?>")
_LINK = re.compile(r"<?https?://\S+>?")
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget)\b[^.!?\n]{0,40}\b(?:instructions?|prompts?|rules?|above|previous)\b"
    r"|\bsystem prompt\b|\byou are now\b|\bact as\b|\bjailbreak\b|\bdeveloper mode\b|\breveal\b[^.!?\n]{0,30}\b(?:secret|token|key|prompt)s?\b",
    re.IGNORECASE,
)


def clean(text: str) -> tuple[str, list[str]]:
    """Cleaned text and notes of what was ignored."""
    notes: list[str] = []
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = unicodedata.normalize("NFKC", text).replace("\x00", " ")
    if len(text) > MAX_CHARS:
        notes.append(f"ignored: everything after the first {MAX_CHARS} characters of a {len(text)}-character prompt")
        text = text[:MAX_CHARS]
    if _MENTION.search(text):
        notes.append("ignored: chat mentions")
        text = _MENTION.sub(" ", text)
    if _LINK.search(text):
        notes.append("ignored: links (ampa cannot open them; attach audio as a reference instead)")
        text = _LINK.sub(" ", text)
    if _INJECTION.search(text):
        notes.append("ignored: instructions that are not about music")
        text = _INJECTION.sub(" ", text)
    # Markdown: keep the words, drop the markup ("**BPM:** 124" -> "BPM: 124").
    text = text.replace("```", " ")
    text = re.sub(r"[*_~`|]{1,3}", " ", text)
    text = re.sub(r"^\s*(?:[-+>]|\d+[.)])\s+", " ", text, flags=re.MULTILINE)
    text = re.sub(r"^\s*#{1,6}\s*", " ", text, flags=re.MULTILINE)
    text = re.sub(r"\s+", " ", text).strip()
    return text, notes


def mostly_unreadable(text: str) -> bool:
    """True when the words are mostly not in the Latin alphabet (ampa reads English prompts)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if c.isascii() or "LATIN" in unicodedata.name(c, ""))
    return latin / len(letters) < 0.5


def has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)
