"""Is a message a request for music at all? Questions, chit-chat and gibberish get a helpful reply instead.

A message is split into sentences. A question ("how do I download the stems?", "what's the difference
between dubstep and dnb?", "is it possible to make longer tracks?") is not a request, even when it names
music; a question that asks ampa to make something ("could you compose a sad piano piece?", "what about
a dark techno track?") is. The parser reads music only from the sentences that may be requests, so a
question about genres never becomes a job. `reply_for` answers what people most often ask.
"""

from __future__ import annotations

import re

from pipeline.spec import MAX_DURATION_S, MIN_DURATION_S
from pipeline.vocabulary import GENRES

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
# What people put before the real sentence: "hey ampa, …", "ok so …", "@ampa …"
_OPENING = re.compile(r"^\s*(?:(?:hey|hi|hello|yo|ok|okay|so|um|umm|well|please|pls|plz|and|also|ampa)\b[\s,!:]*)+")
_WH_QUESTION = re.compile(r"^(?:what|what's|whats|wat|how|how's|why|who|who's|when|where|where's|which|whose)\b(?!\s+(?:about|a|an)\b)")
_YES_NO_QUESTION = re.compile(
    r"^(?:do|does|did|is|isn't|are|aren't|was|were|have|has|will|would|should|shall|am|can|could|may|might)\s+"
    r"(?:you|u|ya|ampa|it|i|we|they|this|that|there|these|those|the|my|your|its|one)\b")
# A question that asks for a track: "could you make…", "can I get…", "how about…", "any chance of…"
_ASKS_FOR_MUSIC = re.compile(
    r"^(?:(?:can|could|would|will|wud|cud|cn)\s+(?:you|u|ya)\s+(?:please\s+|pls\s+|plz\s+|possibly\s+|maybe\s+|just\s+|"
    r"kindly\s+|also\s+|now\s+)*(?:make|compose|write|produce|create|generate|do|give|cook|whip|play|try|build|craft|"
    r"put together|get|score|bang out)\b"
    r"|(?:can|could|may)\s+i\s+(?:please\s+)?(?:get|have|hear|request)\b"
    r"|(?:how|what)\s+about\b|any\s+chance\b|would\s+you\s+mind\b|is\s+it\s+possible\s+to\s+(?:get|have|hear)\s+(?:a|an|some|something)\b"
    r"|(?:do|does)\s+(?:you|u)\s+(?:want|wanna)\s+to\s+(?:make|do)\b)")
_GREETING = re.compile(r"\b(?:hi|hello|hey|yo|hiya|howdy|good (?:morning|evening|afternoon|night)|sup|what's up|how are you)\b")
_THANKS = re.compile(r"\b(?:thanks|thank you|thx|ty|cheers|awesome|great|nice|cool|love it|perfect)\b")

_HELP = ('Describe the track you want in one sentence — genre, mood, instruments, tempo, key, length — '
         'e.g. "chill lofi hip-hop with piano, 90 BPM, 1 minute". Each track comes with a mix, stems, MIDI and a report.')
_ANSWERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:stems?|download|files?|midi|wav|mp3|formats?|export|zip)\b"),
     "Every finished track comes with the mix (WAV and MP3), its stems (one audio file per instrument, zipped), "
     "the MIDI of the arrangement, a spectrogram and a report; they are posted with the track (or linked when too "
     "large to upload)."),
    (re.compile(r"\b(?:genres?|styles?|kinds? of music)\b"),
     "I know these genres: " + ", ".join(GENRES) + ". Name one (or two) in your request."),
    (re.compile(r"\b(?:long|length|minutes?|duration|short)\b"),
     f"A track can be {MIN_DURATION_S:g} seconds to {MAX_DURATION_S / 60:g} minutes long; say the length in your "
     'request, e.g. "2 minutes" or "1:30".'),
    (re.compile(r"\b(?:fail|failed|error|broken|wrong|stuck)\b"),
     "When a track fails, its status message says why and what to change; send the request again with that change."),
    (re.compile(r"\b(?:vocals?|sing|lyrics|voice)\b"),
     "ampa makes instrumentals: no vocals or lyrics yet."),
)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _opening_removed(sentence: str) -> str:
    return _OPENING.sub("", sentence.lower().replace("’", "'")).strip()


def is_question(sentence: str) -> bool:
    """A question that does not ask ampa for a track."""
    body = _opening_removed(sentence)
    if not body or _ASKS_FOR_MUSIC.search(body):
        return False
    # A question mark alone does not make a question: "dark techno at 130?" is a tentative request.
    return bool(_WH_QUESTION.search(body) or _YES_NO_QUESTION.search(body))


def request_part(text: str) -> str:
    """The text without its questions (each replaced by spaces, so offsets stay put); '' if it is all questions."""
    out = text
    for m in _SENTENCE.finditer(text):
        if is_question(m.group(0)):
            out = out[:m.start()] + " " * (m.end() - m.start()) + out[m.end():]
    return out if out.strip() else ""


def reply_for(text: str) -> str:
    """A helpful answer to a message that is not a request: a question, a greeting, thanks or gibberish."""
    lowered = text.lower()
    asked = any(is_question(s) for s in sentences(text))
    if asked:
        for pattern, answer in _ANSWERS:
            if pattern.search(lowered):
                return f"{answer} {_HELP}"
        return f"I make instrumental tracks from a description. {_HELP}"
    if _GREETING.search(lowered):
        return f"Hi! {_HELP}"
    if _THANKS.search(lowered):
        return f"Glad to help. To make another track: {_HELP[0].lower()}{_HELP[1:]}"
    return f"I couldn't find a music request in that. {_HELP}"
