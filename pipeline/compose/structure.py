"""Song form: how many bars, which sections, and how full each one is (the energy curve)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pipeline.compose.genres import GenreProfile
from pipeline.score import Section

# How full a section is before the spec's energy scales it.
SECTION_ENERGY: dict[str, float] = {
    "intro": 0.3,
    "verse": 0.55,
    "prechorus": 0.65,
    "chorus": 0.85,
    "bridge": 0.5,
    "breakdown": 0.3,
    "build": 0.65,
    "drop": 1.0,
    "outro": 0.3,
    "main": 0.7,
    "theme": 0.5,
    "development": 0.6,
    "climax": 0.95,
    "head": 0.7,
    "solo": 0.8,
}
# Typical length of each section in bars, used as weights when the piece is shorter or longer.
_NOMINAL_BARS: dict[str, int] = {
    "intro": 8,
    "outro": 8,
    "verse": 16,
    "chorus": 16,
    "bridge": 8,
    "breakdown": 8,
    "build": 8,
    "drop": 16,
    "theme": 16,
    "development": 16,
    "climax": 16,
    "head": 16,
    "solo": 16,
    "main": 16,
    "prechorus": 8,
}
# Words a user may use for a section, mapped onto the kinds above.
_ALIASES = (
    ("pre", "prechorus"),
    ("hook", "chorus"),
    ("refrain", "chorus"),
    ("chorus", "chorus"),
    ("drop", "drop"),
    ("climax", "climax"),
    ("build", "build"),
    ("riser", "build"),
    ("break", "breakdown"),
    ("bridge", "bridge"),
    ("interlude", "bridge"),
    ("verse", "verse"),
    ("intro", "intro"),
    ("outro", "outro"),
    ("ending", "outro"),
    ("coda", "outro"),
    ("solo", "solo"),
    ("head", "head"),
    ("theme", "theme"),
    ("develop", "development"),
)


def section_kind(name: str) -> str:
    """Map any section name onto the kinds the arranger knows ('Pre-Chorus 2' -> 'prechorus')."""
    text = name.lower().replace("-", "").replace(" ", "")
    for word, kind in _ALIASES:
        if word in text:
            return kind
    return "verse"


def bar_count(duration_s: float, bar_seconds: float) -> int:
    """Whole bars nearest the asked length: the length is exact to within one bar, even for short, slow pieces."""
    return max(1, round(duration_s / bar_seconds))


def plan_sections(
    profile: GenreProfile, bars: int, energy: float, names: list[str] | None = None, moods: tuple[str, ...] = ()
) -> list[Section]:
    """Sections covering exactly `bars` bars, in phrase-sized pieces where the length allows."""
    form = tuple(names) if names else _choose_form(profile, bars)
    if bars < 5 and not names:
        # Too short for an intro and an outro: a clip of a few bars is all groove, or its thinned
        # edges leave too few full bars for the pulse to read (a 4-bar funk clip measured half time).
        form = ("main",)
    form = form[:bars]  # never more sections than bars
    if form == ("intro", "main", "outro"):
        edge = max(1, min(4, bars // 5))
        lengths = [edge, bars - 2 * edge, edge]
    else:
        lengths = _allocate(form, bars, profile.phrase_bars)
    sections: list[Section] = []
    start = 0
    for name, length in zip(form, lengths):
        if length <= 0:
            continue
        sections.append(Section(name=name, start_bar=start, bars=length, energy=section_energy(name, energy, moods)))
        start += length
    return sections


def section_energy(name: str, energy: float, moods: tuple[str, ...] = ()) -> float:
    base = SECTION_ENERGY.get(section_kind(name), 0.6)
    if "epic" in moods and section_kind(name) in ("chorus", "drop", "climax"):
        base += 0.15
    if ("calm" in moods or "sad" in moods) and base > 0.5:
        base -= 0.1
    return round(min(1.0, max(0.05, base * (0.55 + 0.9 * energy))), 3)


def _units(form: tuple[str, ...], phrase: int) -> list[int]:
    """Phrase unit of each section: whole phrases in the body, at most 4 bars at the edges."""
    return [min(phrase, 4) if section_kind(n) in ("intro", "outro") else phrase for n in form]


def _choose_form(profile: GenreProfile, bars: int) -> tuple[str, ...]:
    if bars < 12 or not profile.sections:
        return ("intro", "main", "outro")
    for number, form in enumerate(profile.sections):
        nominal = sum(_NOMINAL_BARS.get(section_kind(n), 8) for n in form)
        # Shorter forms squeeze further, so a one-minute piece still has a verse and a chorus (or a
        # breakdown); a piece under 16 bars keeps intro, main, outro, its groove most of the time.
        squeeze = 0.35 if number == len(profile.sections) - 1 else 0.45 if number else 0.55
        if bars < 16:
            squeeze = 0.55
        if bars >= squeeze * nominal and bars >= sum(_units(form, profile.phrase_bars)):
            return form
    return ("intro", "main", "outro")


def _allocate(form: tuple[str, ...], bars: int, phrase: int) -> list[int]:
    """Lengths summing exactly to `bars`: nominal proportions, whole phrases, repeated sections equal."""
    units = _units(form, phrase)
    if sum(units) > bars:
        units = [1] * len(form)
    nominal = [_NOMINAL_BARS.get(section_kind(n), 8) for n in form]
    scale = bars / sum(nominal)
    lengths = [max(u, int(n * scale / u) * u) for n, u in zip(nominal, units)]
    while sum(lengths) > bars:
        shrinkable = [i for i in range(len(form)) if lengths[i] > units[i]]
        if not shrinkable:
            break
        i = max(shrinkable, key=lambda j: (lengths[j], j))
        lengths[i] -= units[i]
    # Grow the fullest kinds first, every section of a kind together, so repeats stay the same length;
    # a quieter kind never grows longer than a fuller one (a build is not longer than its drop).
    kinds = sorted({section_kind(n) for n in form}, key=lambda k: (-SECTION_ENERGY.get(k, 0.5), k))
    grown = True
    while grown:
        grown = False
        for rank, kind in enumerate(kinds):
            members = [i for i, n in enumerate(form) if section_kind(n) == kind]
            need = sum(units[i] for i in members)
            fuller = [lengths[i] for i, n in enumerate(form) if section_kind(n) in kinds[:rank]]
            if fuller and max(lengths[i] + units[i] for i in members) > max(fuller):
                continue
            if bars - sum(lengths) >= need:
                for i in members:
                    lengths[i] += units[i]
                grown = True
    for i in sorted(range(len(form)), key=lambda j: -SECTION_ENERGY.get(section_kind(form[j]), 0.5)):
        if bars - sum(lengths) >= units[i]:
            lengths[i] += units[i]
    # What is left (less than a phrase) goes to the ends of the piece, outro first.
    leftover = bars - sum(lengths)
    if leftover:
        edges = [len(form) - 1, 0] if len(form) > 1 else [0]
        lengths[edges[0]] += leftover
    return lengths


@dataclass(frozen=True)
class FormSection:
    """One section of a form to follow (from a reference track): its kind, length and energy."""

    name: str
    bars: int
    energy: float  # 0..1, relative to the other sections


def read_form(entries: list[dict[str, Any]]) -> list[FormSection]:
    """Check a spec's `form` and read it; ValueError says what is wrong with which entry."""
    if not entries:
        raise ValueError("the form has no sections")
    form = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise ValueError(f"section {number} of the form has no name (write {{'name': 'verse', 'bars': 8}})")
        bars = entry.get("bars")
        if isinstance(bars, bool) or not isinstance(bars, (int, float)) or bars < 1 or bars != int(bars):
            raise ValueError(f"section {number} ({entry['name']}) needs a whole number of bars ≥ 1, not {bars!r}")
        energy = entry.get("energy", SECTION_ENERGY.get(section_kind(entry["name"]), 0.6))
        if isinstance(energy, bool) or not isinstance(energy, (int, float)) or not 0.0 <= energy <= 1.0:
            raise ValueError(f"section {number} ({entry['name']}) needs an energy between 0 and 1, not {energy!r}")
        form.append(FormSection(entry["name"].strip(), int(bars), float(energy)))
    return form


def fit_form(form: list[FormSection], bars: int) -> list[FormSection]:
    """The form stretched or squeezed to exactly `bars` bars, on bar lines, in proportion.

    Every section keeps at least one bar (largest remainders get the spare bars); a piece shorter
    than the form has sections keeps its first sections, one bar each.
    """
    total = sum(s.bars for s in form)
    if total == bars:
        return list(form)
    if bars < len(form):
        return [replace(s, bars=1) for s in form[:bars]]
    exact = [s.bars * bars / total for s in form]
    lengths = [max(1, int(x)) for x in exact]
    while sum(lengths) > bars:  # the minimum of one bar overdrew: take from the longest
        i = max(range(len(form)), key=lambda j: (lengths[j], -j))
        lengths[i] -= 1
    by_remainder = sorted(range(len(form)), key=lambda j: (-(exact[j] - int(exact[j])), j))
    for i in by_remainder[: max(0, bars - sum(lengths))]:
        lengths[i] += 1
    return [replace(s, bars=n) for s, n in zip(form, lengths)]


def form_energy(energy: float, spec_energy: float) -> float:
    """A form section's energy under the spec's overall energy (0.5 leaves it as the form says)."""
    return round(min(1.0, max(0.05, energy * (0.75 + 0.5 * spec_energy))), 3)
