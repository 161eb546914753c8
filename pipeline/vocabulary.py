"""The canonical labels ampa speaks: genres, moods and instruments.

These slugs are the contract with the prompt parser, the composer and the bots
(they match the shared evaluation vocabulary). Anything outside them is either
normalised onto them or reported back to the user as unsupported.
"""

from __future__ import annotations

GENRES: tuple[str, ...] = (
    "lofi-hiphop",
    "hip-hop",
    "trap",
    "synthwave",
    "house",
    "techno",
    "trance",
    "drum-and-bass",
    "dubstep",
    "ambient",
    "cinematic",
    "classical",
    "pop",
    "rock",
    "metal",
    "jazz",
    "blues",
    "funk",
    "disco",
    "reggae",
    "latin",
    "folk",
    "country",
    "rnb",
    "chiptune",
)

MOODS: tuple[str, ...] = (
    "happy",
    "sad",
    "dark",
    "calm",
    "energetic",
    "epic",
    "romantic",
    "mysterious",
    "dreamy",
    "aggressive",
    "uplifting",
    "melancholic",
    "nostalgic",
    "tense",
    "playful",
    "chill",
)

INSTRUMENTS: tuple[str, ...] = (
    "piano",
    "electric-piano",
    "organ",
    "acoustic-guitar",
    "electric-guitar",
    "bass",
    "synth-bass",
    "drums",
    "strings",
    "violin",
    "cello",
    "brass",
    "trumpet",
    "saxophone",
    "flute",
    "choir",
    "synth-lead",
    "synth-pad",
    "bells",
    "harp",
    "marimba",
    "vocals",
)

# ampa makes instrumentals: the parser may recognise this slug, the composer never plays it.
UNRENDERABLE_INSTRUMENTS: frozenset[str] = frozenset({"vocals"})

TIME_SIGNATURES: tuple[str, ...] = ("4/4", "3/4", "6/8", "7/8", "5/4")

TONICS: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

MODES: tuple[str, ...] = ("major", "minor", "dorian", "mixolydian", "lydian", "phrygian")

# Stage names, in the order a job walks through them. Bots and the job store use these words.
STAGES: tuple[str, ...] = ("parsing", "analysing", "composing", "rendering", "mixing", "mastering", "qa")
