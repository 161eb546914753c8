"""Deterministic extractors for what a prompt says explicitly: BPM, key, duration, time signature.

They are authoritative: the tagger never overrides them. Each returns the value exactly as said
(5 BPM stays 5; `pipeline.defaults.resolve` clamps and notes it) and the character span it came
from, so the caller can tell the model those characters are already understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.spec import Key
from pipeline.vocabulary import TIME_SIGNATURES


@dataclass(frozen=True)
class Found:
    """An explicit value and where it was read (character offsets in the numberised text)."""

    value: object
    start: int
    end: int
    note: str | None = None


# ----------------------------------------------------------------------------- numbers in words
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS, "hundred", "a hundred"], key=len, reverse=True))
_NUMBER_RUN = re.compile(
    rf"\b(?:{_NUMBER_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_NUMBER_WORD}))*\b", re.IGNORECASE
)


def _numbers_in(words: str) -> list[int] | None:
    """The numbers a run of number words says, in order: "a hundred and twelve" -> [112],
    "twenty four" -> [24], "three four" -> [3, 4] (two numbers, as in a meter), "six eight" -> [6, 8]."""
    numbers: list[int] = []
    current: int | None = None
    last = ""  # kind of the last token in the current number: unit | teen | tens | hundred
    for token in re.split(r"[\s-]+", words.lower()):
        if token in ("", "and"):
            continue
        if token == "a":
            if current is not None:
                numbers.append(current)
            current, last = 1, "unit"
            continue
        if token == "hundred":
            if last == "hundred":
                return None
            current, last = (current or 1) * 100, "hundred"
            continue
        if token in _TENS:
            value, kind = _TENS[token], "tens"
        elif token in _UNITS:
            value, kind = _UNITS[token], "unit" if _UNITS[token] < 10 else "teen"
        else:
            return None
        joins = current is not None and (
            (last == "hundred") or (last == "tens" and kind == "unit" and current % 100 % 10 == 0)
            or (last == "hundred-tens" and kind == "unit"))
        if joins:
            current += value
            last = "hundred-tens" if last == "hundred" and kind == "tens" else kind
        else:
            if current is not None:
                numbers.append(current)
            current, last = value, kind
    if current is not None:
        numbers.append(current)
    return numbers or None


def numberise(text: str) -> str:
    """'ninety bpm' -> '90 bpm', 'a hundred and twenty' -> '120', 'two and a half minutes' -> '2.5 minutes'."""

    def swap(match: re.Match[str]) -> str:
        numbers = _numbers_in(match.group(0))
        return match.group(0) if numbers is None else " ".join(map(str, numbers))

    out = _NUMBER_RUN.sub(swap, text)
    out = re.sub(r"(?<![\d,])(\d+),(\d)(?=\s*(?:min|m\b|hours?\b|h\b))", r"\1.\2", out)  # "1,5 min"
    out = re.sub(r"\b(\d+)\s+and\s+a\s+half\b", lambda m: f"{m.group(1)}.5", out, flags=re.IGNORECASE)
    out = re.sub(r"\ba\s+minute\s+and\s+a\s+half\b", "1.5 minutes", out, flags=re.IGNORECASE)
    out = re.sub(r"\bhalf\s+a\s+minute\b", "30 seconds", out, flags=re.IGNORECASE)
    out = re.sub(r"\ba\s+minute\b", "1 minute", out, flags=re.IGNORECASE)
    out = re.sub(r"\ba\s+min\b", "1 min", out)  # lower-case only: "A min" is a key
    out = re.sub(r"\ban\s+hour\b", "1 hour", out, flags=re.IGNORECASE)
    return out


# ----------------------------------------------------------------------------- tempo
_NUM = r"(\d{1,4}(?:\.\d+)?)"
_RANGE_SEP = r"\s*(?:-|–|—|to|or)\s*"
_BPM_UNIT = r"\s*(?:bpm|b\.p\.m\.?|beats per minute|beats a minute)\b"
_TEMPO_PATTERNS: tuple[re.Pattern[str], ...] = (
    # ranges first: "90-100 bpm", "between 90 and 100 bpm"
    re.compile(rf"\bbetween\s+{_NUM}\s+and\s+{_NUM}{_BPM_UNIT}", re.IGNORECASE),
    re.compile(rf"(?<![\d.:/]){_NUM}{_RANGE_SEP}{_NUM}(?:\s*ish)?{_BPM_UNIT}", re.IGNORECASE),
    re.compile(rf"(?<![\d.:/]){_NUM}\s*(?:ish)?{_BPM_UNIT}", re.IGNORECASE),
    re.compile(rf"\b(?:bpm|tempo)\s*(?:of|at|around|about|approx\.?|approximately|roughly|like|is|=|:|~|≈)*\s*"
               rf"~?\s*{_NUM}(?:{_RANGE_SEP}{_NUM})?(?!\s*(?:/|:|\d|%|s\b|sec|min|bar|hz|db))", re.IGNORECASE),
    re.compile(rf"(?:♩|𝅘𝅥|quarter\s*note|\bq)\s*=\s*{_NUM}", re.IGNORECASE),
    re.compile(rf"(?:^|\s)@\s*{_NUM}\b"),
    re.compile(rf"\b{_NUM}\s*ish\b", re.IGNORECASE),
)
# A bare number that reads as a tempo: "dnb 174", "trance track 138,", "half-time feel at 140".
_BARE_TEMPO = re.compile(
    r"(?<![\w.:/#$£€@-])(\d{2,3})(?![\w:/%'’]|\.\d|\s*(?:-|–|to)\s*\d|\s*(?:sec|secs|seconds?|s\b|min|mins|minutes?|"
    r"hours?|hrs?|bars?|measures?|%|hz|khz|db|years?|people|times|x\b|songs?|tracks?|percent|k\b))",
    re.IGNORECASE,
)


def _mid(a: str, b: str | None) -> float:
    lo = float(a)
    return lo if b is None else (lo + float(b)) / 2.0


def _tidy(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 2)


def extract_tempo(text: str) -> Found | None:
    """The tempo said in numberised text, or None. A range gives its midpoint."""
    for pattern in _TEMPO_PATTERNS:
        m = pattern.search(text)
        if m:
            groups = [g for g in m.groups() if g is not None]
            return Found(_tidy(_mid(groups[0], groups[1] if len(groups) > 1 else None)), m.start(), m.end())
    for m in _BARE_TEMPO.finditer(text):
        value = int(m.group(1))
        before = text[max(0, m.start() - 12):m.start()].lower()
        if not 50 <= value <= 220:
            continue
        if re.search(r"(?:\bin|\bof|\bfor|#|\bno\.?|\bq|\bthe|\bmy|\bour|\btop|\bunder|\bover|\bage|\baged)\s*$", before):
            continue
        return Found(value, m.start(), m.end())
    return None


# ----------------------------------------------------------------------------- key
_TONIC = r"([A-Ga-g])\s*(#|♯|b|♭|\s+flat|\s+sharp|-flat|-sharp)?"
_MODE_WORDS = r"(major|minor|maj|min|dorian|mixolydian|lydian|phrygian|aeolian|ionian)"
_KEY_FULL = re.compile(rf"(?<![\w#])(?<!drop )(?<!drop-){_TONIC}\s*-?\s*{_MODE_WORDS}\b", re.IGNORECASE)
# "Am", "F#m", "Bbm", "Gm" (case-sensitive: a capital letter and a lower-case m)
_KEY_SHORT = re.compile(r"(?<![\w#])(?<!drop )([A-G])(#|♯|b|♭)?m(?![\w#'’])")
# A bare tonic where context makes it a key: "in F#", "blues in A", "key of D", "key: Eb".
_KEY_BARE = re.compile(
    r"(?:\bin(?: the key of)?|\bkey(?:\s+of)?\s*[:=]?|\bkey\s*[:=])\s*([A-G])(#|♯|b|♭|\s+flat|\s+sharp)?(?![\w#'’/])"
)
_KEY_LEADING = re.compile(r"^\s*([A-Ga-g])(#|♯|b|♭|\s+flat|\s+sharp)?(?![\w#'’])")
_KEY_BARE_LOWER = re.compile(r"\bkey(?:\s+of)?\s*[:=]?\s*([a-g])(#|♯|b|♭)?(?![\w#'’])", re.IGNORECASE)


def _accidental(raw: str | None) -> str:
    if not raw:
        return ""
    raw = raw.strip().lower().lstrip("-")
    return "#" if raw in ("#", "♯", "sharp") else "b"


def _key_from(letter: str, accidental: str | None, mode: str) -> str | None:
    try:
        return str(Key.parse(f"{letter.upper()}{_accidental(accidental)} {mode.lower()}"))
    except ValueError:
        return None


# "the relative minor of C major", "parallel major of E minor", "relative minor to Eb"
_KEY_RELATION = re.compile(r"\b(relative|parallel)\s+(major|minor)\s+(?:key\s+)?(?:of|to)\s+(?:the\s+key\s+of\s+)?",
                           re.IGNORECASE)


def related_key(key: str, relation: str, mode: str) -> str:
    """The relative or parallel `mode` ("major"/"minor") of a key: relative minor of C major -> A minor."""
    parsed = Key.parse(key)
    if relation == "parallel" or parsed.mode not in ("major", "minor") or parsed.mode == mode:
        return str(Key.parse(f"{parsed.tonic} {mode}"))
    step = -3 if mode == "minor" else 3  # the relative minor sits a minor third below its major
    return str(Key.parse(f"{transpose_tonic(parsed.tonic, step)} {mode}"))


_PITCH = {"C": 0, "C#": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "Ab": 8, "A": 9, "Bb": 10, "B": 11}


def transpose_tonic(tonic: str, semitones: int) -> str:
    """A tonic moved by semitones, in ampa's spelling (C C# D Eb E F F# G Ab A Bb B)."""
    names = list(_PITCH)
    return names[(_PITCH[tonic] + semitones) % 12]


def extract_key(text: str) -> Found | None:
    """The key said in the text ("A minor", "Am", "in F#", "E flat major", "relative minor of C"), respelled."""
    relation = _KEY_RELATION.search(text)
    if relation:
        named = _named_key(text[relation.end():relation.end() + 24], anywhere=True)
        if named is not None:
            key = related_key(named.value, relation.group(1).lower(), relation.group(2).lower())
            return Found(key, relation.start(), relation.end() + named.end)
    return _named_key(text)


def _named_key(text: str, *, anywhere: bool = False) -> Found | None:
    for m in _KEY_FULL.finditer(text):
        letter, accidental, mode = m.group(1), m.group(2), m.group(3)
        # A lower-case single letter needs the mode word right after it ("a minor"), which we have.
        # "b minor" reads as B minor, not as a flat sign.
        key = _key_from(letter, accidental, mode)
        if key:
            return Found(key, m.start(), m.end())
    m = _KEY_SHORT.search(text)
    if m:
        key = _key_from(m.group(1), m.group(2), "minor")
        if key:
            return Found(key, m.start(), m.end())
    patterns = (_KEY_BARE, _KEY_BARE_LOWER) + ((_KEY_LEADING,) if anywhere else ())
    for pattern in patterns:
        m = pattern.search(text)
        if m:
            key = _key_from(m.group(1), m.group(2), "major")
            if key:
                return Found(key, m.start(), m.end())
    return None


# ----------------------------------------------------------------------------- duration
# Units end at a non-letter, so glued forms read too: "2m30s", "90sec", "3mins", "1h".
_MIN_UNIT = r"(?:minutes?|mins?|mns?|m)(?![a-z])"
_SEC_UNIT = r"(?:seconds?|secs?|s)(?![a-z])"
_HOUR_UNIT = r"(?:hours?|hrs?|h)(?![a-z])"
_BOUND_BEFORE = re.compile(r"(?:under|less than|no more than|max(?:imum)?|at most|up to|shorter than|below|within)\s*$",
                           re.IGNORECASE)
_DURATION_CONTEXT = re.compile(r"(?:duration|length|long|lasting|runtime|time)\s*[:=]?\s*$", re.IGNORECASE)
_DURATION_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"(?<![\d./]){_NUM}\s*{_MIN_UNIT}\s*(?:and\s*)?{_NUM}\s*{_SEC_UNIT}", re.IGNORECASE), "min+sec"),
    # "2 minutes 30", "3 min and 15": the seconds' unit left out
    (re.compile(rf"(?<![\d./]){_NUM}\s*{_MIN_UNIT}\s*(?:and\s*)?([0-5]?\d)(?![\d.]|\s*(?:bpm|%|x\b|/))",
                re.IGNORECASE), "min+sec"),
    (re.compile(rf"(?<![\d./]){_NUM}{_RANGE_SEP}{_NUM}\s*{_MIN_UNIT}", re.IGNORECASE), "min-range"),
    (re.compile(rf"(?<![\d./]){_NUM}{_RANGE_SEP}{_NUM}\s*{_SEC_UNIT}", re.IGNORECASE), "sec-range"),
    (re.compile(r"(?<![\d./:])(\d{1,2}):([0-5]\d)(?![\d:])"), "m:ss"),
    (re.compile(rf"(?<![\d./]){_NUM}\s*{_HOUR_UNIT}", re.IGNORECASE), "hour"),
    (re.compile(rf"(?<![\d./]){_NUM}\s*{_MIN_UNIT}", re.IGNORECASE), "min"),
    (re.compile(rf"(?<![\d./]){_NUM}\s*{_SEC_UNIT}", re.IGNORECASE), "sec"),
)


_SPACED_SECONDS = re.compile(r"\s*(?:$|[,.;:!?)\]])")


def _is_era(text: str, m: re.Match[str]) -> bool:
    """'80s', '90s', '1920s' are eras unless the text is plainly giving a length ('duration=90s')."""
    raw = m.group(0).strip()
    if not re.fullmatch(r"\d+s", raw, flags=re.IGNORECASE):
        return False
    number = int(raw[:-1])
    era_like = (10 <= number <= 90 and number % 10 == 0) or (1000 <= number <= 2100 and number % 10 == 0)
    return era_like and not _DURATION_CONTEXT.search(text[max(0, m.start() - 14):m.start()])


def extract_duration(text: str) -> Found | None:
    """The length said, in seconds ("2 minutes" -> 120, "1:30" -> 90, "2m30s" -> 150); None if none."""
    candidates: list[tuple[bool, int, Found]] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _DURATION_PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            if kind == "sec" and _is_era(text, m):
                continue
            g = m.groups()
            if kind == "min+sec":
                seconds = float(g[0]) * 60 + float(g[1])
            elif kind == "min-range":
                seconds = _mid(g[0], g[1]) * 60
            elif kind == "sec-range":
                seconds = _mid(g[0], g[1])
            elif kind == "m:ss":
                if re.search(r"(?:\bat|\bby|pm|am)\s*$", text[max(0, m.start() - 4):m.start()], re.IGNORECASE):
                    continue
                seconds = int(g[0]) * 60 + int(g[1])
            elif kind == "hour":
                seconds = float(g[0]) * 3600
            elif kind == "min":
                # "m" alone is only minutes right after the number ("6m"), not "6 m..." words.
                if m.group(0).rstrip().lower().endswith("m") and re.search(r"\s", m.group(0)):
                    continue
                seconds = float(g[0]) * 60
            else:
                unit = re.sub(r"[\d.\s]", "", m.group(0)).lower()
                if unit == "s" and (g[0] in ("303", "606", "808", "909") or (
                        re.search(r"\s", m.group(0)) and not _SPACED_SECONDS.match(text, m.end()))):
                    continue  # "808s" are bass drums; "15 s" only where the text ends or punctuation follows
                seconds = float(g[0])
            if seconds <= 0:
                continue
            bounded = bool(_BOUND_BEFORE.search(text[max(0, m.start() - 20):m.start()]))
            taken.append((m.start(), m.end()))
            candidates.append((bounded, m.start(), Found(_tidy(seconds), m.start(), m.end())))
    if not candidates:
        return None
    # "under two minutes... like 1:45": a bound is weaker than a stated length.
    candidates.sort(key=lambda c: (c[0], c[1]))
    return candidates[0][2]


# ----------------------------------------------------------------------------- time signature
_METER = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])")
# Meters without a slash, after numberise: "6 8 time", "in 3 4", "3-4 time", "7 over 8", "time signature: 5 4"
_METER_SPACED = re.compile(
    r"(?<![\d.])(\d{1,2})\s*(?:over|-|\s)\s*(\d{1,2})\s*(?:time|meter|metre|signature|feel|groove)\b"
    r"|\bin\s+(\d{1,2})\s+(\d{1,2})(?![\d.]|\s*(?:min|sec|bpm|bars?|m\b|s\b))"
    r"|\b(?:time signature|meter|metre)\s*(?:of|is|in|[:=])?\s*(\d{1,2})\s*(?:over|-|\s)\s*(\d{1,2})\b",
    re.IGNORECASE,
)
_METER_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bwaltz(?:es|y)?\b", re.IGNORECASE), "3/4"),
    (re.compile(r"\bcommon time\b", re.IGNORECASE), "4/4"),
    (re.compile(r"\btriple (?:meter|metre|time)\b", re.IGNORECASE), "3/4"),
    (re.compile(r"\b(?:in|odd meter in|odd time in)\s+(?:five|5)\b(?!\s*(?:min|sec|bpm|bars?|m\b|s\b|/|\d))",
                re.IGNORECASE), "5/4"),
    (re.compile(r"\b(?:in|odd meter in|odd time in)\s+(?:seven|7)\b(?!\s*(?:min|sec|bpm|bars?|m\b|s\b|/|\d))",
                re.IGNORECASE), "7/8"),
    (re.compile(r"\b(?:in|counted in)\s+(?:three|3)(?=\s*(?:$|[,.;:!?)]|time\b|feel\b|please\b|pls\b))",
                re.IGNORECASE), "3/4"),
    (re.compile(r"\b(?:compound|jig) time\b", re.IGNORECASE), "6/8"),
)


def extract_time_signature(text: str) -> Found | None:
    """'in 6/8' -> '6/8', 'waltz' -> '3/4', 'common time' -> '4/4'; an unsupported meter gives a note."""
    slashed = [(m, m.group(1), m.group(2)) for m in _METER.finditer(text)]
    spaced = [(m, *[g for g in m.groups() if g is not None]) for m in _METER_SPACED.finditer(text)]
    for m, upper, lower in slashed + spaced:
        meter = f"{int(upper)}/{int(lower)}"
        if meter in TIME_SIGNATURES:
            return Found(meter, m.start(), m.end())
        if int(lower) in (2, 4, 8, 16) and 2 <= int(upper) <= 15:
            return Found(None, m.start(), m.end(),
                         note=f"time signature {meter}: not supported yet (ampa plays {', '.join(TIME_SIGNATURES)})")
    for pattern, meter in _METER_WORDS:
        m = pattern.search(text)
        if m:
            return Found(meter, m.start(), m.end())
    return None
