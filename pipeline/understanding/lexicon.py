"""Surface forms -> vocabulary slugs, written from the labelling rules of the shared vocabulary.

The lexicon is the parser's floor: every phrase here maps to its slug(s) deterministically.
The tagger and the embedding normaliser only add what the lexicon does not know.

Text is matched after `fold()` (lower case, hyphens and underscores as spaces), longest
phrase first, so "lo-fi hip hop" wins over "hip hop" and "grand piano" over "grand".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Kinds of entry. "unsupported" names a real instrument ampa has no voice for (reported back);
# "noslug" is a descriptive word the vocabulary deliberately leaves out (never forced onto a slug).
GENRE, MOOD, INSTRUMENT, UNSUPPORTED, NOSLUG = "genre", "mood", "instrument", "unsupported", "noslug"

# Context-dependent instrument placeholders, resolved by genre and nearby cue words.
GUITAR, BASS = "@guitar", "@bass"

GENRE_FORMS: dict[str, tuple[str, ...]] = {
    "lofi-hiphop": ("lofi", "lo fi", "lofi hip hop", "lo fi hip hop", "lofi hiphop", "lofi beat", "lofi beats",
                    "chillhop", "chill hop", "jazzhop", "jazz hop", "study beats", "beats to relax to",
                    "beats to study to", "lofi girl"),
    "hip-hop": ("hip hop", "hiphop", "hip hop beat", "rap beat", "rap", "boom bap", "boombap", "old school hip hop",
                "90s hip hop", "g funk", "instrumental hip hop"),
    "trap": ("trap", "trap beat", "drill", "uk drill", "ny drill", "rage beat", "type beat"),
    "synthwave": ("synthwave", "synth wave", "retrowave", "retro wave", "outrun", "darksynth",
                  "dreamwave", "night drive", "night driving", "vaporwave"),
    "house": ("house", "deep house", "tech house", "french house", "progressive house", "acid house",
              "house music", "afro house"),
    "techno": ("techno", "tekno", "minimal techno", "berlin techno", "warehouse techno", "industrial techno",
               "acid techno", "hard techno"),
    "trance": ("trance", "psytrance", "psy trance", "psy", "goa", "uplifting trance", "progressive trance"),
    "drum-and-bass": ("drum and bass", "drum & bass", "drum n bass", "drum'n'bass", "drumnbass", "dnb", "d&b",
                      "d n b", "jungle", "liquid dnb", "liquid funk", "neurofunk"),
    "dubstep": ("dubstep", "brostep", "riddim", "wobble drop", "wobble drops"),
    "ambient": ("ambient", "drone", "soundscape", "ambient electronica", "ambient music"),
    "cinematic": ("cinematic", "film score", "movie score", "movie soundtrack", "film soundtrack",
                  "orchestral trailer", "trailer music", "trailer", "epic orchestral", "hybrid orchestral",
                  "orchestral", "fantasy battle", "score for a film", "movie music", "film music"),
    "classical": ("classical", "baroque", "chamber music", "string quartet", "symphony", "symphonic", "sonata", "concerto",
                  "nocturne", "etude", "étude", "bach", "chopin", "mozart", "beethoven", "debussy", "satie",
                  "vivaldi", "romantic era"),
    "pop": ("pop", "synth pop", "synthpop", "electropop", "electro pop", "dance pop", "indie pop", "k pop", "kpop", "pop rock", "pop punk", "latin pop",
            "j pop", "jpop", "bubblegum pop", "pop song", "pop track"),
    "rock": ("rock", "indie rock", "alt rock", "alternative rock", "punk", "punk rock", "grunge", "shoegaze",
             "post rock", "surf rock", "classic rock", "prog rock", "progressive rock", "rock n roll",
             "rock'n'roll", "rock and roll", "hard rock", "garage rock", "stoner rock", "blues rock", "folk rock", "country rock", "pop rock",
             "jazz rock", "funk rock", "pop punk"),
    "metal": ("metal", "heavy metal", "thrash", "thrash metal", "death metal", "black metal", "djent", "metalcore",
              "doom metal", "power metal", "nu metal"),
    "jazz": ("jazz", "swing", "bebop", "big band", "smooth jazz", "jazz fusion", "cool jazz", "noir jazz",
             "jazz trio", "jazz quartet", "speakeasy", "noir", "jazz club", "jazz ballad", "jazz rock", "latin jazz",
             "jazz funk"),
    "blues": ("blues", "delta blues", "12 bar blues", "twelve bar blues", "chicago blues", "blues rock"),
    "funk": ("funk", "p funk", "slap bass funk", "funk groove", "funk rock", "jazz funk"),
    "disco": ("disco", "nu disco", "italo disco", "70s disco"),
    "reggae": ("reggae", "roots reggae", "dub", "rocksteady", "one drop"),
    "latin": ("latin", "salsa", "bossa nova", "bossa", "samba", "reggaeton", "cumbia", "bachata", "tango", "mambo",
              "merengue", "mariachi", "flamenco", "rumba", "bolero", "cha cha", "latin american", "bossanova",
              "latin jazz", "latin pop"),
    "folk": ("folk", "indie folk", "acoustic folk", "celtic", "irish jig", "jig", "sea shanty", "shanty", "folky",
             "folk song", "folk rock"),
    "country": ("country", "bluegrass", "americana", "honky tonk", "outlaw country", "country western",
                "country and western", "country rock"),
    "rnb": ("r&b", "rnb", "r and b", "r'n'b", "rhythm and blues", "soul", "neo soul", "slow jam", "motown"),
    "chiptune": ("chiptune", "chip tune", "8 bit", "8bit", "chip music", "nes", "game boy", "gameboy", "pixel art",
                 "retro game", "16 bit"),
}

# Genre adjectives that describe the whole track, unless they sit right before a part ("jazzy keys").
GENRE_ADJECTIVES: dict[str, str] = {"jazzy": "jazz", "bluesy": "blues", "funky": "funk", "folky": "folk",
                                    "rocky": "rock", "soulful": "rnb", "poppy": "pop"}

MOOD_FORMS: dict[str, tuple[str, ...]] = {
    "happy": ("happy", "joyful", "cheerful", "feel good", "feelgood", "sunny", "jolly", "carefree", "summery",
              "joyous", "happier", "upbeat and happy", "good vibes", "merry"),
    "sad": ("sad", "sorrowful", "mournful", "heartbroken", "heartbreak", "tearjerker", "depressing", "tragic",
            "grieving", "grief", "sadder", "sadness", "crying"),
    "dark": ("dark", "sinister", "ominous", "menacing", "gloomy", "brooding", "evil", "spooky", "creepy", "horror",
             "haunted", "haunted house", "halloween", "darker", "scary"),
    "calm": ("calm", "peaceful", "serene", "tranquil", "soothing", "relaxing", "meditative", "meditation", "sleepy",
             "zen", "calmer", "calming", "sleep", "restful"),
    "energetic": ("energetic", "high energy", "lively", "pumping", "hype", "hyped", "adrenaline", "full of energy",
                  "more energy", "high octane"),
    "epic": ("epic", "heroic", "grand", "majestic", "triumphant", "anthemic", "bombastic", "larger than life",
             "huge and epic", "epic orchestral"),
    "romantic": ("romantic", "love song", "in love", "sensual", "sexy", "intimate", "date night", "first dance",
                 "seductive", "romance"),
    "mysterious": ("mysterious", "mystical", "enigmatic", "eerie", "cryptic", "mystery", "mystic"),
    "dreamy": ("dreamy", "ethereal", "floaty", "hazy", "dreamlike", "otherworldly", "floating", "dreamier"),
    "aggressive": ("aggressive", "angry", "furious", "fierce", "brutal", "violent", "rage", "aggro", "savage"),
    "uplifting": ("uplifting", "inspiring", "inspirational", "hopeful", "motivational", "euphoric", "optimistic",
                  "motivating"),
    "melancholic": ("melancholic", "melancholy", "wistful", "bittersweet", "somber", "sombre", "lonely", "longing",
                    "lonesome", "melancholia"),
    "nostalgic": ("nostalgic", "nostalgia", "reminiscent", "memories", "old memory", "takes me back",
                  "take me back"),
    "tense": ("tense", "tension", "suspense", "suspenseful", "anxious", "nervous", "uneasy", "thriller", "on edge",
              "tenser"),
    "playful": ("playful", "whimsical", "quirky", "silly", "cheeky", "mischievous", "goofy", "cartoonish",
                "cartoony", "bouncy"),
    "chill": ("chill", "chilled", "chillout", "chill out", "laid back", "laidback", "mellow", "easygoing",
              "easy going", "relaxed", "low key", "lowkey", "cozy", "cosy", "chiller"),
}

INSTRUMENT_FORMS: dict[str, tuple[str, ...]] = {
    "piano": ("piano", "pianos", "pianist", "grand piano", "grand pianos", "upright piano", "upright pianos", "acoustic piano", "felt piano", "honky tonk piano",
              "piano chords", "piano loop", "piano melody", "keys piano", "🎹", "piano montuno", "montuno"),
    "electric-piano": ("electric piano", "electirc piano", "e piano", "epiano", "rhodes", "fender rhodes",
                       "wurlitzer", "wurli", "ep", "rhodes chords", "rhodes piano"),
    "organ": ("organ", "hammond", "hammond organ", "b3", "church organ", "pipe organ", "farfisa", "organs", "organist"),
    "acoustic-guitar": ("acoustic guitar", "acoustic guitars", "nylon guitar", "nylon string", "nylon string guitar",
                        "classical guitar", "spanish guitar", "fingerpicked guitar", "strummed guitar", "flamenco guitar"),
    "electric-guitar": ("electric guitar", "electric guitars", "e guitar", "e guitars", "electric guitarist", "distorted guitar", "distorted guitars",
                        "overdriven guitar", "clean electric", "clean electric guitar", "power chords", "shred",
                        "shredding", "wah guitar", "telecaster", "stratocaster", "strat", "les paul", "🎸",
                        "guitar riffs", "riffs", "lead guitar", "skank guitar", "slide guitar"),
    "bass": ("bass guitar", "electric bass", "e bass", "upright bass", "upright", "double bass", "slap bass", "fretless",
             "fretless bass", "walking bass", "walking bassline", "walking upright bass", "contrabass"),
    "synth-bass": ("synth bass", "synthbass", "808", "808s", "sub bass", "subbass", "reese", "reese bass",
                   "wobble bass", "wobble", "wobbles", "acid bass", "303", "acid 303", "303 bass", "moog bass",
                   "808 glide", "808 slides", "sliding 808s"),
    "drums": ("drums", "drum", "drum kit", "drumkit", "drum machine", "percussion", "breaks", "breakbeat",
              "breakbeats", "kick", "kicks", "snare", "snares", "hats", "hi hats", "hihats", "hi hat", "brushes",
              "brushed drums", "brushed snare", "congas", "conga", "bongos", "taiko", "taiko drums", "🥁",
              "four on the floor", "4 on the floor", "blast beats", "blast beat", "amen break", "amen breaks",
              "war drums", "drum loop", "drum beat", "toms", "cymbals", "dembow", "beatbox",
              "drumming", "drum fills", "drum fill", "snare drum", "kick drum", "bass drum", "cymbal", "crash cymbal",
              "ride cymbal", "hihat", "tabla", "tablas", "cajon", "djembe", "dhol", "darbuka", "timbales",
              "hand drums", "hand drum", "frame drum", "rimshot", "rimshots", "drum pattern", "drum track",
              "percussions", "tom fills", "drum and cymbal", "snare rolls", "snare roll"),
    "strings": ("strings", "string section", "string ensemble", "string quartet", "orchestral strings",
                "pizzicato strings", "pizzicato", "string orchestra"),
    "violin": ("violin", "fiddle", "solo violin", "🎻", "fiddles", "violins", "violinist", "violinists",
               "fiddler"),
    "cello": ("cello", "cellos", "solo cello", "celli", "cellist", "cellists"),
    "brass": ("brass", "brass section", "horns", "horn section", "trombone", "trombones", "tuba", "french horn",
              "french horns", "brass stabs", "horn stabs", "horn"),
    "trumpet": ("trumpet", "trumpets", "muted trumpet", "flugelhorn", "🎺", "cornet", "trumpeter",
                "trumpet player"),
    "saxophone": ("saxophone", "sax", "alto sax", "tenor sax", "baritone sax", "bari sax", "soprano sax", "🎷",
                  "saxophones", "saxes", "saxophonist", "saxophone player", "sax player"),
    "flute": ("flute", "flutes", "pan flute", "piccolo", "recorder", "shakuhachi", "bansuri", "panpipes", "flautist", "flutist", "flute player"),
    "choir": ("choir", "choral", "choirs", "chorus of voices", "aahs", "chant", "chants", "gregorian",
              "gregorian chant", "choir pads"),
    "synth-lead": ("synth lead", "lead synth", "synth leads", "lead synths", "synth melody", "supersaw",
                   "supersaw lead", "supersaw leads", "supersaws", "square wave lead", "square lead", "chip lead",
                   "saw lead", "square wave", "arp", "arpeggiator", "synth arp", "synth arps"),
    "synth-pad": ("pad", "pads", "synth pad", "synth pads", "warm pads", "lush pads", "atmospheric pads",
                  "string pad", "string pads", "ambient pads"),
    "bells": ("bells", "bell", "glockenspiel", "chimes", "celesta", "music box", "tubular bells", "church bells",
              "glock", "wind chimes"),
    "harp": ("harp", "harps", "concert harp", "celtic harp", "harpist"),
    "marimba": ("marimba", "xylophone", "vibraphone", "vibes mallets", "mallets", "vibraphones"),
    "vocals": ("vocals", "vocal", "singing", "singer", "singers", "lyrics", "rap verse", "rap verses", "vocal chops",
               "feat", "feat.", "female vocals", "male vocals", "female vocal", "male vocal", "vox", "sung",
               "sung chorus", "voice", "voices", "vocalist", "a singer", "rapper", "rapping", "sings", "vocalisation", "vocalization",
               "vocalisations", "vocalizations", "vocalizing", "vocalising", "crooning", "croons", "yodelling",
               "yodeling", "raps", "backing vocals", "vocal harmonies", "humming", "hums"),
}

# Bare "guitar"/"bass": resolved from the genre and cue words (see VOCABULARY.md "Family words").
CONTEXT_FORMS: dict[str, tuple[str, ...]] = {
    GUITAR: ("guitar", "guitars", "gtr", "riff", "guitarist", "guitarists"),
    BASS: ("bass", "bassline", "bass line", "basslines", "bass lines", "low end", "bassist"),
}

# Real instruments ampa has no voice for: recognised, reported back, never forced onto a near slug.
UNSUPPORTED_FORMS: tuple[str, ...] = (
    "banjo", "ukulele", "uke", "harmonica", "blues harp", "mouth organ", "clavinet", "clav", "accordion",
    "harpsichord", "sitar", "timpani", "steel drums", "steel drum", "steel pan", "tambourine", "shakers", "shaker",
    "claps", "handclaps", "hand claps", "melodica", "bassoon", "oboe", "clarinet", "whistling", "whistle",
    "pedal steel", "autoharp", "jaw harp", "cowbell", "bagpipes", "kazoo", "theremin", "mandolin", "didgeridoo",
    "koto", "erhu", "kalimba", "hoover synth", "hoover", "steel guitar", "lap steel",
)

# Words the vocabulary names as having no slug: they stop the model and the embeddings forcing them.
NOSLUG_FORMS: tuple[str, ...] = (
    "edm", "electronic", "electronica", "gospel", "moody", "groovy", "intense", "atmospheric", "upbeat", "hypnotic",
    "gentle", "soft", "warm", "hard", "heavy", "dusty", "smooth", "lush", "bright", "big", "huge", "crunchy",
    "instrumental", "beat", "beats", "groove", "vibes", "vibe", "keys", "keyboard", "keyboards", "synths", "synth",
    "melody", "chords", "loop", "sample", "stabs", "corporate", "rave", "vinyl", "crackle", "rain", "rainy",
    "sunset", "beach", "boss fight", "emotional", "powerful", "catchy", "bouncy groove", "driving", "pulsing",
    "minimal", "sparse", "slow", "fast", "mid tempo", "midtempo", "building", "builds", "drop", "drops",
    "wurlitzer organ", "love", "drummers", "drummer", "orchestra", "dance", "club", "gaming", "game", "film",
    "movie", "video", "youtube", "podcast", "intro", "outro", "breakdown", "riser", "fx",
    # Words in descriptions of music that name no slug ("a rhythm guitar" is not r&b, "recording" not a recorder,
    # "ambient crowd noise" is not the ambient genre, "arpeggiated guitar" has no synth).
    "recording", "recordings", "recorded", "rhythm", "rhythms", "rhythmic", "rhythm section", "arpeggiated",
    "arpeggio", "arpeggios", "harmony", "harmonies", "accompaniment", "playback", "lead", "ambient sounds",
    "ambient sound", "ambient noise", "ambient noises", "crowd noise", "room ambience", "ambient room",
    "ambient crowd", "ambient nature",
)

# Cue words that pick the guitar: VOCABULARY.md "Family words".
ELECTRIC_GUITAR_CUES = frozenset({
    "distorted", "overdriven", "riffs", "riff", "power", "wah", "twang", "twangy", "crunchy", "shred", "shredding",
    "shreddy", "skank", "slide", "fuzz", "fuzzy", "heavy", "electric", "lead", "washed", "jangly", "surf", "gain",
    "chugging", "palm", "muted", "tremolo", "reverb", "reverby", "solos", "solo",
})
ACOUSTIC_GUITAR_CUES = frozenset({
    "strummed", "strumming", "fingerpicked", "fingerpicking", "fingerstyle", "nylon", "campfire", "classical",
    "spanish", "acoustic", "folk", "folky", "plucked",
})
ELECTRIC_GUITAR_GENRES = frozenset({"rock", "metal", "blues", "funk", "disco", "reggae", "synthwave"})
ACOUSTIC_GUITAR_GENRES = frozenset({"folk", "country", "latin", "classical"})
# VOCABULARY.md: a bare "bass" is synth-bass in electronic genres, otherwise bass.
ELECTRONIC_GENRES = frozenset({"house", "techno", "trance", "drum-and-bass", "dubstep", "trap", "synthwave", "chiptune"})
SYNTH_BASS_CUES = frozenset({"synth", "sub", "rubbery", "wobbly", "acid", "pulsing", "deep", "reese", "808", "digital",
                             "synthesized", "synthesised", "synthetic", "electronic"})

# Family words in exclusions: "no guitars" -> both guitars, "no synths" -> all synths, "no bass" -> both basses.
EXCLUDE_FAMILIES: dict[str, tuple[str, ...]] = {
    GUITAR: ("acoustic-guitar", "electric-guitar"),
    BASS: ("bass", "synth-bass"),
    "synths": ("synth-lead", "synth-pad", "synth-bass"),
    "synth": ("synth-lead", "synth-pad", "synth-bass"),
    "beat": ("drums",),
    "beats": ("drums",),
    "percussion": ("drums",),
}

# Words that make a text a music request even without a slug in it.
MUSIC_NOUNS = frozenset({
    "music", "song", "songs", "track", "tracks", "beat", "beats", "tune", "tunes", "instrumental", "melody", "bpm",
    "loop", "jingle", "piece", "groove", "riff", "anthem", "ballad", "banger", "composition", "soundtrack",
    "musik", "musica", "lullaby", "theme", "score", "jam", "sound", "sounds",
})


@dataclass(frozen=True)
class Entry:
    """One surface form: what it names."""

    kind: str
    slugs: tuple[str, ...]


def fold(text: str) -> str:
    """The matching form of text: lower case, hyphens/underscores/slashes-in-words as spaces."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"(?<=\w)[-_](?=\w)", " ", text)
    return text


@lru_cache(maxsize=1)
def entries() -> dict[str, Entry]:
    """Every folded surface form and its entry; specific kinds win over no-slug words."""
    table: dict[str, Entry] = {}

    def put(form: str, kind: str, slug: str | None) -> None:
        key = fold(form)
        slugs = (slug,) if slug else ()
        if key in table and table[key].kind == kind and slug:
            slugs = tuple(dict.fromkeys(table[key].slugs + slugs))
        elif key in table and table[key].kind != NOSLUG:
            if kind == NOSLUG:
                return
            # A phrase that names two things ("string quartet": classical + strings) keeps both.
            table[key + "\x00" + kind] = Entry(kind, slugs)
            return
        table[key] = Entry(kind, slugs)

    for form in NOSLUG_FORMS:
        put(form, NOSLUG, None)
    for slug, forms in GENRE_FORMS.items():
        for form in forms:
            put(form, GENRE, slug)
    for form, slug in GENRE_ADJECTIVES.items():
        put(form, GENRE, slug)
    for slug, forms in MOOD_FORMS.items():
        for form in forms:
            put(form, MOOD, slug)
    for slug, forms in {**INSTRUMENT_FORMS, **CONTEXT_FORMS}.items():
        for form in forms:
            put(form, INSTRUMENT, slug)
    for form in UNSUPPORTED_FORMS:
        put(form, UNSUPPORTED, None)
    return table


@dataclass(frozen=True)
class Match:
    """A lexicon phrase found in folded text."""

    start: int
    end: int
    text: str
    kind: str
    slugs: tuple[str, ...]


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    forms = sorted({k.split("\x00")[0] for k in entries()}, key=len, reverse=True)
    alternation = "|".join(re.escape(f) for f in forms)
    # \w boundaries, but let "808s"/"pads" style plurals be listed explicitly instead of guessed.
    return re.compile(rf"(?<![\w#&'])(?:{alternation})(?![\w&'])")


def find(folded: str) -> list[Match]:
    """Every lexicon phrase in folded text, left to right, longest first, not overlapping."""
    table = entries()
    found: list[Match] = []
    for m in _pattern().finditer(folded):
        phrase = m.group(0)
        for key in (phrase, phrase + "\x00" + GENRE, phrase + "\x00" + MOOD, phrase + "\x00" + INSTRUMENT,
                    phrase + "\x00" + UNSUPPORTED):
            entry = table.get(key)
            if entry is not None:
                found.append(Match(m.start(), m.end(), phrase, entry.kind, entry.slugs))
    return found


def known_forms(kind: str) -> dict[str, tuple[str, ...]]:
    """slug -> surface forms, for the generator and the embedding phrases."""
    return {GENRE: GENRE_FORMS, MOOD: MOOD_FORMS, INSTRUMENT: INSTRUMENT_FORMS}[kind]
