"""parse_prompt: explicit values (extractors) + lexicon + span tagger + embedding normaliser -> Spec.

Order of authority: the extractors for numbers and keys; the lexicon for phrases it knows
(the vocabulary's own rules, including context like a bare "guitar" in a folk song); the
fine-tuned tagger for phrasing the lexicon has never seen, each span mapped onto the vocabulary
by sentence-embedding similarity. Everything the prompt did not say stays unset: the result is
an UNRESOLVED spec (`pipeline.defaults.resolve` fills the rest).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.spec import Spec
from pipeline.understanding import intent, plain_words
from pipeline.understanding import lexicon as lx
from pipeline.understanding.backend_words import backend_from_words
from pipeline.understanding.cleaning import clean, has_words, mostly_unreadable
from pipeline.understanding.extractors import (
    extract_duration,
    extract_key,
    extract_tempo,
    extract_time_signature,
    numberise,
)

log = logging.getLogger(__name__)

LEXICON_CONFIDENCE = 0.95
TAGGER_MIN_SCORE = 0.6  # mean token probability of a tagged span
TAGGER_MIN_SIMILARITY = 0.75  # cosine to the nearest vocabulary phrase
UNTAGGED_FUZZY_CUTOFF = 0.88  # difflib ratio for a word the tagger did not tag
_TAGGER_FIELDS = {"GENRE": "genres", "MOOD": "moods", "INST": "instruments", "EXCL": "exclude", "ENERGY": "moods"}
_META_WORDS = frozenset({"genre", "genres", "mood", "moods", "vibe", "vibes", "bpm", "key", "length", "duration",
                         "tempo", "music", "track", "song", "sound", "sounds", "feel", "style", "type", "thing",
                         "piece", "beat", "tune", "instrument", "instruments", "solo", "solos", "noise", "double"})
CONTEXT_CONFIDENCE = 0.8
_ELECTRONIC_WORDS = re.compile(r"\b(?:electronic|edm|electronica|electro)\b")  # a bare "bass" there is a synth
LONG_PROMPT_WORDS = 24  # longer prompts are tagged sentence by sentence, skipping the plain ones
_SENTENCE = re.compile(r"[^.!?;,\n]+[.!?;,]*")  # clauses: the unit the long-prompt gate tags
NOT_MUSIC_NOTE = "ignored: a request that is not about music"
VOCALS_NOTE = "no vocals: ampa makes instrumentals"

_NEGATOR = re.compile(
    r"\b(?:no|without|w/o|w/out|wo|minus|sans|zero|exclude|excluding|except|leave out|lose|skip|not|avoid|nix|"
    r"don't want|dont want|don't use|dont use|don't need|dont need|do not want|do not use|do not need|"
    r"don't add|dont add|do not add|don't include|dont include|do not include|never|nothing with|no need for|"
    r"don't put|dont put|do not put|don't have|dont have|do not have|don't give|dont give|"
    r"stay away from|keep away from|hold the|not a fan of|no room for|get rid of|forget the|free of)\b"
    r"(?!\s+(?:but|just|only|more than|less than|too|so|overly|very|that)\b)"
)
# "not too dark", "not so sad": the mood (or genre) is not wanted; an instrument stays ("not too much piano").
_SOFT_NEGATOR = re.compile(r"\bnot (?:too|so|overly|very|that|super)\b")
# Verbs and conjunctions that end a negation's reach before it meets a thing ("no rush, with piano").
_SCOPE_STOP = frozenset({"but", "and", "or", "with", "just", "only", "except", "instead", "then", "plus", "more",
                         "less", "than", "in", "on", "at", "for", "is", "are", "was", "add", "use", "want",
                         "keep", "make", "give", "need", "like", "love", "lots", "rather", "yes"})
_LESS_SUFFIX = re.compile(r"\b(drum|beat|percussion|vocal|bass|guitar|piano|synth)(?:less| free)\b")
# Words that may sit between a negator and the thing negated ("no heavy drums", "I don't want it to be sad");
# up to two other words may too ("no clean vocals"), unless one of them ends the negation's reach.
_FILLER_WORDS = frozenset({"the", "any", "a", "an", "real", "live", "more", "heavy", "loud", "big", "other", "acoustic",
                           "electric", "distorted", "fake", "annoying", "cheesy", "obvious", "kind", "sort", "of",
                           "extra", "added", "it", "to", "be", "sound", "anything", "too", "overly", "very", "so",
                           "that", "some", "much", "clean", "sounding", "type", "style", "sounds", "my", "your"})
_GENERIC_FILLER = 2
# A negation written after the thing: "drums (no)", "vocals: none", "guitar = off"
_POSTFIX_NEGATION = re.compile(
    r"\s*(?:\(\s*(?:no|none|nope|off|without|x|✗|✘|❌|🚫)\s*\)|[:=]\s*(?:no|none|off|false|0)\b|-\s*(?:no|none)\b)")
_CHAIN = re.compile(r"\s*(?:,\s*)?(?:(?:and|or|nor|&|\+|/)\s*)?(?:(?:no|any|the|not|also)\s+)?")
_LIST_NEGATORS = ("without", "w/o", "w/out", "minus", "sans", "exclude", "excluding", "skip", "avoid", "leave out",
                  "don't want", "dont want", "do not want", "no need for", "stay away from", "get rid of")
_PART_WORDS = frozenset({"keys", "keyboard", "keyboards", "synths", "synth", "melody", "chords", "stabs", "loop",
                         "sample", "lead", "licks", "solo", "solos", "line", "riffs"})
_ENERGY_WORDS: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(pattern), level) for pattern, level in (
        (r"\bnot (?:too|very|that|so) (?:fast|quick|busy|intense)\b", 0.4),
        (r"\bnot (?:too|very|that|so) slow\b", 0.6),
        (r"\b(?:very|super|really) (?:fast|high energy)\b|\bbanger\b|\bhigh octane\b", 0.9),
        (r"\b(?:fast|uptempo|up tempo|upbeat|high energy|driving|quick)\b", 0.75),
        (r"\b(?:very|super|really) slow\b", 0.15),
        (r"\b(?:slow|downtempo|down tempo|gentle|slowly|sleepy|relaxed)\b", 0.3),
        (r"\b(?:mid tempo|midtempo|medium tempo|moderate)\b", 0.5),
    )
)
_NOT_MUSIC = re.compile(
    r"\b(?:weather|forecast|cover letter|resume|cv|joke|jokes|recipe|email|e-mail|essay|homework|translate|"
    r"stock|stocks|news|capital of|who won|math|code|python|javascript|poem|story)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Understood:
    """One thing the parser took from the prompt (for --verbose and the tests)."""

    field: str  # genres | moods | instruments | exclude
    value: str
    text: str
    confidence: float
    by: str  # lexicon | context | tagger


@dataclass(frozen=True)
class ParseResult:
    spec: Spec
    is_music_request: bool
    ignored: list[str] = field(default_factory=list)
    understood: list[Understood] = field(default_factory=list)
    reply: str = ""  # for a message that is not a request: a helpful answer to show instead of making a track


def parse_prompt(text: str) -> ParseResult:
    """Understand a prompt; never raises on bad input (bad input gives notes and an empty spec)."""
    try:
        return _parse(text)
    except Exception:  # the pipeline must never die on a prompt; say so and fall back to nothing
        log.exception("parse_prompt failed on %r", (text or "")[:200])
        note = "ignored: a prompt I could not read; using defaults"
        return ParseResult(spec=Spec(notes=[note]), is_music_request=False, ignored=[note],
                           reply=intent.reply_for(""))


# --------------------------------------------------------------------------------------------
def _parse(text: str) -> ParseResult:
    cleaned, notes = clean(text)
    if not has_words(cleaned):
        what = "an empty prompt" if not (text or "").strip() else "a prompt with no words in it"
        notes.append(f"ignored: {what}; using defaults")
        return _not_a_request(notes, cleaned)
    if mostly_unreadable(cleaned):
        notes.append("ignored: text that is not in English (ampa reads English prompts); using defaults")
        return _not_a_request(notes, cleaned)
    asked = cleaned
    cleaned = intent.request_part(cleaned)  # questions are answered, not read as requests
    if not cleaned:
        notes.append("ignored: a question, not a request for a track")
        return _not_a_request(notes, asked)

    numbered = numberise(cleaned)
    tempo, key, duration, meter = (extract_tempo(numbered), extract_key(numbered), extract_duration(numbered),
                                   extract_time_signature(numbered))
    folded = lx.fold(cleaned)
    tagged = _from_tagger(cleaned, folded)
    found = _from_lexicon(folded, notes, {u.value for u in tagged if u.field == "genres"}) + tagged

    fields: dict[str, dict[str, Understood]] = {"genres": {}, "moods": {}, "instruments": {}, "exclude": {}}
    for item in found:
        current = fields[item.field].get(item.value)
        if current is None or item.confidence > current.confidence:
            fields[item.field][item.value] = item
    if "lofi-hiphop" in fields["genres"]:
        fields["genres"].pop("hip-hop", None)  # the most specific genre, not its parent too
    for slug in fields["exclude"]:
        fields["instruments"].pop(slug, None)  # an exclusion never becomes an inclusion

    explicit = [x for x in (tempo, key, duration) if x is not None] + ([meter] if meter and meter.value else [])
    is_music = bool(explicit or any(fields.values()) or _has_music_noun(folded))
    if _NOT_MUSIC.search(cleaned) and not (explicit or fields["genres"] or fields["moods"]):
        is_music = False
    if not is_music:
        notes.append(NOT_MUSIC_NOTE)
        return _not_a_request(notes, asked)

    if meter is not None and meter.note:
        notes.append(meter.note)
    if "vocals" in fields["instruments"]:
        notes.append(VOCALS_NOTE)

    def sourced(items: dict[str, Understood]) -> list[dict]:
        return [{"value": u.value, "source": "prompt", "confidence": round(u.confidence, 3)} for u in items.values()]

    data: dict = {name: sourced(items) for name, items in fields.items()}
    if tempo is not None:
        data["tempo_bpm"] = {"value": float(tempo.value), "source": "prompt", "confidence": 1.0}
    if key is not None:
        data["key"] = {"value": key.value, "source": "prompt", "confidence": 1.0}
    if duration is not None:
        data["duration_s"] = {"value": float(duration.value), "source": "prompt", "confidence": 1.0}
    if meter is not None and meter.value:
        data["time_signature"] = {"value": meter.value, "source": "prompt", "confidence": 1.0}
    energy = _energy(folded)
    if energy is not None:
        data["energy"] = {"value": energy, "source": "prompt", "confidence": 0.6}
    data["notes"] = list(dict.fromkeys(notes))
    if (backend := backend_from_words(cleaned)) is not None:  # "made with stable audio"
        data["backend"] = backend
    understood = [u for items in fields.values() for u in items.values()]
    ignored = [n for n in data["notes"] if n.startswith("ignored")]
    return ParseResult(spec=Spec.model_validate(data), is_music_request=True, ignored=ignored, understood=understood)


def _not_a_request(notes: list[str], text: str) -> ParseResult:
    return ParseResult(spec=Spec(notes=notes), is_music_request=False, ignored=notes, reply=intent.reply_for(text))


def _energy(folded: str) -> float | None:
    """Tempo/energy words ("slow", "upbeat", "not too fast") as an energy level; None if none."""
    for pattern, level in _ENERGY_WORDS:
        if pattern.search(folded):
            return level
    return None


def _has_music_noun(folded: str) -> bool:
    return any(word in lx.MUSIC_NOUNS for word in re.findall(r"[a-z]+", folded))


# -------------------------------------------------------------------------------- lexicon pass
def _from_lexicon(folded: str, notes: list[str], tagged_genres: set[str]) -> list[Understood]:
    matches = lx.find(folded)
    negated = _negated(folded, matches)
    genres = tagged_genres | {s for m in matches if m.kind == lx.GENRE and id(m) not in negated and not _is_part_adjective(folded, m, matches)
              for s in m.slugs}
    out: list[Understood] = []
    for m in matches:
        is_negated = id(m) in negated
        if m.kind == lx.GENRE:
            if is_negated or _is_part_adjective(folded, m, matches):
                continue
            confidence = LEXICON_CONFIDENCE if m.text not in lx.GENRE_ADJECTIVES else 0.85
            out += [Understood("genres", s, m.text, confidence, "lexicon") for s in m.slugs]
        elif m.kind == lx.MOOD:
            if not is_negated:
                out += [Understood("moods", s, m.text, LEXICON_CONFIDENCE, "lexicon") for s in m.slugs]
        elif m.kind == lx.INSTRUMENT:
            if is_negated:
                slugs = _exclusion_slugs(m)
                out += [Understood("exclude", s, m.text, LEXICON_CONFIDENCE, "lexicon") for s in slugs]
            else:
                for slug in m.slugs:
                    resolved, conf = _resolve_context(slug, folded, m, genres)
                    out.append(Understood("instruments", resolved, m.text, conf, "lexicon"))
        elif m.kind == lx.NOSLUG and is_negated and m.text in lx.EXCLUDE_FAMILIES:
            out += [Understood("exclude", s, m.text, LEXICON_CONFIDENCE, "lexicon") for s in lx.EXCLUDE_FAMILIES[m.text]]
        elif m.kind == lx.UNSUPPORTED and not is_negated:
            notes.append(f"{m.text}: no {m.text} voice yet")
    for m in _LESS_SUFFIX.finditer(folded):
        word = m.group(1)
        slugs = lx.EXCLUDE_FAMILIES.get({"guitar": lx.GUITAR, "bass": lx.BASS}.get(word, word))
        if slugs is None:
            entry = lx.entries().get(word + "s") or lx.entries().get(word)
            slugs = entry.slugs if entry else ()
        out += [Understood("exclude", s, m.group(0), LEXICON_CONFIDENCE, "lexicon") for s in slugs]
    return out


def _exclusion_slugs(m: lx.Match) -> tuple[str, ...]:
    slugs: list[str] = []
    for slug in m.slugs:
        slugs += lx.EXCLUDE_FAMILIES.get(slug, (slug,))
    return tuple(slugs)


def _negated(folded: str, matches: list[lx.Match]) -> set[int]:
    """ids of matches a negation governs: "no drums", "without piano or strings", "no vocals, guitars or drums",
    "drums (no)", "I don't want it to be sad"; "not too dark" negates moods and genres only."""
    negated: set[int] = {id(m) for m in matches if _POSTFIX_NEGATION.match(folded, m.end)}
    for neg in _NEGATOR.finditer(folded):
        following = [m for m in matches if m.start >= neg.end()]
        if not following or not _within_reach(folded[neg.end():following[0].start]):
            continue
        negated.update(id(m) for m in _negated_list(folded, following, neg.group(0) in _LIST_NEGATORS))
        # one phrase can name two things ("string quartet": classical and strings): negate both readings
        negated.update(id(m) for m in following if m.start == following[0].start)
    for neg in _SOFT_NEGATOR.finditer(folded):
        following = [m for m in matches if m.start >= neg.end()]
        if following and following[0].kind in (lx.MOOD, lx.GENRE) and _within_reach(
                folded[neg.end():following[0].start]):
            negated.add(id(following[0]))
    return negated


def _within_reach(gap: str) -> bool:
    """True when the words between a negator and a thing still let the negator reach it."""
    if not re.fullmatch(r"[\sa-z']*", gap):
        return False  # punctuation or a number in between: a new thought
    words = gap.split()
    other = [w for w in words if w not in _FILLER_WORDS]
    return len(other) <= _GENERIC_FILLER and not any(w in _SCOPE_STOP for w in other)


def _negated_list(folded: str, following: list[lx.Match], comma_continues: bool) -> list[lx.Match]:
    """The first thing after a negator and the list that continues it: "no drums or bass", "no drums, no bass";
    after a comma only when the list is a negated one ("no vocals, guitars or drums", "without X, Y and Z")."""
    chain = [following[0]]
    commas = False
    for m in following[1:]:
        gap = folded[chain[-1].end:m.start]
        if not gap.strip() or not _CHAIN.fullmatch(gap) or m.kind not in (lx.INSTRUMENT, lx.UNSUPPORTED) or chain[-1].kind not in (
                lx.INSTRUMENT, lx.UNSUPPORTED, lx.NOSLUG):
            break
        commas = commas or gap.strip() == ","
        chain.append(m)
    if not commas:
        return chain
    # "no vocals, piano chords": a comma list stays negated only when it ends like a list, in "or"/"nor"
    # ("no vocals, guitars or drums") or, after "without"/"avoid"…, also in "and" ("without X, Y and Z").
    joiner = r"\b(?:or|nor|and)\b|&" if comma_continues else r"\b(?:or|nor)\b"
    if any(re.search(joiner, folded[a.end:b.start]) for a, b in zip(chain, chain[1:])):
        return chain
    kept = [chain[0]]
    for a, b in zip(chain, chain[1:]):
        if folded[a.end:b.start].strip() == ",":
            break
        kept.append(b)
    return kept


def _is_part_adjective(folded: str, m: lx.Match, matches: list[lx.Match]) -> bool:
    """'jazzy keys', 'funky bass': a genre adjective describing one part, not the track."""
    if m.text not in lx.GENRE_ADJECTIVES:
        return False
    after = [x for x in matches if x.start >= m.end]
    if after and re.fullmatch(r"\s*(?:\w+\s+)?", folded[m.end:after[0].start]):
        nxt = after[0]
        if nxt.kind in (lx.INSTRUMENT, lx.UNSUPPORTED) or nxt.text in _PART_WORDS:
            return True
    word_after = re.match(r"\s*(\w+)", folded[m.end:])
    return bool(word_after and word_after.group(1) in _PART_WORDS)


def _resolve_context(slug: str, folded: str, m: lx.Match, genres: set[str]) -> tuple[str, float]:
    """A bare 'guitar' or 'bass' becomes a slug from nearby cue words or the genre."""
    if slug not in (lx.GUITAR, lx.BASS):
        return slug, LEXICON_CONFIDENCE
    before = set(re.findall(r"[a-z0-9]+", folded[max(0, m.start - 30):m.start])[-3:])
    if slug == lx.GUITAR:
        if before & lx.ELECTRIC_GUITAR_CUES:
            return "electric-guitar", LEXICON_CONFIDENCE
        if before & lx.ACOUSTIC_GUITAR_CUES:
            return "acoustic-guitar", LEXICON_CONFIDENCE
        if genres & lx.ACOUSTIC_GUITAR_GENRES and not genres & lx.ELECTRIC_GUITAR_GENRES:
            return "acoustic-guitar", CONTEXT_CONFIDENCE
        return "electric-guitar", CONTEXT_CONFIDENCE
    if before & lx.SYNTH_BASS_CUES or genres & lx.ELECTRONIC_GENRES or _ELECTRONIC_WORDS.search(folded):
        return "synth-bass", CONTEXT_CONFIDENCE
    return "bass", CONTEXT_CONFIDENCE


# -------------------------------------------------------------------------------- tagger pass
def _from_tagger(cleaned: str, folded: str) -> list[Understood]:
    """Spans the model tags where the lexicon found nothing, normalised onto the vocabulary.

    The tagger only adds: a span is kept when the lexicon has no opinion on its characters, it
    is not a number or a field name ("genre=", "bpm"), the tagger is fairly sure of it and it is
    either a misspelling of a known form (of its own field first, then of any field: the model
    is better at "this is a music word" than at which kind) or close to a vocabulary phrase by
    embedding similarity. Words nobody tagged still get a strict spelling check.
    """
    from pipeline.understanding.loader import load_parser

    parser = load_parser()
    if parser.normaliser is None:
        return []
    normaliser = parser.normaliser
    known = [(m.start, m.end) for m in lx.find(folded)] + [m.span() for m in _LESS_SUFFIX.finditer(folded)]
    out: list[Understood] = []
    covered: list[tuple[int, int]] = []
    wanted: dict[str, list[Any]] = {}
    for span in _tagged(parser, cleaned, known):
        words = span.text.strip(" -'\"").lower()
        if (span.label not in _TAGGER_FIELDS or span.score < TAGGER_MIN_SCORE or len(words) < 3
                or re.search(r"\d", words) or words in _META_WORDS
                or (span.start > 0 and (cleaned[span.start - 1].isalnum() or cleaned[span.start - 1] == "-"))
                or any(s < span.end and span.start < e for s, e in known)
                or (parser.plain_words and all(w in parser.plain_words or w in _META_WORDS
                                               for w in re.findall(r"[a-z]+", words)))):
            continue  # a span of plain words maps to nothing: no spelling check, no embedding
        field_name = _TAGGER_FIELDS[span.label]
        spelled = _spelled(normaliser, words, field_name)
        if spelled is not None:
            field_name, slug, ratio = spelled
            out.append(Understood(field_name, slug, span.text, round(min(span.score, ratio), 3), "tagger"))
            covered.append((span.start, span.end))
        elif span.label != "ENERGY":
            wanted.setdefault(field_name, []).append((span, words))
    normaliser.embed([w for spans in wanted.values() for _, w in spans])  # one encoder call for every field
    for field_name, spans in wanted.items():
        vocabulary_field = "instruments" if field_name == "exclude" else field_name
        for (span, _), match in zip(spans, normaliser.nearest_many([w for _, w in spans], vocabulary_field)):
            if match is not None and match[1] >= TAGGER_MIN_SIMILARITY:
                slug, similarity = match
                out.append(Understood(field_name, slug, span.text, round(min(span.score, similarity), 3), "tagger"))
                covered.append((span.start, span.end))
    # typos nobody tagged: a strict spelling check on the remaining unknown words
    # (on the unfolded text, so "six-string" stays one word)
    for m in re.finditer(r"(?<![\w'-])[a-z]{5,}(?![\w'-])", cleaned.lower()):
        if (any(s < m.end() and m.start() < e for s, e in known + covered) or m.group(0) in _META_WORDS
                or m.group(0) in parser.plain_words):
            continue  # read already, a field name, or a real word that is no misspelling of a vocabulary form
        for field_name in ("genres", "moods", "instruments"):
            found = normaliser.spelled_like(m.group(0), field_name, cutoff=UNTAGGED_FUZZY_CUTOFF)
            if found is not None:
                out.append(Understood(field_name, found[0], m.group(0), round(found[1] * 0.8, 3), "spelling"))
                break
    return out


def _tagged(parser: Any, cleaned: str, known: list[tuple[int, int]]) -> list[Any]:
    """The tagger's spans. A long prompt is tagged sentence by sentence, and only the sentences with a word
    that is neither plain nor read by the lexicon (plain_words.py): most of a 60-word description is not."""
    if parser.tagger is None:
        return []
    if len(cleaned.split()) <= LONG_PROMPT_WORDS or not parser.plain_words:
        return parser.tagger.tag(cleaned)
    chosen = [m for m in _SENTENCE.finditer(cleaned)
              if plain_words.needs_tagger(m.group(0), known, m.start(), parser.plain_words, _META_WORDS)]
    if not chosen:
        return []
    # The chosen sentences are tagged as one text (no padding between them); offsets map back piece by piece.
    # Not a few words around each needy word instead: measured, that cost accuracy on MusicCaps dev (the
    # tagger reads context), and one pass's fixed cost (reading the weights) is most of it anyway.
    pieces, joined = [], ""
    for m in chosen:
        pieces.append((len(joined), m.start(), len(m.group(0))))
        joined += m.group(0) + " "
    spans = []
    for span in parser.tagger.tag(joined):
        at, start, length = next(p for p in reversed(pieces) if p[0] <= span.start)
        end = min(span.end - at, length)
        if end > span.start - at:
            spans.append(replace(span, start=span.start - at + start, end=end + start))
    return spans


def _spelled(normaliser: Any, words: str, field_name: str) -> tuple[str, str, float] | None:
    """(field, slug, ratio) of a misspelt known form, own field first; exclusions stay exclusions."""
    if field_name == "exclude":
        found = normaliser.spelled_like(words, "instruments")
        return ("exclude", *found) if found else None
    for candidate in dict.fromkeys((field_name, "genres", "moods", "instruments")):
        found = normaliser.spelled_like(words, candidate)
        if found is not None:
            return candidate, *found
    return None
