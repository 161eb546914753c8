"""Synthetic span-annotated prompts: templates x lexicon x chat noise, reproducible from a seed.

Each example is (text, spans) with spans as (start, end, type) character offsets, type in
tagger.SPAN_TYPES. Text is built piece by piece so offsets stay exact through the noise
(typos, slang, case, emoji, markdown).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from pipeline.understanding import lexicon as lx

Example = tuple[str, list[tuple[int, int, str]]]

# Extra surface forms the lexicon does not list, so the tagger learns span shapes, not a word list.
EXTRA_GENRES = ("future garage", "liquid drum and bass", "vaportrap", "dark ambient", "lofi house", "g-funk",
                "acid jazz", "nu jazz", "neo-classical", "post-punk", "emo", "hardstyle", "breakcore", "garage",
                "uk garage", "electro", "trip hop", "future bass", "phonk", "afrobeat", "city pop",
                "math rock", "stoner rock", "power pop", "sludge", "industrial", "glitch hop", "chillwave",
                "drill beat", "lo-fi jazz", "jazz-hop", "boombap", "hyperpop", "bedroom pop")
EXTRA_MOODS = ("haunting", "bleak", "cheery", "sultry", "frantic", "serene-ish", "blissful", "hopeless", "angsty",
               "gritty", "brooding-ish", "lighthearted", "heartwarming", "soothing af", "sinister-sounding",
               "gloomy af", "spacey", "tender", "wholesome", "menacing", "triumphal", "yearning")
EXTRA_INSTRUMENTS = ("rhodes keys", "tape-saturated piano", "fm bells", "sub", "kick drum", "808 bass",
                     "string stabs", "felt piano", "grand piano", "brass hits", "plucked synth", "synth arps",
                     "detuned saw lead", "hand percussion", "shakers", "upright", "horn stabs", "trumpet line",
                     "alto saxophone", "nylon-string guitar", "wurli", "clean guitar", "twelve-string guitar",
                     "finger-picked guitar", "tremolo strings", "solo cello", "harp glissandos")
ERAS = ("80s", "90s", "70s", "60s", "2000s", "1920s", "1950s", "retro", "old school", "old-school", "vintage",
        "y2k", "eighties", "nineties")
ENERGY = ("fast", "slow", "upbeat", "uptempo", "downtempo", "mid-tempo", "midtempo", "not too fast", "slow-ish",
          "quick", "high-tempo", "slowly building", "driving")
SCENES = ("for a rainy night", "for my youtube intro", "for studying", "for a road trip", "for a boss fight",
          "for a podcast intro", "for my twitch stream", "for a wedding video", "for a short film", "at sunset",
          "for a video game menu", "for a workout", "for a coffee shop", "for late night coding",
          "for a travel vlog", "for a product launch", "for a horror game", "for a sad scene")
FILLER_OPENERS = ("", "", "", "make me ", "can u make ", "can you make me ", "i want ", "need ", "give me ",
                  "pls make ", "yo make ", "generate ", "something like ", "i'd love ", "hey ampa, ", "could you do ")
NOUNS = ("track", "beat", "song", "tune", "piece", "instrumental", "loop", "jam", "")
NEGATORS = ("no {x}", "without {x}", "w/o {x}", "no {x} please", "minus the {x}", "leave out the {x}",
            "no {x} at all", "without any {x}", "{x}less")
KEYS = ("A minor", "Am", "F#m", "C major", "in D", "Eb major", "E flat major", "G dorian", "Bbm", "key of C#",
        "D minor", "in the key of F")
TEMPOS = ("140 bpm", "85bpm", "@ 128", "tempo 90", "around 120 bpm", "90-100 bpm", "120ish", "174", "ninety bpm",
          "~100bpm", "bpm: 125")
DURATIONS = ("2 minutes", "90 sec", "1:30", "3 min", "two and a half minutes", "30 seconds", "4 mins", "2:45")
NON_MUSIC = ("what's the weather in paris", "tell me a joke", "write an email to my boss", "who won the game last night",
             "translate this to french", "help with my homework", "what time is it", "recommend a movie",
             "how do i cook rice", "summarise this article for me")
SLANG = {"with": ("w/", "with", "wit"), "and": ("and", "n", "&", "+"), "please": ("pls", "plz", "please"),
         "something": ("smth", "something", "sth"), "you": ("u", "you"), "about": ("bout", "about", "~")}
PROSE = ("The opening scene is at dawn.", "It's for a school project.", "My friend is getting married next week.",
         "The video is about cooking pasta.", "We climb the stairs in the first shot.", "Nothing too busy.",
         "It should feel like an old memory.", "The character lives alone by the sea.", "Thanks in advance!",
         "I'm editing a short documentary.", "Keep it simple.", "The scene changes halfway through.",
         "Something my grandma would like.", "Imagine walking through the city at night.", "No rush.",
         "The ending should resolve nicely.", "It's for the loading screen.", "Think sound of ocean waves.")
META_FIELDS = (("genre", "GENRE"), ("style", "GENRE"), ("mood", "MOOD"), ("vibe", "MOOD"), ("instruments", "INST"),
               ("lead", "INST"))
# Descriptions of music as musicians write them (long, third person, about a recording): the words around
# the spans name no slug ("rhythm", "recording", "arpeggiated", "lead") and must stay O.
DESCRIPTION_OPENERS = ("This is a {g} piece.", "This {g} song features {i}.", "The song is a {m} {g} track.",
                       "This music is {g}.", "A {g} instrumental with {i}.", "This clip is a {m} {g} tune.",
                       "Here we have a {g} recording.", "The track is {g} with a {m} feel.")
DESCRIPTION_SENTENCES = (
    "The {i} is playing the main melody.", "{i} plays a rhythm in the background.", "A {i} is strumming chords.",
    "There is a {i} playing arpeggiated chords.", "The {i} holds long notes while the {i} plays the lead.",
    "It sounds {m} and {m}.", "The mood is {m}.", "The atmosphere is {m}.", "The recording quality is poor.",
    "The recording is noisy and in mono.", "This is an amateur recording.", "The tempo is medium with a steady beat.",
    "The rhythm section keeps a groovy pattern.", "A rhythm guitar plays in the background.",
    "The song has a {m} vibe.", "Someone is playing a {i} solo.", "A {i} and a {i} accompany the melody.",
    "The audio quality is low.", "This song may be playing in a {g} club.", "It could be used in a {m} movie scene.",
    "The song is medium tempo with {i} harmony.", "Its lead is played by a {i}.", "The {i} adds harmony.",
)
PLAYERS = ("cellist", "violinist", "pianist", "guitarist", "bassist", "saxophonist", "trumpeter", "flautist",
           "harpist", "organist", "drummer", "singer", "vocalist", "female vocalist", "male singer")
EMOJI = ("🔥", "🎶", "✨", "🌧️", "🌙", "😎", "🚗", "💀", "🥺", "🎧", "🌆", "☕", "👀")


def _forms(table: dict[str, tuple[str, ...]]) -> list[str]:
    return [f for forms in table.values() for f in forms if f.isascii() and len(f) > 1]


@dataclass
class _Builder:
    rng: random.Random
    typo_rate: float

    def __post_init__(self) -> None:
        self.text = ""
        self.spans: list[tuple[int, int, str]] = []

    def plain(self, words: str) -> None:
        self.text += self._noisy(words)

    def span(self, words: str, kind: str) -> None:
        words = self._noisy(words)
        start = len(self.text)
        self.text += words
        if words.strip():
            self.spans.append((start, start + len(words), kind))

    def _noisy(self, words: str) -> str:
        out = []
        for word in re.split(r"(\s+)", words):
            if word.strip() and len(word) > 3 and self.rng.random() < self.typo_rate:
                word = _typo(word, self.rng)
            out.append(word)
        return "".join(out)


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word) - 1)
    kind = rng.random()
    if kind < 0.4:  # swap
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind < 0.7:  # drop
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]  # double


class Generator:
    """generate(n) -> n examples; the same seed gives the same examples."""

    def __init__(self, seed: int = 0, typo_rate: float = 0.04) -> None:
        self.rng = random.Random(seed)
        self.typo_rate = typo_rate
        self.genres = _forms(lx.GENRE_FORMS) + list(EXTRA_GENRES)
        self.moods = _forms(lx.MOOD_FORMS) + list(EXTRA_MOODS)
        self.instruments = _forms(lx.INSTRUMENT_FORMS) + list(EXTRA_INSTRUMENTS) + [
            f for forms in lx.CONTEXT_FORMS.values() for f in forms]
        self.excludable = ["drums", "vocals", "piano", "guitar", "guitars", "bass", "synths", "strings", "singing",
                           "percussion", "beat", "808s", "brass", "choir", "pads", "sax", "organ", "lyrics"]

    def generate(self, n: int) -> list[Example]:
        return [self.one() for _ in range(n)]

    def one(self) -> Example:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            b = _Builder(rng, self.typo_rate)
            b.plain(rng.choice(NON_MUSIC))
            return self._finish(b)
        if roll < 0.15:
            return self._metadata()
        if roll < 0.25:
            return self._prose()
        if roll < 0.37:
            return self._description()
        b = _Builder(rng, self.typo_rate)
        b.plain(rng.choice(FILLER_OPENERS))
        chunks = self._chunks()
        rng.shuffle(chunks)
        # a descriptor phrase first ("dark jazzy lofi beat") reads most like real prompts
        head = [c for c in chunks if c[0] == "head"]
        rest = [c for c in chunks if c[0] != "head"]
        ordered = head + rest
        for i, (_, parts) in enumerate(ordered):
            if i:
                b.plain(rng.choice((", ", ", ", " ", " w/ " if parts and parts[0][1] == "INST" else ", ", ". ",
                                    " and ", " - ", "\n")))
            for words, kind in parts:
                b.span(words, kind) if kind else b.plain(words)
        if rng.random() < 0.2:
            b.plain(" " + rng.choice(EMOJI) * rng.randint(1, 3))
        return self._finish(b)

    def _metadata(self) -> Example:
        """'genre: house; bpm: 124; mood: happy' -- field names are not spans."""
        rng = self.rng
        b = _Builder(rng, 0.0)
        sep = rng.choice(("\n", "; ", " | ", ", ", "\n- "))
        assign = rng.choice((": ", "=", " = ", ":"))
        pools = {"GENRE": self.genres, "MOOD": self.moods, "INST": self.instruments}
        fields = rng.sample(META_FIELDS, rng.randint(1, 3))
        values = [("bpm", rng.choice(TEMPOS).split()[0]), ("key", rng.choice(KEYS)), ("duration", rng.choice(DURATIONS)),
                  ("length", rng.choice(DURATIONS))]
        items: list[tuple[str, str | None, str]] = [(name, kind, rng.choice(pools[kind])) for name, kind in fields]
        items += [(name, None, value) for name, value in rng.sample(values, rng.randint(1, 3))]
        rng.shuffle(items)
        if rng.random() < 0.5:
            b.plain(rng.choice(("generate: ", "please make", "track spec", "")) + sep)
        for i, (name, kind, value) in enumerate(items):
            if i:
                b.plain(sep)
            b.plain(rng.choice((name, name.title(), name.upper())) + assign)
            b.span(value, kind) if kind else b.plain(value)
        return self._finish(b)

    def _prose(self) -> Example:
        """Long chatty prompts: most words are not spans."""
        rng = self.rng
        b = _Builder(rng, self.typo_rate)
        b.plain(rng.choice(PROSE) + " " + rng.choice(("I'd love a ", "Could you make a ", "I need a ", "Maybe a ")))
        if rng.random() < 0.7:
            b.span(rng.choice(self.moods), "MOOD")
            b.plain(rng.choice((", ", " and ", " ")))
        if rng.random() < 0.5:
            b.span(rng.choice(ENERGY), "ENERGY")
            b.plain(" ")
        if rng.random() < 0.5:
            b.span(rng.choice(self.genres), "GENRE")
            b.plain(" ")
        b.plain(rng.choice(("piece", "track", "tune", "song")) + " with ")
        b.span(rng.choice(self.instruments), "INST")
        if rng.random() < 0.6:
            b.plain(rng.choice((" and a ", " and some ", ", plus ")))
            b.span(rng.choice(self.instruments), "INST")
            b.plain(rng.choice((" that comes in halfway", " in the background", "", " later on")))
        b.plain(". " + rng.choice(PROSE))
        if rng.random() < 0.4:
            b.plain(" " + rng.choice(("Around ", "About ", "Like ")) + rng.choice(DURATIONS) + ".")
        return self._finish(b)

    def _description(self) -> Example:
        """A caption-like description: an opener and two to four sentences about parts, mood and sound."""
        rng = self.rng
        b = _Builder(rng, self.typo_rate / 2)
        kinds = {"g": ("GENRE", self.genres), "m": ("MOOD", self.moods),
                 "i": ("INST", self.instruments + list(PLAYERS))}
        templates = [rng.choice(DESCRIPTION_OPENERS)] + rng.sample(DESCRIPTION_SENTENCES, rng.randint(2, 4))
        for n, template in enumerate(templates):
            if n:
                b.plain(" ")
            for piece in re.split(r"(\{[gmi]\})", template):
                if re.fullmatch(r"\{[gmi]\}", piece):
                    kind, pool = kinds[piece[1]]
                    b.span(rng.choice(pool), kind)
                else:
                    b.plain(piece)
        return self._finish(b)

    def _chunks(self) -> list[tuple[str, list[tuple[str, str | None]]]]:
        rng = self.rng
        chunks: list[tuple[str, list[tuple[str, str | None]]]] = []
        head: list[tuple[str, str | None]] = []
        if rng.random() < 0.6:
            head += [(rng.choice(self.moods), "MOOD"), (" ", None)]
        if rng.random() < 0.25:
            head += [(rng.choice(("jazzy", "bluesy", "funky", "folky")), "GENRE"), (" ", None)]
        if rng.random() < 0.85:
            head += [(rng.choice(self.genres), "GENRE")]
            if rng.random() < 0.15:
                head += [(rng.choice((" / ", " x ", " meets ", " + ")), None), (rng.choice(self.genres), "GENRE")]
        if rng.random() < 0.15:
            head = [(rng.choice(ERAS), "ERA"), (" ", None)] + head
        if head:
            noun = rng.choice(NOUNS)
            head += [(" " + noun, None)] if noun else []
            chunks.append(("head", head))
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            adjective = rng.choice(("", "", "", "warm ", "dusty ", "soft ", "big ", "heavy ", "lush ", "sparse ",
                                    "jazzy ", "funky ", "gentle "))
            # "jazzy keys": a genre adjective on one part is not a genre (O)
            chunks.append(("inst", [(adjective, None), (rng.choice(self.instruments), "INST")]))
        if rng.random() < 0.35:
            item = rng.choice(self.excludable)
            template = rng.choice(NEGATORS)
            if template == "{x}less":
                word = rng.choice(("drum", "beat", "vocal", "bass", "guitar", "piano", "percussion"))
                chunks.append(("excl", [(word + "less", "EXCL")]))
            else:
                before, after = template.split("{x}")
                chunks.append(("excl", [(before, None), (item, "EXCL"), (after, None)]))
                if rng.random() < 0.3:
                    chunks[-1][1].extend([(rng.choice((" or ", " and ", " no ")), None),
                                          (rng.choice(self.excludable), "EXCL")])
        if rng.random() < 0.3:
            chunks.append(("mood", [(rng.choice(("very ", "kinda ", "super ", "a bit ", "")), None),
                                    (rng.choice(self.moods), "MOOD")]))
        if rng.random() < 0.25:
            chunks.append(("energy", [(rng.choice(ENERGY), "ENERGY")]))
        if rng.random() < 0.15:
            chunks.append(("era", [(rng.choice(("kinda ", "like ", "")), None), (rng.choice(ERAS), "ERA"),
                                   (rng.choice((" vibes", " style", "")), None)]))
        for pool, p in ((TEMPOS, 0.45), (KEYS, 0.3), (DURATIONS, 0.3), (SCENES, 0.2)):
            if rng.random() < p:
                chunks.append(("value", [(rng.choice(pool), None)]))
        if not chunks:
            chunks.append(("head", [(rng.choice(self.genres), "GENRE")]))
        return chunks

    def _finish(self, b: _Builder) -> Example:
        text, spans = b.text, b.spans
        rng = self.rng
        roll = rng.random()
        if roll < 0.6:
            text = text.lower()
        elif roll < 0.65:
            text = text.upper()
        for word, choices in SLANG.items():
            if rng.random() < 0.3:
                text, spans = _replace_word(text, spans, word, rng.choice(choices))
        # strip leading/trailing spaces while keeping offsets right
        left = len(text) - len(text.lstrip())
        text = text.strip()
        spans = [(s - left, e - left, k) for s, e, k in spans if e - left <= len(text) and s - left >= 0]
        return text, spans


def _replace_word(text: str, spans: list[tuple[int, int, str]], word: str, new: str) -> tuple[str, list]:
    """Replace a whole word outside spans, shifting later offsets."""
    for m in reversed(list(re.finditer(rf"\b{re.escape(word)}\b", text))):
        if any(s < m.end() and m.start() < e for s, e, _ in spans):
            continue
        shift = len(new) - (m.end() - m.start())
        text = text[:m.start()] + new + text[m.end():]
        spans = [(s + shift if s >= m.end() else s, e + shift if e >= m.end() else e, k) for s, e, k in spans]
    return text, spans
