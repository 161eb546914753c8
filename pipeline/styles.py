"""What each genre sounds like by default: tempo range, mode, meter, feel and band.

This table is shared by `pipeline.defaults` (filling a spec where the prompt is silent) and
the composer (which adds its own per-genre pattern vocabulary on top). Roles are the stems
ampa renders; each maps to the instrument slug that plays it unless the spec says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# Roles are stems. Order is the order stems are listed in outputs.
ROLES: tuple[str, ...] = ("drums", "bass", "harmony", "pad", "lead", "fx")


def in_role_order(roles: Iterable[str]) -> list[str]:
    """`roles` in the order of ROLES (the order stems are mixed, listed and written), others after."""
    roles = list(roles)
    return [r for r in ROLES if r in roles] + [r for r in roles if r not in ROLES]


@dataclass(frozen=True)
class Style:
    genre: str
    tempo_range: tuple[float, float]
    default_tempo: float
    modes: tuple[str, ...]  # preferred modes, first is the default
    band: dict[str, str]  # role -> instrument slug
    swing: float = 0.0  # 0 = straight, 0.5 = full triplet swing of 8ths/16ths
    energy: float = 0.6  # 0..1
    meter: str = "4/4"
    drum_kit: str = "electronic"  # acoustic | electronic | 808 | brush | orchestral | chip | none
    sidechain: bool = False  # duck pads/bass under the kick
    feel: str = "straight"  # groove family for the composer
    extra: dict[str, object] = field(default_factory=dict)


def _band(**roles: str) -> dict[str, str]:
    return dict(roles)


STYLES: dict[str, Style] = {
    s.genre: s
    for s in (
        Style("lofi-hiphop", (70, 95), 84, ("minor", "dorian", "major"),
              _band(drums="drums", bass="bass", harmony="electric-piano", pad="synth-pad", lead="piano"),
              swing=0.28, energy=0.35, drum_kit="acoustic", feel="boombap"),
        Style("hip-hop", (80, 100), 90, ("minor", "dorian"),
              _band(drums="drums", bass="bass", harmony="piano", pad="choir", lead="saxophone"),
              swing=0.24, energy=0.55, drum_kit="acoustic", feel="boombap"),
        Style("trap", (130, 160), 140, ("minor", "phrygian"),
              _band(drums="drums", bass="synth-bass", harmony="piano", pad="synth-pad", lead="bells"),
              energy=0.7, drum_kit="808", feel="trap"),
        Style("synthwave", (80, 140), 110, ("minor", "dorian"),
              _band(drums="drums", bass="synth-bass", harmony="synth-pad", pad="synth-pad", lead="synth-lead"),
              energy=0.65, drum_kit="electronic", sidechain=True, feel="four_on_floor"),
        Style("house", (118, 130), 124, ("minor", "major", "dorian"),
              _band(drums="drums", bass="synth-bass", harmony="piano", pad="synth-pad", lead="synth-lead"),
              energy=0.75, drum_kit="electronic", sidechain=True, feel="four_on_floor"),
        Style("techno", (125, 140), 130, ("minor", "phrygian"),
              _band(drums="drums", bass="synth-bass", harmony="synth-pad", pad="synth-pad", lead="synth-lead"),
              energy=0.8, drum_kit="electronic", sidechain=True, feel="four_on_floor"),
        Style("trance", (128, 142), 138, ("minor",),
              _band(drums="drums", bass="synth-bass", harmony="synth-pad", pad="synth-pad", lead="synth-lead"),
              energy=0.8, drum_kit="electronic", sidechain=True, feel="four_on_floor"),
        Style("drum-and-bass", (160, 178), 174, ("minor",),
              _band(drums="drums", bass="synth-bass", harmony="synth-pad", pad="synth-pad", lead="synth-lead"),
              energy=0.85, drum_kit="electronic", sidechain=True, feel="breakbeat"),
        Style("dubstep", (138, 150), 140, ("minor", "phrygian"),
              _band(drums="drums", bass="synth-bass", harmony="synth-pad", pad="synth-pad", lead="synth-lead"),
              energy=0.85, drum_kit="electronic", sidechain=True, feel="halftime"),
        Style("ambient", (60, 90), 70, ("lydian", "major", "minor"),
              _band(bass="synth-bass", harmony="synth-pad", pad="synth-pad", lead="bells"),
              energy=0.15, drum_kit="none", feel="free"),
        Style("cinematic", (70, 120), 90, ("minor", "major"),
              _band(drums="drums", bass="cello", harmony="strings", pad="choir", lead="brass"),
              energy=0.6, drum_kit="orchestral", feel="orchestral"),
        Style("classical", (60, 120), 84, ("major", "minor"),
              _band(bass="cello", harmony="strings", lead="violin", pad="strings"),
              energy=0.4, drum_kit="none", feel="free"),
        Style("pop", (95, 128), 112, ("major", "minor"),
              _band(drums="drums", bass="bass", harmony="piano", pad="synth-pad", lead="synth-lead"),
              energy=0.65, drum_kit="electronic", sidechain=True, feel="pop"),
        Style("rock", (100, 150), 122, ("minor", "major", "mixolydian"),
              _band(drums="drums", bass="bass", harmony="electric-guitar", pad="organ", lead="electric-guitar"),
              energy=0.8, drum_kit="acoustic", feel="rock"),
        Style("metal", (110, 180), 150, ("phrygian", "minor"),
              _band(drums="drums", bass="bass", harmony="electric-guitar", lead="electric-guitar"),
              energy=0.95, drum_kit="acoustic", feel="metal"),
        Style("jazz", (90, 180), 120, ("dorian", "major", "minor"),
              _band(drums="drums", bass="bass", harmony="piano", lead="saxophone"),
              swing=0.33, energy=0.5, drum_kit="brush", feel="swing"),
        Style("blues", (70, 120), 92, ("mixolydian", "minor"),
              _band(drums="drums", bass="bass", harmony="piano", pad="organ", lead="electric-guitar"),
              swing=0.33, energy=0.5, drum_kit="acoustic", feel="shuffle"),
        Style("funk", (95, 118), 106, ("dorian", "mixolydian"),
              _band(drums="drums", bass="bass", harmony="electric-guitar", pad="electric-piano", lead="brass"),
              swing=0.12, energy=0.75, drum_kit="acoustic", feel="funk"),
        Style("disco", (110, 128), 118, ("minor", "major", "dorian"),
              _band(drums="drums", bass="bass", harmony="strings", pad="electric-piano", lead="brass"),
              energy=0.75, drum_kit="acoustic", feel="four_on_floor"),
        Style("reggae", (65, 90), 76, ("major", "minor"),
              _band(drums="drums", bass="bass", harmony="organ", pad="electric-guitar", lead="trumpet"),
              swing=0.1, energy=0.45, drum_kit="acoustic", feel="one_drop"),
        Style("latin", (90, 110), 100, ("minor", "major"),
              _band(drums="drums", bass="bass", harmony="acoustic-guitar", pad="piano", lead="trumpet"),
              energy=0.65, drum_kit="acoustic", feel="latin"),
        Style("folk", (80, 120), 96, ("major", "mixolydian", "dorian"),
              _band(drums="drums", bass="bass", harmony="acoustic-guitar", lead="violin", pad="strings"),
              energy=0.45, drum_kit="acoustic", feel="folk"),
        Style("country", (90, 130), 110, ("major", "mixolydian"),
              _band(drums="drums", bass="bass", harmony="acoustic-guitar", lead="violin", pad="piano"),
              swing=0.1, energy=0.55, drum_kit="acoustic", feel="train"),
        Style("rnb", (65, 100), 80, ("minor", "dorian", "major"),
              _band(drums="drums", bass="synth-bass", harmony="electric-piano", pad="synth-pad", lead="synth-lead"),
              swing=0.15, energy=0.45, drum_kit="electronic", feel="rnb"),
        Style("chiptune", (120, 170), 140, ("major", "minor"),
              _band(drums="drums", bass="synth-bass", harmony="synth-lead", lead="synth-lead"),
              energy=0.75, drum_kit="chip", feel="chip"),
    )
}

# When the prompt names no genre, its moods choose one (first match wins).
MOOD_DEFAULT_GENRE: dict[str, str] = {
    "chill": "lofi-hiphop",
    "melancholic": "lofi-hiphop",
    "nostalgic": "synthwave",
    "calm": "ambient",
    "dreamy": "ambient",
    "mysterious": "ambient",
    "epic": "cinematic",
    "tense": "cinematic",
    "dark": "cinematic",
    "sad": "classical",
    "aggressive": "metal",
    "energetic": "house",
    "uplifting": "trance",
    "happy": "pop",
    "playful": "chiptune",
    "romantic": "rnb",
}

DEFAULT_GENRE = "lofi-hiphop"

# How moods push the defaults: tempo factor within the genre range, energy shift, mode preference.
MOOD_TEMPO_FACTOR: dict[str, float] = {
    "calm": 0.9, "sad": 0.88, "melancholic": 0.9, "chill": 0.92, "dreamy": 0.92, "romantic": 0.92,
    "energetic": 1.08, "aggressive": 1.1, "uplifting": 1.04, "happy": 1.04, "playful": 1.04, "epic": 1.0,
}
MOOD_ENERGY_SHIFT: dict[str, float] = {
    "calm": -0.2, "sad": -0.15, "melancholic": -0.12, "chill": -0.12, "dreamy": -0.15, "romantic": -0.1,
    "energetic": 0.2, "aggressive": 0.25, "epic": 0.15, "uplifting": 0.1, "happy": 0.08, "tense": 0.05,
}
MOOD_MODE: dict[str, str] = {
    "happy": "major", "uplifting": "major", "playful": "major", "romantic": "major",
    "sad": "minor", "dark": "minor", "melancholic": "minor", "tense": "minor", "aggressive": "minor",
    "mysterious": "dorian", "dreamy": "lydian", "epic": "minor", "nostalgic": "minor",
}


def style_for(genre: str) -> Style:
    return STYLES.get(genre, STYLES[DEFAULT_GENRE])
