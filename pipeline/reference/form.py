"""The reference's form: where its sections start, how many bars each lasts and how full it is.

    sections = find_sections(features, beats_per_bar=4, genre="house")
    # [Section(name="intro", start_bar=0, bars=4, energy=0.3), ...]

Bar-synchronous features (chroma, a coarse log spectrum, loudness), each standardised, make a
bar-by-bar self-similarity matrix; a checkerboard kernel slid along its diagonal (Foote's novelty)
peaks where one homogeneous stretch gives way to another. Peaks at least two bars apart and clearly
above the novelty's typical level become boundaries. Names come from position and relative energy,
as a producer would label a track on first listen: a quiet first section is the intro, a quiet
last one the outro, the loudest ones the chorus (the drop in club genres), a quiet one inside the
breakdown (the bridge in song genres), the section rising into a drop the build, the rest verses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from pipeline.reference.features import BeatFeatures

_KERNEL_BARS = 4
_MIN_BARS = 2
# A boundary's novelty must rise this share of the way from the typical level to the strongest peak.
PEAK_SHARE = 0.1
CLUB_GENRES = {"house", "techno", "trance", "drum-and-bass", "dubstep", "trap", "synthwave"}


@dataclass(frozen=True)
class FormSection:
    name: str
    start_bar: int
    bars: int
    energy: float  # 0..1, relative to the loudest section

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bar_matrix(features: BeatFeatures, beats_per_bar: int) -> tuple[np.ndarray, np.ndarray]:
    """(bars, dims) standardised features and (bars,) loudness in dB, over whole bars only."""
    bars = features.treble.shape[1] // beats_per_bar
    n = bars * beats_per_bar

    def per_bar(x: np.ndarray) -> np.ndarray:
        return x[:, :n].reshape(x.shape[0], bars, beats_per_bar).mean(axis=2)

    # A section's chords change bar by bar, so its harmony is the chroma of its loop: averaged over
    # four bars it is alike within a section and different across.
    from scipy.ndimage import uniform_filter1d

    chroma = uniform_filter1d(per_bar(features.treble), size=2, axis=1, mode="nearest")
    chroma = chroma / np.maximum(chroma.max(axis=0, keepdims=True), 1e-9)
    timbre = per_bar(features.timbre)
    loud = per_bar(features.loudness_db[None, :])
    busy = per_bar(features.onsets[None, :])
    groups = []
    for block, weight in (
        (chroma, 0.5),
        (timbre, 1.0),
        (loud, 1.0),
        (busy, 1.0),
    ):  # each group weighs as one, whatever its size
        block = block.T
        block = (block - block.mean(axis=0)) / np.maximum(block.std(axis=0), 1e-6)
        groups.append(block * weight / np.sqrt(block.shape[1]))
    return np.hstack(groups), loud[0]


def novelty(matrix: np.ndarray, half: int = _KERNEL_BARS) -> np.ndarray:
    """Foote novelty per bar boundary (index i = boundary before bar i), edges handled by a partial kernel."""
    norms = np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
    unit = matrix / norms
    ssm = unit @ unit.T
    bars = ssm.shape[0]
    out = np.zeros(bars + 1)
    for i in range(1, bars):
        lo, hi = max(0, i - half), min(bars, i + half)
        past, future = ssm[lo:i, lo:i], ssm[i:hi, i:hi]
        cross = ssm[lo:i, i:hi]
        within = (past.mean() + future.mean()) / 2
        out[i] = within - cross.mean()
    return out


def find_boundaries(curve: np.ndarray) -> list[int]:
    """Bar indices where a new section starts: peaks ≥ MIN_BARS apart, above the typical novelty."""
    bars = curve.size - 1
    inner = curve[1:bars]
    if inner.size == 0:
        return []
    threshold = np.median(inner) + PEAK_SHARE * (inner.max() - np.median(inner))
    peaks = [
        i
        for i in range(1, bars)
        if curve[i] >= threshold and curve[i] == curve[max(1, i - _MIN_BARS) : min(bars, i + _MIN_BARS + 1)].max()
    ]
    chosen: list[int] = []
    for i in sorted(peaks, key=lambda i: -curve[i]):
        if all(abs(i - j) >= _MIN_BARS for j in chosen) and _MIN_BARS <= i <= bars - _MIN_BARS:
            chosen.append(i)
    return sorted(chosen)


def find_sections(features: BeatFeatures, beats_per_bar: int, genre: str | None = None) -> list[FormSection]:
    matrix, loud = bar_matrix(features, beats_per_bar)
    bars = matrix.shape[0]
    if bars < 2 * _MIN_BARS:
        return [FormSection(name="main", start_bar=0, bars=max(bars, 0), energy=1.0)] if bars else []
    starts = [0, *find_boundaries(novelty(matrix)), bars]
    levels = [float(np.mean(loud[a:b])) for a, b in zip(starts, starts[1:])]
    top = max(levels)
    energies = [round(float(np.clip(1.0 + (level - top) / 15.0, 0.05, 1.0)), 2) for level in levels]
    names = name_sections(energies, club=genre in CLUB_GENRES)
    return [
        FormSection(name=name, start_bar=a, bars=b - a, energy=e)
        for name, a, b, e in zip(names, starts, starts[1:], energies)
    ]


def name_sections(energies: list[float], *, club: bool = False) -> list[str]:
    """Section kinds (from pipeline.compose.structure.SECTION_ENERGY) by position and relative energy."""
    count = len(energies)
    if count == 1:
        return ["main"]
    high = max(energies)
    low = min(energies)
    spread = high - low
    peak_name = "drop" if club else "chorus"
    quiet_name = "breakdown" if club else "bridge"
    names = []
    for i, energy in enumerate(energies):
        relative = (energy - low) / spread if spread > 0.05 else 0.5
        if i == 0 and (relative < 0.5 or count > 2):
            names.append("intro" if relative < 0.75 else peak_name)
        elif i == count - 1 and relative < 0.5:
            names.append("outro")
        elif relative >= 0.8:
            names.append(peak_name)
        elif relative <= 0.35 and 0 < i < count - 1:
            names.append(quiet_name)
        elif club and i + 1 < count and energies[i + 1] >= high - 0.05 and relative < 0.8:
            names.append("build")
        else:
            names.append("verse")
    return names
