"""Which sample banks this machine has: the General MIDI SoundFont and the acoustic drum kits.

The main font is MuseScore General Full (Debian `musescore-general-soundfont-lossless`, MIT): 144
piano samples, 414 string samples, rich pads. FluidR3_GM (`fluid-soundfont-gm`) is the fallback when
it is missing. The acoustic kits are the AVL Drumkits (Debian `avldrums.lv2-soundfont`, CC-BY-SA 3.0):
multi-velocity, GM-mapped SF2s with one kit at bank 0 program 0; when they are missing, drums play
from the main font's GM kit. The Hydrogen kits (Debian `hydrogen-drumkits`, WAV/FLAC layers, read by
pipeline.render.hydrogen) fall back the same way. What fell back is said in the job's report (`fallback_notes`).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from pipeline.errors import SoundFontMissing

SOUNDFONT_ENV = "AMPA_SOUNDFONT"
SF2_DIR = Path("/usr/share/sounds/sf2")
MUSESCORE_FONT = SF2_DIR / "MuseScore_General_Full.sf2"
FLUIDR3_FONT = SF2_DIR / "FluidR3_GM.sf2"
# Best first. SF3 (Ogg-compressed) fonts are never picked: MuseScore's takes ~19 s to decompress.
DEFAULT_SOUNDFONTS: tuple[Path, ...] = (MUSESCORE_FONT, FLUIDR3_FONT, SF2_DIR / "default-GM.sf2")
SOUNDFONT_GLOBS: tuple[str, ...] = ("/usr/share/soundfonts/*.sf2",)
INSTALL_HINT = (
    "Install a General MIDI SoundFont with `apt-get install fluid-soundfont-gm`, "
    f"or set {SOUNDFONT_ENV} to the path of a .sf2 file."
)

# Acoustic kits: voice name -> file name; searched for in KIT_DIRS, first hit wins.
KIT_FILES: dict[str, str] = {
    "kit_black_pearl": "Black_Pearl_4_LV2.sf2",  # a Pearl Masters kit: tight, modern (rock, pop, metal)
    "kit_red_zeppelin": "Red_Zeppelin_4_LV2.sf2",  # a Ludwig kit, big and roomy (blues, funk, soul)
}
# The GM keys the AVL kits play as a drum kit (kicks, snares, toms, hats, cymbals); every other key
# (hand clap, tambourine, cowbell, latin percussion...) plays from the main font's GM kit.
KIT_KEYS = frozenset({36, 37, 38, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 55, 57, 59})
KIT_DIRS: tuple[Path, ...] = (SF2_DIR, Path("/usr/lib/lv2/avldrums.lv2"))
KIT_PACKAGE = "avldrums.lv2-soundfont"
MAIN_PACKAGE = "musescore-general-soundfont-lossless"


def problem_with(path: Path) -> str | None:
    """Why `path` cannot be a SoundFont, or None. Checks the RIFF header only (cheap)."""
    if not path.exists():
        return f"the SoundFont {path} does not exist"
    if not path.is_file():
        return f"the SoundFont path {path} is not a file"
    try:
        with path.open("rb") as fh:
            header = fh.read(12)
    except OSError as exc:
        return f"the SoundFont {path} cannot be read ({exc.strerror or exc})"
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"sfbk":
        return f"the file {path} is not a SoundFont (.sf2/.sf3): it is empty, corrupt or another format"
    return None


def find_soundfont(explicit: Path | str | None = None) -> Path:
    """The SoundFont to use: `explicit`, then $AMPA_SOUNDFONT, then MuseScore General, then FluidR3.

    A path the user named (explicitly or through the environment) must be usable: we never fall back
    silently from a SoundFont someone asked for. Raises SoundFontMissing with what to do.
    """
    for named, origin in ((explicit, "the SoundFont setting"), (os.environ.get(SOUNDFONT_ENV), SOUNDFONT_ENV)):
        if named:
            path = Path(named).expanduser()
            problem = problem_with(path)
            if problem:
                raise SoundFontMissing(f"Cannot use {origin}: {problem}. {INSTALL_HINT}")
            return path
    candidates = list(DEFAULT_SOUNDFONTS)
    for pattern in SOUNDFONT_GLOBS:
        candidates.extend(Path(p) for p in sorted(glob.glob(pattern)))
    for path in candidates:
        if problem_with(path) is None:
            return path
    raise SoundFontMissing(f"No General MIDI SoundFont was found. {INSTALL_HINT}")


def find_kit(voice: str) -> Path | None:
    """The acoustic kit's SF2 for a kit voice name (kit_black_pearl, ...), or None if not installed."""
    name = KIT_FILES.get(voice)
    if name is None:
        return None
    for folder in KIT_DIRS:
        path = folder / name
        if problem_with(path) is None:
            return path
    return None


def is_main_font(path: Path) -> bool:
    return path.name == MUSESCORE_FONT.name


def fallback_notes(soundfont: Path, voices: set[str]) -> list[str]:
    """Plain sentences for report.json: which sample banks this render lacked and what played instead.

    `voices` are the track voices of the arrangement (sf2, kit_black_pearl, supersaw, ...).
    """
    notes = []
    if "sf2" in voices and not is_main_font(soundfont):
        notes.append(
            f"The instruments played from {soundfont.name} because MuseScore General Full is not installed "
            f"(`apt-get install {MAIN_PACKAGE}` gives richer pianos, strings and pads)."
        )
    missing_kits = sorted(v for v in voices if v in KIT_FILES and find_kit(v) is None)
    if missing_kits:
        notes.append(
            f"The acoustic drum kit{'s' if len(missing_kits) > 1 else ''} "
            f"({', '.join(k.removeprefix('kit_').replace('_', ' ') for k in missing_kits)}) "
            f"{'are' if len(missing_kits) > 1 else 'is'} not installed, so the drums played from "
            f"{soundfont.name}'s General MIDI kit (`apt-get install {KIT_PACKAGE}` adds them)."
        )
    from pipeline.render.hydrogen import HYDROGEN_KITS, HYDROGEN_PACKAGE, find_hydrogen_kit

    missing_h2 = sorted(v for v in voices if v in HYDROGEN_KITS and find_hydrogen_kit(v) is None)
    if missing_h2:
        names = ", ".join(HYDROGEN_KITS[v].title for v in missing_h2)
        notes.append(
            f"The sampled drum kit{'s' if len(missing_h2) > 1 else ''} ({names}) "
            f"{'are' if len(missing_h2) > 1 else 'is'} not installed, so the drums played from "
            f"{soundfont.name}'s General MIDI kit (`apt-get install {HYDROGEN_PACKAGE}` adds "
            f"{'them' if len(missing_h2) > 1 else 'it'})."
        )
    return notes
