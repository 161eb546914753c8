"""Follow-up edits in a thread: the previous spec + a reply -> the new spec and the list of changes.

Changes use the vocabulary's edit shape with actual numbers:
    {"field": "mix", "stem": "drums", "db": -4.0}, {"field": "tempo_bpm", "to": 154},
    {"field": "instruments", "add": "strings"}, {"field": "seed", "to": 1234}, {"new_prompt": True}

A reply is read clause by clause ("make the drums quieter and switch to G minor" is two edits).
A reply that is a whole new request starts over; one that asks for nothing ("love it") changes
nothing and makes no new version; one that cannot be done ("add vocals") is listed and said back.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from pipeline.defaults import default_seed, resolve
from pipeline.spec import Key, Sourced, Spec
from pipeline.understanding import lexicon as lx
from pipeline.understanding.cleaning import clean, has_words
from pipeline.understanding.extractors import (
    extract_duration,
    related_key,
    transpose_tonic,
    extract_key,
    extract_tempo,
    extract_time_signature,
    numberise,
)
from pipeline.vocabulary import GENRES, UNRENDERABLE_INSTRUMENTS

QUIETER_DB = -4.0
LOUDER_DB = 3.0
TEMPO_STEP = 0.10  # "faster" is +10%
DURATION_STEP = 0.25  # "a bit longer" is +25%
ENERGY_STEP = 0.15


@dataclass(frozen=True)
class EditResult:
    spec: Spec
    changes: list[dict[str, Any]] = field(default_factory=list)
    new_prompt: bool = False
    messages: list[str] = field(default_factory=list)
    makes_new_version: bool = False


_SEED = re.compile(r"\b(?:another|new|different|fresh|other) (?:take|version|variation|one|try|attempt|go)\b|"
                   r"\bagain\b|\bre-?roll\b|\bre-?generate\b|\bredo\b|\bone more\b|\bshuffle\b|\bre-?do it\b")
_HALF = re.compile(r"\bhalf[ -]?time\b|\bhalve the tempo\b|\bhalf (?:the )?(?:tempo|speed)\b")
_DOUBLE = re.compile(r"\bdouble[ -]?time\b|\bdouble the (?:tempo|speed)\b")
_TEMPO_PCT_BY = re.compile(r"\b(?:tempo|speed|bpm|it|faster|slower|up|down)\b.{0,20}?\bby\s+(\d+)\s*(?:%|percent)")
_TEMPO_PCT = re.compile(r"\b(\d+)\s*(?:%|percent)\s*(faster|quicker|slower)\b")
_FASTER = re.compile(r"\b(?:faster|quicker|speed (?:it )?up|up the tempo|more tempo|pick up the (?:pace|tempo)|"
                     r"higher tempo|increase the tempo|too slow)\b")
_SLOWER = re.compile(r"\b(?:slower|slow (?:it )?down|lower the tempo|lower tempo|decrease the tempo|reduce the tempo|"
                     r"too fast|less fast)\b")
_TEMPO_CONTEXT = re.compile(r"\b(?:bpm|tempo|speed|pace|faster|slower|quicker|slow(?: it)? down|speed(?: it)? up|"
                            r"beats per minute)\b")
_UP = re.compile(r"\b(?:faster|quicker|up|higher|increase|raise|bump|speed(?: it)? up|push|plus|more|add)\b|\+\s*\d")
_DOWN = re.compile(r"\b(?:slower|down|lower|decrease|reduce|slow(?: it)? down|drop|minus|less|take off|cut)\b"
                   r"|(?<![\w-])-\s*\d")
# "by 10", "+10", "10 bpm faster", "go up 5 bpm" (a delta) -- but not "to 100" (a target) or "3 dB", "30 sec"
_DELTA_NUMBER = re.compile(
    r"(?:\bby\s+|[+-]\s*|\b(?:up|down|faster|slower|bump(?: it)?|raise it|lower it|increase it|decrease it)\s+)"
    r"(\d+(?:\.\d+)?)(?!\s*(?:%|percent|db|sec|secs|seconds?|s\b|min|mins|minutes?|semitones?|steps?|bars?|x\b|times))"
    r"|(\d+(?:\.\d+)?)\s*(?:bpm|beats per minute)?\s*(?:faster|slower|quicker|up|down|higher|lower|more|less)\b")
_TIMES = r"(?:2|two|3|three|4|four|1\.5|one and a half)\s+times|twice|double|triple|half"
_FACTOR_WORDS = {"2": 2.0, "two": 2.0, "twice": 2.0, "double": 2.0, "3": 3.0, "three": 3.0, "triple": 3.0, "4": 4.0,
                 "four": 4.0, "1.5": 1.5, "one and a half": 1.5, "half": 0.5}
_LENGTH_FACTOR = re.compile(
    rf"\b({_TIMES})\s+(?:as\s+)?(?:long|longer|the length|the duration|its length)\b"
    r"|\b(?:double|halve|triple)\s+(?:the|its)\s+(?:length|duration)\b"
    r"|\b(?:cut|chop)\s+(?:the\s+length\s+|it\s+)?in\s+half\b|\bhalf\s+as\s+long\b")
_TEMPO_FACTOR = re.compile(rf"\b({_TIMES})\s+as\s+(?:fast|quick)\b|\b(?:2|two)\s*x\s+(?:faster|the tempo)\b")
_BIG = re.compile(r"\b(?:a lot|much|way|lots|heaps)\b")
_LITTLE = re.compile(r"\b(?:a (?:little )?bit|bit|slightly|a little|a touch|tad)\b")
_LONGER = re.compile(r"\b(?:longer|extend(?:ed)?|lengthen|stretch it|too short|more time)\b")
_SHORTER = re.compile(r"\b(?:shorter|shorten|cut it down|trim(?: it)?|too long|less long)\b")
_DURATION_BY = re.compile(r"\b(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?)\s*(longer|shorter|more|less)\b")
_DURATION_BY_AFTER = re.compile(r"\b(longer|shorter)\s+by\s+(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?)\b"
                                r"|\b(add|cut|trim|take off|remove|shave off)\s+(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?)\b")
_STEP_COUNT = {"a": 1, "an": 1, "one": 1, "two": 2, "a couple of": 2, "couple of": 2, "a couple": 2, "a few": 3,
               "few": 3, "three": 3}
_SHIFT = re.compile(
    r"\b(\d+|a couple of|couple of|a couple|a few|few|an|a|one|two|three)\s+"
    r"(semitones?|semi tones?|half ?steps?|half ?tones?|whole ?steps?|whole ?tones?|tones?|steps?|keys?)\b")
_INTERVALS = {"minor second": 1, "major second": 2, "minor third": 3, "major third": 4, "perfect fourth": 5,
              "fourth": 5, "tritone": 6, "perfect fifth": 7, "fifth": 7, "minor sixth": 8, "major sixth": 9,
              "sixth": 9, "minor seventh": 10, "major seventh": 11}
_INTERVAL = re.compile(r"\b(?:a|an|by a|by an)\s+(" + "|".join(sorted(_INTERVALS, key=len, reverse=True)) + r")\b")
_KEY_UP = re.compile(r"\b(?:up|higher|raise|sharpen|brighter key)\b")
_KEY_DOWN = re.compile(r"\b(?:down|lower|drop|flatten)\b")
_RELATED_MODE = re.compile(r"\b(relative|parallel)\s+(major|minor)\b(?!\s+(?:key\s+)?(?:of|to)\b)")
_MODE_ONLY = re.compile(r"\b(?:make it|switch to|change to|go|in|to|into|more)\s+(major|minor)\b")
_DB = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*db\b")
_QUIETER = re.compile(r"\b(?:quieter|softer|lower|down|turn down|less loud|back off|tone down|bring down|reduce|duck|"
                      r"too loud|less|quiet|quietly|subtler|subtle|lower the|lowered|lighter)\b")
_LOUDER = re.compile(r"\b(?:louder|up|turn up|boost|bring up|crank|pump up|push|more|raise|too quiet|can't hear|"
                     r"cant hear|stronger|punchier|harder|fatter|bigger|loud|forward|upfront|front)\b")
# Mix words that name a stem's place in the mix; they win over add/remove verbs ("bring the choir forward").
_MIX_UP = re.compile(r"\b(?:stand(?:s|ing)? out|forward|upfront|up front|more present|(?:more )?prominent|pop(?:s)? (?:out|more)|"
                     r"cut(?:s)? through|higher in the mix|front and cent(?:re|er)|(?:barely|hardly|can't|cant|cannot) "
                     r"hear|buried|drowned|more audible|in your face|louder|turn(?:ed)? up|boost(?:ed)?|bring (?:it |them )?up|"
                     r"more of)\b")
_MIX_DOWN = re.compile(r"\b(?:less present|less prominent|(?:in|into|to) the background|further back|back off|sit(?:s)? back|"
                       r"push (?:it |them )?back|tuck(?:ed)?|too much|too loud|overpowering|too present|dominat\w*|"
                       r"softer|quieter|in the back|lower in the mix|not so loud|too strong|too heavy|too prominent|"
                       r"turn(?:ed)? down|less of|less loud|tone (?:it |them )?down|bring (?:it |them )?down)\b")
_REMOVE = re.compile(r"\b(?:remove|take out|take away|taking out|drop|lose|get rid of|without|no more|no|cut out|cut|"
                     r"mute|kill|ditch|strip|leave out|skip|delete|don't want|dont want|out)\b")
_ADD = re.compile(r"\b(?:add|adding|put in|put|throw in|throw|include|bring back|bring in|layer|with|plus|give it|"
                  r"needs?|want|use|back|bring)\b")
_SWAP = re.compile(r"\b(?:switch|swap|replace|change|exchange|trade|turn)\b.*?\b(?:for|with|to|into|by)\b")
_INSTEAD_OF = re.compile(r"\binstead of\b")
_LESS_MOOD = re.compile(r"\b(?:less|not so|not as|too|no longer|tone down|not|without the|fewer)\b")
_NEW_REQUEST = re.compile(r"\b(?:instead|new (?:track|song|one|beat|tune|piece)|something (?:else|different)|"
                          r"start over|different (?:track|song|beat)|from scratch|now (?:make|do|give)|next one|"
                          r"(?:write|make|give|compose|produce|create|generate|cook up) me\b|i (?:want|need) an? )\b")
# Words that open a brand-new idea: the reply starts over when it also names something musical.
_NEW_IDEA = re.compile(r"\b(?:new idea|different idea|another idea|scrap (?:that|this|it)|scratch (?:that|this)|"
                       r"forget (?:that|this|it|about it)|completely different|something completely|brand new|"
                       r"start (?:over|fresh|again from scratch)|never ?mind|different track|whole new|"
                       r"let'?s (?:do|try|make) (?:a|an|some)\b(?! (?:bit|little|touch)))")
_RELATIVE = re.compile(r"^\s*(?:same|keep|but|and|also|now just)\b")
_CLAUSE_SPLIT = re.compile(r"\s*(?:[,;.!?]+|\band then\b|\bthen\b|\band\b|\balso\b|\bplus\b|&)\s*")
_EDIT_VERBS = re.compile(r"\b(?:make|add|remove|change|switch|more|less|turn|put|take|bring|swap|replace|drop)\b")


def apply_reply(previous: Spec, reply: str) -> EditResult:
    """Apply a follow-up reply to the previous spec; never raises on bad input."""
    try:
        return _apply(previous, reply)
    except Exception:  # a broken reply must not break the thread
        import logging

        logging.getLogger(__name__).exception("apply_reply failed on %r", (reply or "")[:200])
        return EditResult(spec=previous, messages=["I couldn't read that reply, so nothing changed."])


def _apply(previous: Spec, reply: str) -> EditResult:
    cleaned, _ = clean(reply)
    if not has_words(cleaned):
        return EditResult(spec=previous)
    text = lx.fold(numberise(cleaned))

    if _is_new_prompt(cleaned, text):
        from pipeline.understanding.parser import parse_prompt

        return EditResult(spec=parse_prompt(reply).spec, changes=[{"new_prompt": True}], new_prompt=True,
                          makes_new_version=True)

    state = _Editor(previous)
    state.seed(text)
    state.tempo(text)
    state.key(text, cleaned)
    state.meter(text)
    state.duration(text)
    for clause in _joined(_clauses(text)):
        state.clause(clause)
    return state.result(cleaned)


def _is_new_prompt(cleaned: str, text: str) -> bool:
    from pipeline.understanding.parser import parse_prompt

    if _RELATIVE.search(text):
        return False
    parsed = parse_prompt(cleaned)
    if not parsed.is_music_request or not (parsed.spec.genres or _NEW_IDEA.search(text)):
        return False
    spec = parsed.spec
    said = len(spec.genres) + len(spec.moods) + sum(
        x is not None for x in (spec.tempo_bpm, spec.key, spec.duration_s, spec.time_signature))
    if _NEW_IDEA.search(text) and (said >= 1 or spec.instruments):
        return True
    return said >= 3 or bool(_NEW_REQUEST.search(text) and said >= 1)


def _key_shift(text: str) -> int:
    """Semitones a reply moves the key by: "a couple of semitones up" +2, "down a whole tone" -2, "up a fifth" +7."""
    if not re.search(r"\b(?:semi ?tones?|half ?steps?|half ?tones?|whole ?steps?|whole ?tones?|tones?|steps?|"
                     r"transpose|pitch|key|fifth|fourth|third|second|sixth|seventh|tritone)\b", text):
        return 0
    up, down = _KEY_UP.search(text), _KEY_DOWN.search(text)
    if not (up or down or re.search(r"\btranspose\b", text)):
        return 0
    m = _SHIFT.search(text)
    if m:
        count = int(m.group(1)) if m.group(1).isdigit() else _STEP_COUNT.get(m.group(1), 1)
        unit = m.group(2).replace(" ", "")
        size = 1 if unit.startswith(("semi", "half")) else 2 if unit.startswith(("whole", "tone", "step")) else 0
        semitones = count * size
    else:
        interval = _INTERVAL.search(text)
        semitones = _INTERVALS[interval.group(1)] if interval else 0
    if not 0 < semitones < 12:
        return 0
    return -semitones if down and not (up and up.start() < down.start()) else semitones


def _distance(stem: lx.Match, word: re.Match[str]) -> int:
    """Characters between a stem and a mix word (the nearest mix word is the one meant for it)."""
    return max(word.start() - stem.end, stem.start - word.end(), 0)


def _factor(words: str) -> float:
    words = re.sub(r"\s+times$", "", words.strip())
    return _FACTOR_WORDS.get(words, 2.0)


def _clauses(text: str) -> list[str]:
    """Split on 'and', commas, 'then', but never inside a known phrase ('drum and bass')."""
    protected = text
    for m in lx.find(text):
        protected = protected[:m.start] + m.text.replace(" and ", " \x01 ").replace("&", "\x02") + protected[m.end:]
    parts = _CLAUSE_SPLIT.split(protected)
    return [p.replace("\x01", "and").replace("\x02", "&").strip() for p in parts if p and p.strip()]


def _acts(clause: str) -> bool:
    """Whether a clause says what to do (a verb or a mix word), not only what to do it to."""
    return bool(_MIX_UP.search(clause) or _MIX_DOWN.search(clause) or _QUIETER.search(clause)
                or _LOUDER.search(clause) or _REMOVE.search(clause) or _ADD.search(clause) or _DB.search(clause)
                or _SWAP.search(clause) or _INSTEAD_OF.search(clause))


def _joined(clauses: list[str]) -> list[str]:
    """Clauses that only name stems join the neighbour that says what to do with them:
    "make the bass | drums quieter" -> one clause; "add some strings | a flute" -> one clause.
    A clause with a mix word but no stem ("make it less present") takes the stems of the clause before."""
    out: list[str] = []
    waiting: list[str] = []
    for clause in clauses:
        names = any(m.kind == lx.INSTRUMENT for m in lx.find(clause))
        if names and not _acts(clause):
            if out and _acts(out[-1]) and any(m.kind == lx.INSTRUMENT for m in lx.find(out[-1])) and not waiting:
                out[-1] = f"{out[-1]} and {clause}"
            else:
                waiting.append(clause)
            continue
        if waiting:
            clause = " and ".join(waiting + [clause])
            waiting = []
        elif out and not names and (_MIX_UP.search(clause) or _MIX_DOWN.search(clause)):
            stems = [m.text for m in lx.find(out[-1]) if m.kind == lx.INSTRUMENT]
            if stems and re.search(r"\b(?:it|them|that|those|this|these)\b", clause):
                clause = f"{clause} {' and '.join(stems)}"
        out.append(clause)
    return out + waiting


class _Editor:
    """Accumulates changes against the previous spec."""

    def __init__(self, previous: Spec) -> None:
        self.previous = previous
        self.resolved = previous if previous.is_resolved else resolve(previous)
        self.changes: list[dict[str, Any]] = []
        self.messages: list[str] = []
        self.updates: dict[str, Any] = {}
        self.instruments = [i.model_dump() for i in previous.instruments]
        self.exclude = [e.model_dump() for e in previous.exclude]
        self.moods = [m.model_dump() for m in previous.moods]
        self.mix = dict(previous.mix)
        self.energy = previous.energy.value if previous.energy else None
        self.tempo_done = self.duration_done = False

    # ----- whole-reply edits
    def seed(self, text: str) -> None:
        if _SEED.search(text):
            before = self.resolved.seed.value if self.resolved.seed else default_seed(self.previous.summary())
            new = int.from_bytes(hashlib.sha256(str(before + 1).encode()).digest()[:4], "big") % 2**31
            self.updates["seed"] = {"value": new, "source": "prompt", "confidence": 1.0}
            self.changes.append({"field": "seed", "to": new})

    def _set_tempo(self, value: float) -> None:
        value = round(value, 1)
        value = int(value) if float(value).is_integer() else value
        self.updates["tempo_bpm"] = {"value": float(value), "source": "prompt", "confidence": 1.0}
        self.changes.append({"field": "tempo_bpm", "to": value})
        self.tempo_done = True

    def tempo(self, text: str) -> None:
        before = float(self.resolved.tempo_bpm.value)
        if _HALF.search(text):
            return self._set_tempo(before / 2)
        if _DOUBLE.search(text):
            return self._set_tempo(before * 2)
        m = _TEMPO_FACTOR.search(text)
        if m:
            return self._set_tempo(before * _factor(m.group(1) or "2"))
        m = _TEMPO_PCT.search(text) or _TEMPO_PCT_BY.search(text)
        if m:
            sign = -1 if _DOWN.search(text) and not _UP.search(m.group(0)) else 1
            return self._set_tempo(round(before * (1 + sign * int(m.group(1)) / 100)))
        if _TEMPO_CONTEXT.search(text):
            delta = _DELTA_NUMBER.search(text)
            if delta and not re.search(r"\b(?:to|at|=|around)\s*$", text[:delta.start()]):
                amount = float(delta.group(1) or delta.group(2))
                down = bool(_DOWN.search(text)) and not (_UP.search(delta.group(0)) and not _DOWN.search(delta.group(0)))
                return self._set_tempo(before - amount if down else before + amount)
        found = extract_tempo(text)
        if found is not None and (re.search(r"\b(?:bpm|tempo|speed)\b", text) or re.search(r"\b(?:to|at)\s+\d", text)):
            return self._set_tempo(float(found.value))
        step = TEMPO_STEP * (2 if _BIG.search(text) else 1)
        if _FASTER.search(text):
            return self._set_tempo(round(before * (1 + step)))
        if _SLOWER.search(text):
            return self._set_tempo(round(before * (1 - step)))
        return None

    def key(self, text: str, cleaned: str) -> None:
        found = extract_key(numberise(cleaned))
        if found is not None:
            if found.value != (self.previous.key.value if self.previous.key else None):
                self.updates["key"] = {"value": found.value, "source": "prompt", "confidence": 1.0}
                self.changes.append({"field": "key", "to": found.value})
            return
        shift = _key_shift(text)
        if shift:
            current = Key.parse(self.resolved.key.value)
            key = str(Key.parse(f"{transpose_tonic(current.tonic, shift)} {current.mode}"))
            self.updates["key"] = {"value": key, "source": "prompt", "confidence": 1.0}
            self.changes.append({"field": "key", "to": key})
            return
        m = _RELATED_MODE.search(text)
        if m:
            key = related_key(self.resolved.key.value, m.group(1), m.group(2))
            if key != self.resolved.key.value:
                self.updates["key"] = {"value": key, "source": "prompt", "confidence": 1.0}
                self.changes.append({"field": "key", "to": key})
            return
        m = _MODE_ONLY.search(text)
        if m:
            tonic = Key.parse(self.resolved.key.value).tonic
            key = str(Key(tonic=tonic, mode=m.group(1)))
            if key != self.resolved.key.value:
                self.updates["key"] = {"value": key, "source": "prompt", "confidence": 1.0}
                self.changes.append({"field": "key", "to": key})

    def meter(self, text: str) -> None:
        found = extract_time_signature(text)
        if found is None:
            return
        if found.value is None:
            self.messages.append(found.note or "that time signature is not supported")
            return
        self.updates["time_signature"] = {"value": found.value, "source": "prompt", "confidence": 1.0}
        self.changes.append({"field": "time_signature", "to": found.value})

    def _set_duration(self, value: float) -> None:
        value = round(value)
        self.updates["duration_s"] = {"value": float(value), "source": "prompt", "confidence": 1.0}
        self.changes.append({"field": "duration_s", "to": value})
        self.duration_done = True

    def duration(self, text: str) -> None:
        before = float(self.resolved.duration_s.value)
        m = _DURATION_BY.search(text)
        if m:
            amount = float(m.group(1)) * (60 if m.group(2).startswith("m") else 1)
            return self._set_duration(before + amount if m.group(3) in ("longer", "more") else before - amount)
        m = _DURATION_BY_AFTER.search(text)
        if m:
            word, number, unit = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5),
                                                                                         m.group(6))
            amount = float(number) * (60 if unit.startswith("m") else 1)
            return self._set_duration(before + amount if word in ("longer", "add") else before - amount)
        m = _LENGTH_FACTOR.search(text)
        if m:
            said = m.group(0)
            factor = 0.5 if re.search(r"\bhalf\b|\bhalve\b", said) else (
                3.0 if "triple" in said else _factor(m.group(1)) if m.group(1) else 2.0)
            return self._set_duration(before * factor)
        found = extract_duration(text)
        if found is not None:
            return self._set_duration(float(found.value))
        step = DURATION_STEP * (2 if _BIG.search(text) else 1)
        if _LONGER.search(text):
            return self._set_duration(max(before * (1 + step), before + 15))
        if _SHORTER.search(text):
            return self._set_duration(max(5.0, min(before * (1 - step), before - 15)))
        return None

    # ----- per-clause edits: instruments, mix, moods, genres
    def clause(self, clause: str) -> None:
        matches = lx.find(clause)
        instruments = [m for m in matches if m.kind == lx.INSTRUMENT] + self._the_lead(matches)
        unsupported = [m for m in matches if m.kind == lx.UNSUPPORTED]
        moods = [m for m in matches if m.kind == lx.MOOD]
        genres = [m for m in matches if m.kind == lx.GENRE]
        if instruments:
            self._instrument_clause(clause, instruments)
        for m in unsupported:
            if not _REMOVE.search(clause):
                self.messages.append(f"there's no {m.text} voice yet, so I can't add it")
        for m in moods:
            before = clause[:m.start]
            for slug in m.slugs:
                if _LESS_MOOD.search(before):
                    self._change_list("moods", "remove", slug)
                else:
                    self._change_list("moods", "add", slug)
                    if slug in ("energetic", "aggressive", "epic"):
                        self._energy(+ENERGY_STEP)
                    elif slug in ("calm", "chill", "sad", "dreamy", "melancholic"):
                        self._energy(-ENERGY_STEP)
        if genres and not _LESS_MOOD.search(clause[:genres[0].start]):
            slugs = list(dict.fromkeys(s for m in genres for s in m.slugs if s in GENRES))
            if slugs and slugs != [g.value for g in self.previous.genres]:
                self.updates["genres"] = [{"value": s, "source": "prompt", "confidence": 1.0} for s in slugs]
                self.changes = [c for c in self.changes if c.get("field") != "genres"]
                self.changes.append({"field": "genres", "to": slugs})

    def _the_lead(self, matches: list[lx.Match]) -> list[lx.Match]:
        """"the lead" in a reply is the synth lead when one plays (elsewhere "lead" names no slug)."""
        playing = {i["value"] for i in self.instruments} | {i.value for i in self.resolved.instruments}
        if "synth-lead" not in playing:
            return []
        return [lx.Match(m.start, m.end, m.text, lx.INSTRUMENT, ("synth-lead",)) for m in matches
                if m.kind == lx.NOSLUG and m.text == "lead"]

    def _energy(self, delta: float) -> None:
        base = self.energy if self.energy is not None else float(self.resolved.energy.value)
        self.energy = round(min(1.0, max(0.05, base + delta)), 2)

    def _slug_for(self, m: lx.Match, slug: str, removing: bool) -> list[str]:
        """Resolve a bare 'bass'/'guitar' against what the previous spec plays."""
        have = [i["value"] for i in self.instruments]
        if slug in (lx.GUITAR, lx.BASS):
            family = lx.EXCLUDE_FAMILIES[slug]
            present = [s for s in family if s in have]
            if present:
                return present if removing else present[:1]
            if removing and slug == lx.GUITAR:
                return list(family)
            genres = {g.value for g in self.resolved.genres}
            if slug == lx.BASS:
                return ["synth-bass" if genres & lx.ELECTRONIC_GENRES else "bass"]
            return ["acoustic-guitar" if genres & lx.ACOUSTIC_GUITAR_GENRES else "electric-guitar"]
        return [slug]

    def _instrument_clause(self, clause: str, instruments: list[lx.Match]) -> None:
        swap = _SWAP.search(clause)
        instead = _INSTEAD_OF.search(clause)
        if (swap or instead) and len(instruments) >= 2:
            if instead:
                old = [m for m in instruments if m.start > instead.start()]
                new = [m for m in instruments if m.start < instead.start()]
            else:
                old, new = instruments[:1], instruments[1:]
            for m in old:
                for s in m.slugs:
                    for slug in self._slug_for(m, s, removing=True):
                        self._change_list("instruments", "remove", slug)
            for m in new:
                for s in m.slugs:
                    for slug in self._slug_for(m, s, removing=False):
                        self._change_list("instruments", "add", slug)
            return
        db = _DB.search(clause)
        mix_down, mix_up = _MIX_DOWN.search(clause), _MIX_UP.search(clause)
        quieter, louder = _QUIETER.search(clause), _LOUDER.search(clause)
        remove, add = _REMOVE.search(clause), _ADD.search(clause)
        back = re.search(r"\bback\b", clause)
        have = {i["value"] for i in self.instruments}
        playing = have | {i.value for i in self.resolved.instruments}
        for m in instruments:
            for s in m.slugs:
                slugs = self._slug_for(m, s, removing=bool(remove and not back and not db and not quieter))
                if db:
                    amount = float(db.group(1))
                    self._mix_all(slugs, -abs(amount) if quieter and not louder else amount)
                elif (mix_down or mix_up) and set(slugs) <= playing:
                    word = min((w for w in (mix_down, mix_up) if w), key=lambda w: _distance(m, w))
                    self._mix_all(slugs, QUIETER_DB if word is mix_down else LOUDER_DB)
                elif quieter:
                    self._mix_all(slugs, QUIETER_DB)
                elif remove and not back:
                    for slug in slugs:
                        self._change_list("instruments", "remove", slug)
                elif add or back:
                    if re.search(r"\bmore\b", clause) and set(slugs) <= have:
                        self._mix_all(slugs, LOUDER_DB)  # "add more bass" to a track that has bass
                    else:
                        for slug in slugs:
                            self._change_list("instruments", "add", slug)
                elif louder:
                    self._mix_all(slugs, LOUDER_DB)
                else:
                    for slug in slugs:
                        self._change_list("instruments", "add", slug)

    def _mix_all(self, stems: list[str], db: float) -> None:
        stems = [s for s in stems if s not in UNRENDERABLE_INSTRUMENTS]
        for stem in stems:
            self._mix(stem, db)

    def _mix(self, stem: str, db: float) -> None:
        """One mix change per stem in a reply: "the bass is too much, make it less present" is one cut."""
        if any(c.get("field") == "mix" and c.get("stem") == stem for c in self.changes):
            return
        self.mix[stem] = round(self.mix.get(stem, 0.0) + db, 2)
        self.changes.append({"field": "mix", "stem": stem, "db": db})

    def _change_list(self, field_name: str, verb: str, slug: str) -> None:
        change = {"field": field_name, verb: slug}
        if change in self.changes:
            return
        self.changes.append(change)
        if field_name == "instruments" and slug in UNRENDERABLE_INSTRUMENTS and verb == "add":
            self.messages.append(f"ampa makes instrumentals, so I can't add {slug}")
            return
        item = {"value": slug, "source": "prompt", "confidence": 1.0}
        if field_name == "moods":
            self.moods = [m for m in self.moods if m["value"] != slug] + ([item] if verb == "add" else [])
        elif verb == "add":
            self.exclude = [e for e in self.exclude if e["value"] != slug]
            if slug not in {i["value"] for i in self.instruments}:
                self.instruments.append(item)
        else:
            self.instruments = [i for i in self.instruments if i["value"] != slug]
            if slug not in {e["value"] for e in self.exclude}:
                self.exclude.append(item)

    def result(self, cleaned: str) -> EditResult:
        applicable = [c for c in self.changes if not (c.get("field") == "instruments" and
                                                     c.get("add") in UNRENDERABLE_INSTRUMENTS)]
        if not self.changes:
            from pipeline.understanding.intent import is_question, sentences

            if not self.messages and any(is_question(s) for s in sentences(cleaned)):
                self.messages.append(f"This version is {self.resolved.summary()}. Reply with a change to make a new "
                                     'version, e.g. "faster", "drums quieter" or "in G minor".')
            elif _EDIT_VERBS.search(lx.fold(cleaned)) and not self.messages:
                self.messages.append("I didn't find anything to change in that. Try e.g. \"faster\", "
                                     "\"add strings\", \"drums quieter\" or \"in G minor\".")
            return EditResult(spec=self.previous, messages=self.messages)
        data = dict(self.updates)
        data.update(instruments=self.instruments, exclude=self.exclude, moods=self.moods, mix=self.mix)
        if self.energy is not None and (self.previous.energy is None or self.energy != self.previous.energy.value):
            data["energy"] = Sourced[float](value=self.energy, source="prompt", confidence=0.8).model_dump()
        spec = self.previous.with_updates(**data) if applicable else self.previous
        return EditResult(spec=spec, changes=self.changes, messages=self.messages,
                          makes_new_version=bool(applicable))
