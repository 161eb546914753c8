"""The composer's per-genre vocabulary: grooves, progressions, bass and comping patterns, voices.

`pipeline.styles.STYLES` says what a genre is (tempo range, modes, band, swing); this table says how
to play it. Twelve genres have their own hand-written profile; the rest derive from a close
relative with different parameters (disco from house + funk, trance from techno, ...).

Drum lines are 4/4 patterns on a 16-step grid: X accent, x hit, o soft, g ghost, . rest. Other
meters get grooves built from the meter's beat groups by `rhythm.groove_for` using `drum_style`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# General MIDI drum keys used by the grooves.
KICK, KICK_AC, SNARE, RIM, CLAP = 36, 35, 38, 37, 39
CLOSED_HAT, PEDAL_HAT, OPEN_HAT, CRASH, RIDE, RIDE_BELL = 42, 44, 46, 49, 51, 53
TOM_LOW, TOM_FLOOR, TOM_MID, TOM_HIGH = 41, 43, 45, 48
TAMBOURINE, COWBELL, CONGA_MUTE, CONGA_OPEN, CONGA_LOW, SHAKER, CLAVES = 54, 56, 62, 63, 64, 82, 75
# Drum styles of the club genres: their intros start with the beat, their builds roll into drops.
CLUB_DRUMS = ("four_on_floor", "breakbeat", "halftime")


@dataclass(frozen=True)
class DrumLine:
    key: int
    pattern: str  # 16 steps per 4/4 bar (32 for a two-bar pattern)
    min_energy: float = 0.0  # the line plays only in sections at least this full


@dataclass(frozen=True)
class GenreProfile:
    name: str
    progressions: tuple[str, ...]  # roman numerals, each loop starts on the tonic
    # Used instead in major-family keys when the main list is written for minor: minor loops such as
    # i–VI–III–V turn into I–vi–iii–V in major, which leans on the dominant and blurs the key.
    major_progressions: tuple[str, ...] = ()
    tonic_drone: bool = False  # the bass holds the tonic under every chord but the cadences (ambient)
    chord_size: int = 3  # voices in the harmony voicing (4 adds the seventh)
    bars_per_chord: float = 1.0
    cadence: str = "authentic"  # authentic (V–i) | modal (bVII–i / bII–i over a tonic pedal in modal keys)
    # four_on_floor | backbeat | halftime | breakbeat | swing | shuffle | one_drop | train | orchestral | latin | none
    drum_style: str = "backbeat"
    drums: tuple[DrumLine, ...] = ()
    drum_voice: str = "sf2"  # sf2 | edrums | chipdrums
    drum_kit_program: int = 0  # SoundFont percussion preset (0 standard, 16 power, 32 jazz, 40 brush, 48 orchestra)
    hat_rolls: bool = False  # trap hi-hat rolls
    swing_unit: float = 0.25  # which off-beats swing (0.25 = 16ths, 0.5 = 8ths), in quarter beats
    humanise_ms: float = 6.0  # timing spread of played parts (drum machines get ~0)
    velocity_spread: int = 8
    # kick | sub | offbeat | eighths | sixteenths | octaves | walking | root_fifth | tumbao | boogie | one_drop | funk
    # | sustain | wobble (see bass.py)
    bass: str = "kick"
    bass_octave_low: int = 31  # lowest MIDI pitch for bass roots
    # block | pluck | stabs | arp | pulse | ostinato | strum | power | chug | skank | jazz | rhodes | montuno
    comp: str = "block"
    pad: str = "sustain"  # sustain | swell | none
    lead_density: float = 0.5  # 0..1: how busy the melody is
    lead_center: int = 72  # MIDI pitch the melody circles
    lead_legato: float = 0.9
    risers: bool = False  # reverse-cymbal risers into big sections, for the fx stem
    sections: tuple[tuple[str, ...], ...] = ()  # long-to-short form templates
    phrase_bars: int = 4
    voices: dict[str, str] = field(default_factory=dict)  # instrument slug -> synth voice
    programs: dict[str, int] = field(default_factory=dict)  # instrument slug -> GM program override


SONG = (
    ("intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro"),
    ("intro", "verse", "chorus", "verse", "chorus", "outro"),
    ("intro", "verse", "chorus", "outro"),
)
CLUB = (
    ("intro", "build", "drop", "breakdown", "build", "drop", "outro"),
    ("intro", "build", "drop", "breakdown", "drop", "outro"),
    ("intro", "drop", "breakdown", "drop", "outro"),
    ("intro", "drop", "outro"),
)
SCORE = (
    ("intro", "theme", "build", "climax", "theme", "outro"),
    ("intro", "theme", "build", "climax", "outro"),
    ("intro", "theme", "climax", "outro"),
)
DRIFT = (
    ("intro", "theme", "development", "theme", "outro"),
    ("intro", "theme", "development", "outro"),
    ("intro", "theme", "outro"),
)
HEADS = (
    ("intro", "head", "solo", "solo", "head", "outro"),
    ("intro", "head", "solo", "head", "outro"),
    ("intro", "head", "outro"),
)

SYNTH_VOICES_CLUB = {"synth-lead": "supersaw", "synth-bass": "analog_bass", "synth-pad": "warm_pad"}

_L = DrumLine

PROFILES: dict[str, GenreProfile] = {}


def _add(profile: GenreProfile) -> GenreProfile:
    PROFILES[profile.name] = profile
    return profile


LOFI = _add(
    GenreProfile(
        "lofi-hiphop",
        # A beatmaker's sampled kit (analog drum-machine and break hits), crunched by the lo-fi sampler chain.
        drum_voice="kit_rumpf",
        progressions=("i9 ii9 v9 V7", "i9 iv9 v9 V7", "i9 VI7 iv9 V7", "i9 iv9 VII7 V7"),
        chord_size=4,
        drum_style="backbeat",
        drums=(
            _L(KICK, "x......x..x....."),
            _L(SNARE, "....x.......x..."),
            _L(CLOSED_HAT, "x.o.x.o.x.oox.o.", 0.3),
            _L(SNARE, "...........g...g", 0.45),
            _L(OPEN_HAT, "..............o.", 0.6),
        ),
        humanise_ms=12,
        velocity_spread=14,
        bass="kick",
        comp="rhodes",
        pad="sustain",
        lead_density=0.35,
        lead_center=74,
        sections=SONG,
        programs={"electric-piano": 4, "synth-pad": 89, "bass": 33, "piano": 0},
    )
)

_add(
    replace(
        LOFI,
        name="hip-hop",
        progressions=("i iv i V", "i VI iv V", "i i iv V7"),
        chord_size=3,
        drums=(
            _L(KICK, "x.....x...x....."),
            _L(SNARE, "....X.......X..."),
            _L(CLOSED_HAT, "x.x.x.xox.x.x.xo", 0.3),
            _L(KICK, ".......o.....o..", 0.6),
        ),
        comp="block",
        lead_density=0.45,
        humanise_ms=8,
        drum_voice="kit_rumpf",
        programs={"piano": 0, "strings": 49, "saxophone": 66, "choir": 53},
    )
)

TRAP = _add(
    GenreProfile(
        "trap",
        progressions=("i VI iv V", "i i VI V", "i iv VI V", "i VII VI V"),
        major_progressions=("I vi IV V", "I I vi V", "I IV vi V", "I IV I V"),
        bars_per_chord=1.0,
        drum_style="halftime",
        drums=(
            _L(KICK, "x.........x....."),
            _L(KICK, ".......x......x.", 0.6),
            _L(CLAP, "........X......."),
            _L(CLOSED_HAT, "xxxxxxxxxxxxxxxx", 0.3),
            _L(OPEN_HAT, "......o.......o.", 0.7),
        ),
        drum_voice="tr808",
        drum_kit_program=25,
        hat_rolls=True,
        humanise_ms=0,
        velocity_spread=10,
        bass="kick",
        bass_octave_low=28,
        comp="pluck",
        pad="sustain",
        lead_density=0.4,
        lead_center=79,
        risers=True,
        sections=SONG,
        voices={"synth-bass": "bass_808", "synth-pad": "warm_pad", "bass": "bass_808", "bells": "fm_bells"},
        programs={"bells": 10, "piano": 0, "synth-bass": 38},
    )
)

SYNTHWAVE = _add(
    GenreProfile(
        "synthwave",
        progressions=("i VI III V", "i VI VII V", "i iv VI V", "i VII VI V"),
        major_progressions=("I vi IV V", "I IV vi V", "I iii IV V", "I IV I V"),
        drum_style="four_on_floor",
        drums=(
            _L(KICK, "x...x...x...x..."),
            _L(SNARE, "....X.......X..."),
            _L(CLOSED_HAT, "x.x.x.x.x.x.x.x.", 0.25),
            _L(CLOSED_HAT, ".o.o.o.o.o.o.o.o", 0.75),
        ),
        drum_voice="edrums",
        humanise_ms=0,
        velocity_spread=6,
        bass="eighths",
        comp="arp",
        pad="sustain",
        lead_density=0.45,
        lead_center=74,
        lead_legato=1.0,
        risers=True,
        sections=SONG,
        voices={"synth-lead": "supersaw", "synth-bass": "analog_bass", "synth-pad": "pwm_pad"},
        programs={"synth-lead": 81, "synth-pad": 89, "synth-bass": 39},
    )
)

HOUSE = _add(
    GenreProfile(
        "house",
        progressions=("i7 iv7 v7 V7", "i7 VI7 iv7 V7", "i7 i7 iv7 V7"),
        major_progressions=("I7 IV7 vi7 V7", "I7 vi7 IV7 V7", "I7 I7 IV7 V7"),
        chord_size=4,
        drum_style="four_on_floor",
        drums=(
            _L(KICK, "x...x...x...x..."),
            _L(CLAP, "....x.......x...", 0.35),
            _L(OPEN_HAT, "..x...x...x...x.", 0.3),
            _L(CLOSED_HAT, "o.o.o.o.o.o.o.o.", 0.6),
            _L(SHAKER, "oooooooooooooooo", 0.75),
        ),
        drum_voice="tr909",
        drum_kit_program=24,
        humanise_ms=0,
        velocity_spread=6,
        bass="offbeat",
        comp="stabs",
        pad="sustain",
        lead_density=0.35,
        lead_center=72,
        risers=True,
        sections=CLUB,
        voices=SYNTH_VOICES_CLUB,
        programs={"piano": 0, "synth-lead": 81, "synth-pad": 89},
    )
)

TECHNO = _add(
    GenreProfile(
        "techno",
        progressions=("i i i V", "i i VI V", "i i iv V"),
        bars_per_chord=2.0,
        cadence="modal",
        drum_style="four_on_floor",
        drums=(
            _L(KICK, "X...X...X...X..."),
            _L(OPEN_HAT, "..x...x...x...x.", 0.35),
            _L(CLOSED_HAT, "xoxxxoxxxoxxxoxx", 0.55),
            _L(CLAP, "....x.......x...", 0.7),
            _L(RIM, "...o..o....o..o.", 0.5),
        ),
        drum_voice="tr909",
        drum_kit_program=24,
        humanise_ms=0,
        velocity_spread=4,
        bass="sixteenths",
        comp="stabs",
        pad="swell",
        lead_density=0.55,
        lead_center=67,
        lead_legato=0.5,
        risers=True,
        sections=CLUB,
        voices={"synth-lead": "supersaw", "synth-bass": "analog_bass", "synth-pad": "warm_pad"},
    )
)

DNB = _add(
    GenreProfile(
        "drum-and-bass",
        progressions=("i i VI V", "i VI iv V", "i iv i V"),
        bars_per_chord=2.0,
        drum_style="breakbeat",
        drums=(
            # A two-bar break: two-step kick, the second bar's kick and ghost snares shuffled like a chopped Amen.
            _L(KICK, "x.........x.....x.x.......xx...."),
            _L(SNARE, "....X.......X..."),
            _L(CLOSED_HAT, "x.x.x.x.x.x.x.x.", 0.3),
            _L(SNARE, ".......g.g....g....g..g.g.....gg", 0.6),
            _L(KICK, ".......o........", 0.7),
            _L(RIDE, "x...x...x...x...", 0.85),
        ),
        drum_voice="kit_black_pearl",
        humanise_ms=0,
        velocity_spread=8,
        bass="sub",
        comp="block",
        pad="sustain",
        lead_density=0.3,
        lead_center=76,
        risers=True,
        sections=CLUB,
        voices={"synth-lead": "supersaw", "synth-bass": "reese_bass", "synth-pad": "warm_pad"},
    )
)

AMBIENT = _add(
    GenreProfile(
        "ambient",
        tonic_drone=True,
        progressions=("I IV I V", "I ii I V", "I vi IV V", "I I IV V"),
        chord_size=4,
        bars_per_chord=2.0,
        cadence="authentic",
        drum_style="none",
        drums=(),
        humanise_ms=15,
        velocity_spread=10,
        bass="sustain",
        comp="pulse",
        pad="swell",
        lead_density=0.15,
        lead_center=79,
        lead_legato=1.0,
        sections=DRIFT,
        phrase_bars=4,
        voices={"synth-pad": "warm_pad", "synth-bass": "analog_bass", "bells": "fm_bells"},
        programs={"bells": 10, "synth-pad": 89},
    )
)

CINEMATIC = _add(
    GenreProfile(
        "cinematic",
        progressions=("i VI III V", "i iv VI V", "i VI iv V", "i III VII V"),
        major_progressions=("I vi IV V", "I IV vi V", "I IV I V", "I vi ii V"),
        chord_size=4,
        drum_style="orchestral",
        drums=(
            _L(KICK_AC, "x.......x.x.....", 0.5),
            _L(TOM_LOW, "x..x..x.x..x..x.", 0.65),
            _L(TOM_FLOOR, "......x.......x.", 0.8),
            _L(SNARE, "....x.......x...", 0.9),
        ),
        drum_kit_program=48,
        humanise_ms=8,
        velocity_spread=10,
        bass="sustain",
        bass_octave_low=43,  # cello roots in its singing octave: low fundamentals are weak, their fifths loud
        comp="ostinato",
        pad="swell",
        lead_density=0.3,
        lead_center=64,
        lead_legato=1.0,
        risers=True,
        sections=SCORE,
        programs={"strings": 48, "cello": 42, "choir": 52, "brass": 61},
    )
)

_add(
    replace(
        AMBIENT,
        name="classical",
        tonic_drone=False,
        bass_octave_low=43,  # the cello an octave up: its low fundamentals are weak, its fifths loud
        progressions=("I IV V I", "I vi IV V", "i iv V i", "I ii V I"),
        chord_size=3,
        bars_per_chord=1.0,
        comp="pulse",
        pad="sustain",
        lead_density=0.45,
        lead_center=76,
        humanise_ms=10,
        sections=DRIFT,
        voices={},
        programs={"strings": 48, "violin": 40, "cello": 42},
    )
)

POP = _add(
    GenreProfile(
        "pop",
        progressions=("I V vi IV V", "I vi IV V", "I vi ii V", "I IV vi V"),
        drum_style="backbeat",
        drums=(
            _L(KICK, "x.....x.x......."),
            _L(SNARE, "....X.......X..."),
            _L(CLAP, "....x.......x...", 0.7),
            _L(CLOSED_HAT, "x.x.x.x.x.x.x.x.", 0.3),
            _L(CLOSED_HAT, ".o.o.o.o.o.o.o.o", 0.8),
        ),
        drum_voice="kit_black_pearl",
        humanise_ms=2,
        velocity_spread=8,
        bass="kick",
        comp="block",
        pad="sustain",
        lead_density=0.5,
        lead_center=74,
        risers=True,
        sections=SONG,
        voices={"synth-lead": "supersaw", "synth-pad": "warm_pad"},
        programs={"piano": 0, "synth-lead": 81},
    )
)

ROCK = _add(
    GenreProfile(
        "rock",
        drum_voice="kit_black_pearl",
        progressions=("I IV I V", "i VI VII V", "I VII IV V", "i iv VII V"),
        cadence="modal",
        drum_style="backbeat",
        drums=(
            _L(KICK, "x.......x.x....."),
            _L(SNARE, "....X.......X..."),
            _L(CLOSED_HAT, "x.x.x.x.x.x.x.x.", 0.0),
            _L(KICK, ".......x........", 0.75),
            _L(RIDE, "x.x.x.x.x.x.x.x.", 0.85),
        ),
        drum_kit_program=16,
        humanise_ms=7,
        velocity_spread=10,
        bass="eighths",
        comp="power",
        pad="sustain",
        lead_density=0.5,
        lead_center=72,
        sections=SONG,
        programs={"electric-guitar": 29, "organ": 18, "bass": 34},
    )
)

_add(
    replace(
        ROCK,
        name="metal",
        progressions=("i VI VII i", "i ii i VII", "i VI iv V"),
        drums=(
            _L(KICK, "x.x...x.x.x...x."),
            _L(KICK, "xxxxxxxxxxxxxxxx", 0.85),
            _L(SNARE, "....X.......X..."),
            _L(CLOSED_HAT, "x.x.x.x.x.x.x.x.", 0.0),
            _L(RIDE_BELL, "x...x...x...x...", 0.8),
        ),
        bass="sixteenths",
        comp="chug",
        lead_density=0.65,
        humanise_ms=4,
        programs={"electric-guitar": 30, "bass": 34},
    )
)

JAZZ = _add(
    GenreProfile(
        "jazz",
        progressions=("I7 I7 ii7 V7", "I7 vi7 ii7 V7", "I7 IV7 ii7 V7", "I7 IV7 iii7 V7"),
        chord_size=4,
        drum_style="swing",
        drums=(
            _L(RIDE, "x...x.x.x...x.x."),
            _L(PEDAL_HAT, "....x.......x..."),
            _L(KICK, "o...o...o...o...", 0.55),
            _L(SNARE, "..........g....g", 0.5),
        ),
        drum_kit_program=40,
        swing_unit=0.5,
        humanise_ms=10,
        velocity_spread=14,
        bass="walking",
        bass_octave_low=31,
        comp="jazz",
        pad="none",
        lead_density=0.6,
        lead_center=70,
        lead_legato=0.85,
        sections=HEADS,
        programs={"piano": 0, "bass": 32, "saxophone": 65},
    )
)

_add(
    GenreProfile(
        "blues",
        drum_voice="kit_red_zeppelin",
        progressions=("I7 IV7 I7 I7 IV7 IV7 I7 I7 V7 IV7 I7 V7",),
        chord_size=4,
        cadence="authentic",
        drum_style="shuffle",
        drums=(
            _L(KICK, "x.......x......."),
            _L(SNARE, "....x.......x..."),
            _L(RIDE, "x.x.x.x.x.x.x.x."),
            _L(KICK, "......o.......o.", 0.6),
        ),
        drum_kit_program=0,
        swing_unit=0.5,
        humanise_ms=9,
        velocity_spread=12,
        bass="boogie",
        comp="jazz",
        pad="sustain",
        lead_density=0.5,
        lead_center=70,
        sections=(
            ("intro", "verse", "verse", "solo", "verse", "outro"),
            ("intro", "verse", "solo", "outro"),
            ("intro", "verse", "outro"),
        ),
        phrase_bars=12,
        programs={"piano": 0, "organ": 16, "electric-guitar": 27, "bass": 33},
    )
)

FUNK = _add(
    GenreProfile(
        "funk",
        drum_voice="kit_red_zeppelin",
        progressions=("i7 i7 IV7 IV7", "i7 IV7 i7 V7", "I7 I7 IV7 V7"),
        chord_size=4,
        cadence="modal",
        drum_style="backbeat",
        drums=(
            _L(KICK, "x.x....x..x....."),
            _L(SNARE, "....X.......X..."),
            _L(SNARE, ".g.....g.g....g.", 0.4),
            _L(CLOSED_HAT, "xoxoxoxoxoxoxoxo", 0.3),
            _L(OPEN_HAT, "..............o.", 0.6),
        ),
        humanise_ms=5,
        velocity_spread=12,
        bass="funk",
        comp="stabs",
        pad="sustain",
        lead_density=0.5,
        lead_center=68,
        lead_legato=0.6,
        sections=SONG,
        programs={"electric-guitar": 28, "bass": 33, "brass": 61},
    )
)

_add(
    replace(
        HOUSE,
        name="disco",
        drum_style="four_on_floor",
        drums=(
            _L(KICK, "x...x...x...x..."),
            _L(SNARE, "....x.......x...", 0.3),
            _L(OPEN_HAT, "..x...x...x...x.", 0.3),
            _L(CLOSED_HAT, "x.x.x.x.x.x.x.x.", 0.5),
            _L(TAMBOURINE, "....x.......x...", 0.7),
        ),
        drum_voice="kit_black_pearl",
        drum_kit_program=0,
        humanise_ms=4,
        bass="octaves",
        comp="stabs",
        lead_density=0.5,
        sections=SONG,
        progressions=("i7 iv7 i7 V7", "i7 VI7 iv7 V7", "I7 vi7 ii7 V7"),
        voices={},
        programs={"strings": 48, "electric-piano": 4, "brass": 61, "bass": 33},
    )
)

_add(
    replace(
        TECHNO,
        name="trance",
        progressions=("i VI III V", "i VI VII V", "i iv VI V"),
        major_progressions=("I vi IV V", "I IV vi V", "I I IV V"),
        bars_per_chord=1.0,
        cadence="authentic",
        drums=(
            _L(KICK, "X...X...X...X..."),
            _L(OPEN_HAT, "..x...x...x...x.", 0.3),
            _L(CLAP, "....x.......x...", 0.5),
            _L(CLOSED_HAT, "oooooooooooooooo", 0.65),
        ),
        bass="offbeat",
        comp="arp",
        pad="swell",
        lead_density=0.5,
        lead_center=76,
        lead_legato=0.9,
        voices=SYNTH_VOICES_CLUB,
    )
)

_add(
    replace(
        DNB,
        name="dubstep",
        drum_voice="tr909",
        drum_kit_program=24,
        drum_style="halftime",
        drums=(
            _L(KICK, "x.........x....."),
            _L(SNARE, "........X......."),
            _L(CLOSED_HAT, "x.x.x.x.x.x.x.x.", 0.3),
            _L(KICK, "......o.......o.", 0.7),
            _L(CLOSED_HAT, ".o.o.o.o.o.o.o.o", 0.8),
        ),
        bass="wobble",
        bars_per_chord=2.0,
        voices={"synth-lead": "supersaw", "synth-bass": "wobble_bass", "synth-pad": "warm_pad"},
    )
)

_add(
    GenreProfile(
        "reggae",
        drum_voice="kit_red_zeppelin",
        progressions=("I IV I V", "i iv i V", "I I IV V"),
        drum_style="one_drop",
        drums=(
            _L(KICK, "........x......."),
            _L(RIM, "........x......."),
            _L(CLOSED_HAT, "x.x.x.x.x.x.x.x.", 0.3),
            _L(OPEN_HAT, "..............o.", 0.6),
        ),
        swing_unit=0.5,
        humanise_ms=8,
        velocity_spread=10,
        bass="one_drop",
        comp="skank",
        pad="sustain",
        lead_density=0.35,
        lead_center=72,
        sections=SONG,
        programs={"organ": 16, "electric-guitar": 27, "trumpet": 56},
    )
)

_add(
    GenreProfile(
        "latin",
        drum_voice="kit_red_zeppelin",
        progressions=("i iv i V", "i iv VII V", "i VI iv V"),
        drum_style="latin",
        drums=(
            _L(CLAVES, "x..x..x...x.x..."),  # son clave 3-2, folded into one bar
            _L(CONGA_MUTE, "x.o.x.o.x.o.x.o."),
            _L(CONGA_OPEN, "......xx......xx", 0.3),
            _L(KICK, "x......x..x.....", 0.4),
            _L(SHAKER, "xoooxoooxoooxooo", 0.5),
            _L(COWBELL, "x...x...x...x...", 0.75),
        ),
        humanise_ms=7,
        velocity_spread=12,
        bass="tumbao",
        comp="montuno",
        pad="sustain",
        lead_density=0.5,
        lead_center=74,
        sections=SONG,
        programs={"acoustic-guitar": 24, "piano": 0, "trumpet": 56, "bass": 32},
    )
)

_add(
    GenreProfile(
        "folk",
        drum_voice="kit_red_zeppelin",
        progressions=("I IV I V", "I vi IV V", "I V IV I", "i VII VI V"),
        cadence="modal",
        drum_style="backbeat",
        drums=(
            _L(KICK, "x.......x......."),
            _L(TAMBOURINE, "....x.......x..."),
            _L(SHAKER, "x.x.x.x.x.x.x.x.", 0.4),
            _L(SNARE, "....o.......o...", 0.7),
        ),
        humanise_ms=10,
        velocity_spread=12,
        bass="root_fifth",
        comp="strum",
        pad="sustain",
        lead_density=0.45,
        lead_center=76,
        sections=SONG,
        programs={"acoustic-guitar": 25, "violin": 40, "strings": 49, "bass": 32},
    )
)

_add(
    GenreProfile(
        "country",
        drum_voice="kit_red_zeppelin",
        progressions=("I IV V I", "I I IV V", "I IV I V"),
        cadence="authentic",
        drum_style="train",
        drums=(_L(KICK, "x.......x......."), _L(SNARE, "ggggXgggggggXggg"), _L(CLOSED_HAT, "x.x.x.x.x.x.x.x.", 0.7)),
        drum_kit_program=40,
        swing_unit=0.5,
        humanise_ms=7,
        velocity_spread=10,
        bass="root_fifth",
        comp="strum",
        pad="sustain",
        lead_density=0.5,
        lead_center=76,
        sections=SONG,
        programs={"acoustic-guitar": 25, "violin": 40, "piano": 0, "bass": 33},
    )
)

_add(
    GenreProfile(
        "rnb",
        progressions=("i9 iv9 VII7 V7", "i9 iv9 i9 V7", "i9 VI7 iv9 V7"),
        chord_size=4,
        drum_style="backbeat",
        drums=(
            _L(KICK, "x......x.x......"),
            _L(CLAP, "....x.......x..."),
            _L(CLOSED_HAT, "x.xxx.x.x.xxx.x.", 0.3),
            _L(RIM, "...o.......o....", 0.55),
        ),
        drum_voice="tr808",
        humanise_ms=9,
        velocity_spread=12,
        bass="kick",
        comp="rhodes",
        pad="sustain",
        lead_density=0.4,
        lead_center=74,
        sections=SONG,
        voices={"synth-pad": "warm_pad", "synth-bass": "analog_bass", "electric-piano": "fm_epiano"},
        programs={"electric-piano": 4, "synth-lead": 80},
    )
)

_add(
    GenreProfile(
        "chiptune",
        progressions=("I vi IV V", "I IV I V", "i VI VII V", "I I vi V"),
        drum_style="backbeat",
        drums=(_L(KICK, "x.......x.x....."), _L(SNARE, "....x.......x..."), _L(CLOSED_HAT, "x.x.x.x.x.x.x.x.", 0.3)),
        drum_voice="chipdrums",
        humanise_ms=0,
        velocity_spread=0,
        bass="octaves",
        comp="arp",
        pad="none",
        lead_density=0.7,
        lead_center=76,
        lead_legato=0.8,
        sections=SONG,
        voices={"synth-lead": "square_lead", "synth-bass": "square_lead"},
        programs={"synth-lead": 80, "synth-bass": 80},
    )
)


def profile_for(genre: str) -> GenreProfile:
    return PROFILES.get(genre, PROFILES["lofi-hiphop"])
