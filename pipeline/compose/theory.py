"""Scales, chords and voicings: the small amount of music theory every other module needs.

Chords are written as roman numerals relative to the key's mode ("i VI iv V7"). Numerals are
diatonic to the mode, with one deliberate exception that makes the key audible: in a minor key an
upper-case "V" gets its third raised (the leading tone), so minor keys cadence V–i the way
listeners and key estimators expect. Only in minor: in dorian and mixolydian the minor v is the
mode's own colour, and a leading tone there turns the piece into the parallel major (a cinematic
D dorian was heard as D major for its C#s).
"""

from __future__ import annotations

from dataclasses import dataclass

# Semitone steps of each mode from its tonic.
MODE_SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
}
# Modes whose tonic triad is minor: the "minor family" (QA treats them as one family too).
MINOR_FAMILY = frozenset({"minor", "dorian", "phrygian"})

_NUMERALS = {"i": 0, "ii": 1, "iii": 2, "iv": 3, "v": 4, "vi": 5, "vii": 6}


@dataclass(frozen=True)
class Chord:
    """One chord of a progression: its scale degree and its pitch classes (root first)."""

    degree: int  # 0..6 within the mode
    root_pc: int  # absolute pitch class 0..11
    pcs: tuple[int, ...]  # absolute pitch classes, root, third, fifth[, seventh[, ninth]]
    symbol: str  # the numeral it was written as

    @property
    def is_tonic(self) -> bool:
        return self.degree == 0


@dataclass(frozen=True)
class Scale:
    tonic_pc: int
    mode: str

    @property
    def steps(self) -> tuple[int, ...]:
        return MODE_SCALES[self.mode]

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.tonic_pc + s) % 12 for s in self.steps)

    @property
    def leading_tone_pc(self) -> int:
        return (self.tonic_pc + 11) % 12

    def degree_pc(self, degree: int) -> int:
        return (self.tonic_pc + self.steps[degree % 7]) % 12

    def pitch(self, degree: int, octave_base: int) -> int:
        """MIDI pitch of a scale degree (any integer, may exceed 0..6) counted from `octave_base`,
        the MIDI note of the tonic in the reference octave."""
        octave, step = divmod(degree, 7)
        return octave_base + 12 * octave + self.steps[step]

    def degree_of(self, pitch: int, octave_base: int) -> int:
        """Nearest scale degree (integer, octave-aware) at or below `pitch`."""
        rel = pitch - octave_base
        octave, semis = divmod(rel, 12)
        best = max(i for i, s in enumerate(self.steps) if s <= semis)
        return octave * 7 + best

    def chord(self, symbol: str) -> Chord:
        return parse_chord(symbol, self)


def parse_chord(symbol: str, scale: Scale) -> Chord:
    """'i', 'VI', 'V7', 'iv9', 'ii7' -> Chord. Extensions: 7 (seventh), 9 (seventh + ninth)."""
    text = symbol.strip()
    ext = ""
    while text and text[-1].isdigit():
        ext = text[-1] + ext
        text = text[:-1]
    numeral = text.lower()
    if numeral not in _NUMERALS:
        raise ValueError(f"not a chord numeral: {symbol!r}")
    degree = _NUMERALS[numeral]
    if not ext and _is_diminished(scale, degree):
        # A progression written for one mode can land on a diminished triad in another (minor's VII
        # in major, dorian's vi): take the chord a third above, which shares two of its notes.
        # Seventh chords keep their half-diminished colour (ii7 in minor is idiomatic).
        degree = (degree + 2) % 7
    stack = [degree, degree + 2, degree + 4]
    if ext in ("7", "9"):
        stack.append(degree + 6)
    if ext == "9":
        stack.append(degree + 8)
    pcs = [scale.degree_pc(d) for d in stack]
    root = pcs[0]
    if text == "V" and scale.mode == "minor" and (pcs[1] - root) % 12 == 3:
        # Raised third on the dominant: the leading tone that names the tonic.
        pcs[1] = (root + 4) % 12
    return Chord(degree=degree, root_pc=root, pcs=tuple(pcs), symbol=symbol)


def _is_diminished(scale: Scale, degree: int) -> bool:
    root, third, fifth = (scale.degree_pc(degree + i) for i in (0, 2, 4))
    return (third - root) % 12 == 3 and (fifth - root) % 12 == 6


def place(pc: int, low: int) -> int:
    """The lowest MIDI pitch of pitch class `pc` at or above `low`."""
    return low + (pc - low) % 12


def voicings(chord: Chord, low: int, high: int, size: int) -> list[tuple[int, ...]]:
    """Close-position voicings of `chord` (every inversion, every octave) fitting in [low, high]."""
    pcs = list(chord.pcs[:size]) if len(chord.pcs) >= size else list(chord.pcs) + [chord.pcs[0]]
    out: list[tuple[int, ...]] = []
    for inversion in range(len(pcs)):
        order = pcs[inversion:] + pcs[:inversion]
        for base in range(low, low + 12):
            if base % 12 != order[0]:
                continue
            notes = [base]
            for pc in order[1:]:
                notes.append(place(pc, notes[-1] + 1))
            while notes[-1] <= high:
                out.append(tuple(notes))
                notes = [n + 12 for n in notes]
    return out


def lead_voices(
    previous: tuple[int, ...] | None, chord: Chord, low: int, high: int, size: int, center: int
) -> tuple[int, ...]:
    """Pick the inversion that moves least from the previous voicing (smooth voice leading);
    the first chord sits nearest `center`."""
    options = voicings(chord, low, high, size)
    if not options:
        options = voicings(chord, low - 12, high + 12, size)
    if previous is None or len(previous) != len(options[0]):
        return min(options, key=lambda v: (abs(sum(v) / len(v) - center), v))

    def motion(v: tuple[int, ...]) -> tuple[float, tuple[int, ...]]:
        # Total voice motion, plus a pull back to the centre (strong once it strays beyond a fourth)
        # so that a long run of smooth moves cannot walk the voicing out of its register.
        drift = abs(sum(v) / len(v) - center)
        return sum(abs(a - b) for a, b in zip(v, previous)) + 0.3 * drift + 2.0 * max(0.0, drift - 5), v

    return min(options, key=motion)


# Chord qualities a progression may name ("A:min7"), as semitones above the root.
CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
}
# Other spellings of the same qualities (Harte / MIREX and lead-sheet habits).
_QUALITY_ALIASES = {
    "": "maj",
    "major": "maj",
    "m": "min",
    "minor": "min",
    "-": "min",
    "o": "dim",
    "+": "aug",
    "dom7": "7",
    "m7": "min7",
    "-7": "min7",
    "M7": "maj7",
    "Δ": "maj7",
    "sus": "sus4",
}


def parse_chord_name(name: str, scale: Scale) -> Chord:
    """'A:min', 'F#:maj7', 'Bb:7', 'Am', 'C' (the key's spelling or any enharmonic) -> Chord.

    A quality outside CHORD_QUALITIES ('min9', 'hdim7', '11') becomes the triad its third names;
    a bass after a slash ('C:maj/3') is dropped. The chord's degree is the scale degree of its root
    (or the one just below a chromatic root), which is what the melody sequences by.
    Raises ValueError with the reason when the name has no readable root.
    """
    from pipeline.spec import normalise_tonic  # the spec's tonic spelling (a light, cycle-free import)

    text = str(name).strip().split("/")[0]
    if ":" in text:
        root_text, quality = text.split(":", 1)
    else:
        cut = 2 if len(text) > 1 and text[1] in "#b♯♭" else 1
        root_text, quality = text[:cut], text[cut:]
    try:
        root_pc = TONICS_PC[normalise_tonic(root_text)]
    except ValueError:
        raise ValueError(f"{name!r} has no root note (write ROOT:QUALITY, like 'A:min' or 'F:maj7')") from None
    quality = quality.strip()
    quality = _QUALITY_ALIASES.get(quality, _QUALITY_ALIASES.get(quality.lower(), quality.lower()))
    intervals = CHORD_QUALITIES.get(quality) or _triad_by_third(quality)
    pcs = tuple((root_pc + i) % 12 for i in intervals)
    degree = min(range(7), key=lambda d: ((root_pc - scale.degree_pc(d)) % 12, d))
    return Chord(degree=degree, root_pc=root_pc, pcs=pcs, symbol=f"{_PC_NAMES[root_pc]}:{quality}")


def _triad_by_third(quality: str) -> tuple[int, ...]:
    minor = "min" in quality or "dim" in quality or (quality.startswith("m") and not quality.startswith("maj"))
    return CHORD_QUALITIES["min" if minor else "maj"]


_PC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
TONICS_PC = {name: pc for pc, name in enumerate(_PC_NAMES)}
