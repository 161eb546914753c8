"""Instrumentation (who plays which stem) and layering (which stems play in which section)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.compose.genres import CLUB_DRUMS, GenreProfile
from pipeline.compose.structure import section_kind
from pipeline.spec import Spec
from pipeline.styles import Style
from pipeline.vocabulary import UNRENDERABLE_INSTRUMENTS

# General MIDI programs per instrument slug (genres override some in their profile).
DEFAULT_PROGRAMS: dict[str, int] = {
    "piano": 0,
    "electric-piano": 4,
    "organ": 16,
    "acoustic-guitar": 25,
    "electric-guitar": 27,
    "bass": 33,
    "synth-bass": 38,
    "strings": 48,
    "violin": 40,
    "cello": 42,
    "brass": 61,
    "trumpet": 56,
    "saxophone": 65,
    "flute": 73,
    "choir": 52,
    "synth-lead": 81,
    "synth-pad": 89,
    "bells": 14,
    "harp": 46,
    "marimba": 12,
    "drums": 0,
}
# Programs the built-in synth voices stand for when the MIDI file is opened elsewhere.
_VOICE_PROGRAMS = {
    "supersaw": 81,
    "square_lead": 80,
    "analog_bass": 38,
    "bass_808": 38,
    "wobble_bass": 39,
    "warm_pad": 89,
}
# Where a requested instrument goes, best role first.
PREFERRED_ROLES: dict[str, tuple[str, ...]] = {
    "piano": ("harmony", "pad", "lead"),
    "electric-piano": ("harmony", "pad"),
    "organ": ("pad", "harmony"),
    "acoustic-guitar": ("harmony", "pad"),
    "electric-guitar": ("harmony", "lead"),
    "bass": ("bass",),
    "synth-bass": ("bass",),
    "drums": ("drums",),
    "strings": ("pad", "harmony"),
    "violin": ("lead", "pad"),
    "cello": ("pad", "harmony", "bass"),
    "brass": ("lead", "pad"),
    "trumpet": ("lead",),
    "saxophone": ("lead",),
    "flute": ("lead",),
    "choir": ("pad",),
    "synth-lead": ("lead", "harmony"),
    "synth-pad": ("pad", "harmony"),
    "bells": ("lead", "harmony"),
    "harp": ("harmony", "lead"),
    "marimba": ("harmony", "lead"),
}
# Who stands in when a role's instrument is excluded (roles not listed are dropped).
SUBSTITUTES: dict[str, tuple[str, ...]] = {
    "harmony": (
        "piano",
        "electric-piano",
        "acoustic-guitar",
        "electric-guitar",
        "organ",
        "synth-pad",
        "strings",
        "harp",
        "marimba",
    ),
    "pad": ("synth-pad", "strings", "organ", "choir", "electric-piano"),
    "lead": ("synth-lead", "piano", "flute", "violin", "bells", "saxophone", "trumpet", "electric-guitar"),
}
_PAN = {"drums": 0.0, "bass": 0.0, "harmony": -0.3, "pad": 0.3, "lead": 0.12, "fx": 0.0}

# Which roles play in each kind of section (drums and bass also need the section's energy).
_LAYERS: dict[str, frozenset[str]] = {
    "intro": frozenset({"harmony", "pad"}),
    "verse": frozenset({"drums", "bass", "harmony", "lead"}),
    "prechorus": frozenset({"drums", "bass", "harmony", "pad", "lead"}),
    "build": frozenset({"drums", "bass", "harmony", "pad", "lead"}),
    "bridge": frozenset({"bass", "harmony", "pad", "lead"}),
    "breakdown": frozenset({"harmony", "pad", "lead"}),
    "theme": frozenset({"bass", "harmony", "pad", "lead"}),
    "development": frozenset({"drums", "bass", "harmony", "pad", "lead"}),
    "outro": frozenset({"drums", "bass", "harmony", "pad"}),
}
_FULL = frozenset({"drums", "bass", "harmony", "pad", "lead"})


@dataclass(frozen=True)
class Player:
    role: str
    instrument: str
    program: int
    voice: str
    is_drum: bool
    pan: float


def choose_band(spec: Spec, style: Style, profile: GenreProfile) -> dict[str, str]:
    """role -> instrument slug: the genre's band, with requested instruments placed and excluded ones replaced."""
    band = dict(style.band)
    excluded = set(spec.exclude_values)
    claimed: set[str] = set()
    for item in spec.instruments:
        slug = item.value
        if (
            item.source == "default"
            or slug in UNRENDERABLE_INSTRUMENTS
            or slug in excluded
            or slug not in PREFERRED_ROLES
        ):
            continue
        already = [role for role, inst in band.items() if inst == slug and role not in claimed]
        if already:
            claimed.add(already[0])
            continue
        role = next((r for r in PREFERRED_ROLES[slug] if r not in claimed), None)
        if role is not None:
            band[role] = slug
            claimed.add(role)
    for role, slug in list(band.items()):
        if slug not in excluded and not (role == "drums" and "drums" in excluded):
            continue
        if role == "bass" and slug == "synth-bass" and "bass" not in excluded:
            band[role] = "bass"
            continue
        used = set(band.values())
        stand_in = next((s for s in SUBSTITUTES.get(role, ()) if s not in excluded and s not in used), None)
        stand_in = stand_in or next((s for s in SUBSTITUTES.get(role, ()) if s not in excluded), None)
        if stand_in is None:
            del band[role]
        else:
            band[role] = stand_in
    if (
        profile.pad == "none"
        and "pad" in band
        and band["pad"] not in [i.value for i in spec.instruments if i.source != "default"]
    ):
        del band["pad"]
    return band


def player_for(role: str, slug: str, profile: GenreProfile) -> Player:
    if role == "drums":
        program = profile.drum_kit_program
        if profile.drum_voice == "edrums":
            program = 25 if profile.name == "trap" else 24  # TR-808 / Electronic kits for other players
        return Player(role, "drums", program, profile.drum_voice, True, _PAN[role])
    voice = profile.voices.get(slug, "sf2")
    if role == "harmony" and voice == "warm_pad" and profile.comp in ("arp", "stabs", "pluck"):
        voice = "supersaw"  # arps and stabs need an attack a pad does not have
    if role == "harmony" and profile.comp == "pulse" and voice == "warm_pad":
        voice = "sf2"  # a pulse needs onsets: the new-age pad below has a bell attack
    if role != "bass" and voice in ("bass_808", "analog_bass", "wobble_bass"):
        voice = "sf2"
    program = _VOICE_PROGRAMS.get(voice, profile.programs.get(slug, DEFAULT_PROGRAMS.get(slug, 0)))
    if voice == "sf2":
        program = profile.programs.get(slug, DEFAULT_PROGRAMS.get(slug, 0))
        if profile.name == "ambient" and role == "harmony" and slug == "synth-pad":
            program = 88  # the new-age pad's bell attack makes the arpeggio's pulse audible
    return Player(role, slug, program, voice, False, _PAN[role])


def fx_player() -> Player:
    # GM 119 is the reverse cymbal: a riser that swells into the next section.
    return Player("fx", "fx", 119, "sf2", False, _PAN["fx"])


def plays(role: str, section_name: str, energy: float, profile: GenreProfile) -> bool:
    kind = section_kind(section_name)
    if role == "pad" and kind == "verse":
        return energy >= 0.5  # the pad joins a verse only when it is already full
    if role == "drums" and not profile.drums:
        return kind not in ("intro", "outro", "breakdown")  # drums asked for in a drumless genre
    if role == "bass" and kind == "outro" and not profile.drums:
        return False  # a drumless piece thins to its chords; the bass returns for the final tonic
    if role in _LAYERS.get(kind, _FULL):
        return True
    if role == "drums" and kind in ("bridge", "theme"):
        return energy >= 0.5
    # DJ-friendly intros in club genres: the beat comes first, the bass joins a little later (bass.bass_part).
    return kind == "intro" and role in ("drums", "bass") and profile.drum_style in CLUB_DRUMS
