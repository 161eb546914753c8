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
_TEMPO_BY = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:bpm|beats per minute)?\s*(faster|quicker|slower|up|down|higher|lower|more|less)\b|"
                       r"\b(speed (?:it )?up|slow (?:it )?down|faster|slower)\s+by\s+(\d+(?:\.\d+)?)\s*(bpm|%|percent)?")
_TEMPO_PCT = re.compile(r"\b(\d+)\s*(?:%|percent)\s*(faster|quicker|slower)\b")
_FASTER = re.compile(r"\b(?:faster|quicker|speed (?:it )?up|up the tempo|more tempo|pick up the (?:pace|tempo)|"
                     r"higher tempo|increase the tempo|too slow)\b")
_SLOWER = re.compile(r"\b(?:slower|slow (?:it )?down|lower the tempo|lower tempo|decrease the tempo|reduce the tempo|"
                     r"too fast|less fast)\b")
_BIG = re.compile(r"\b(?:a lot|much|way|lots|heaps)\b")
_LITTLE = re.compile(r"\b(?:a (?:little )?bit|bit|slightly|a little|a touch|tad)\b")
_LONGER = re.compile(r"\b(?:longer|extend(?:ed)?|lengthen|stretch it|too short|more time)\b")
_SHORTER = re.compile(r"\b(?:shorter|shorten|cut it down|trim(?: it)?|too long|less long)\b")
_DURATION_BY = re.compile(r"\b(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?)\s*(longer|shorter|more|less)\b")
_MODE_ONLY = re.compile(r"\b(?:make it|switch to|change to|go|in|to|into|more)\s+(major|minor)\b")
_DB = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*db\b")
_QUIETER = re.compile(r"\b(?:quieter|softer|lower|down|turn down|less loud|back off|tone down|bring down|reduce|duck|"
                      r"too loud|less|quiet|quietly|subtler|subtle|lower the|lowered|lighter)\b")
_LOUDER = re.compile(r"\b(?:louder|up|turn up|boost|bring up|crank|pump up|push|more|raise|too quiet|can't hear|"
                     r"cant hear|stronger|punchier|harder|fatter|bigger|loud|forward|upfront|front)\b")
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
    for clause in _clauses(text):
        state.clause(clause)
    return state.result(cleaned)


def _is_new_prompt(cleaned: str, text: str) -> bool:
    from pipeline.understanding.parser import parse_prompt

    if _RELATIVE.search(text):
        return False
    parsed = parse_prompt(cleaned)
    if not parsed.is_music_request or not parsed.spec.genres:
        return False
    spec = parsed.spec
    said = len(spec.genres) + len(spec.moods) + sum(
        x is not None for x in (spec.tempo_bpm, spec.key, spec.duration_s, spec.time_signature))
    return said >= 3 or bool(_NEW_REQUEST.search(text) and said >= 1)


def _clauses(text: str) -> list[str]:
    """Split on 'and', commas, 'then', but never inside a known phrase ('drum and bass')."""
    protected = text
    for m in lx.find(text):
        protected = protected[:m.start] + m.text.replace(" and ", " \x01 ").replace("&", "\x02") + protected[m.end:]
    parts = _CLAUSE_SPLIT.split(protected)
    return [p.replace("\x01", "and").replace("\x02", "&").strip() for p in parts if p and p.strip()]


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
        m = _TEMPO_PCT.search(text)
        if m:
            sign = -1 if m.group(2) == "slower" else 1
            return self._set_tempo(round(before * (1 + sign * int(m.group(1)) / 100)))
        m = _TEMPO_BY.search(text)
        if m:
            if m.group(1):
                amount, word, percent = float(m.group(1)), m.group(2), False
            else:
                amount, word, percent = float(m.group(4)), m.group(3), m.group(5) in ("%", "percent")
            down = word in ("slower", "down", "lower", "less") or word.startswith("slow")
            delta = before * amount / 100 if percent else amount
            # "20 more"/"10 up" only count as tempo when the reply talks about tempo
            if m.group(1) and word in ("up", "down", "more", "less", "higher", "lower") and not re.search(
                    r"\b(?:bpm|tempo|speed)\b", text):
                pass
            else:
                return self._set_tempo(before - delta if down else before + delta)
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
        instruments = [m for m in matches if m.kind == lx.INSTRUMENT]
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
        quieter, louder = _QUIETER.search(clause), _LOUDER.search(clause)
        remove, add = _REMOVE.search(clause), _ADD.search(clause)
        back = re.search(r"\bback\b", clause)
        have = {i["value"] for i in self.instruments}
        for m in instruments:
            for s in m.slugs:
                slugs = self._slug_for(m, s, removing=bool(remove and not back and not db and not quieter))
                if db:
                    amount = float(db.group(1))
                    self._mix_all(slugs, -abs(amount) if quieter and not louder else amount)
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
        for stem in stems:
            self._mix(stem, db)

    def _mix(self, stem: str, db: float) -> None:
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
            if _EDIT_VERBS.search(lx.fold(cleaned)) and not self.messages:
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
