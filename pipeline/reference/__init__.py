"""Reference tracks: what a user's audio file can lend the track, and what it cannot.

    ref = analyse_reference(Path("song.mp3"), genre="funk")   # decode, beats, key, chords, form, character
    spec, use = apply_reference(spec, ref)                     # fills only what the prompt left unsaid

One module per concern: `decode` (reading and refusing files), `beats` (tempo and beat grid),
`features` (beat-synchronous chroma and timbre), `chords`, `form`, `character`, `analysis` (the
order of those), `apply` (into the spec, with a record of what was taken and why not), `words`
(the prompt words for matching and lining up).
"""

from __future__ import annotations

from typing import Any

from pipeline.reference.words import wants_alignment, wants_match

# The analysis pulls in scipy and librosa: loaded on first use, so reading the words above stays cheap.
_LAZY = {
    "MIN_SECONDS": "pipeline.reference.analysis",
    "ReferenceAnalysis": "pipeline.reference.analysis",
    "analyse_audio": "pipeline.reference.analysis",
    "analyse_reference": "pipeline.reference.analysis",
    "ReferenceUse": "pipeline.reference.apply",
    "apply_reference": "pipeline.reference.apply",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = [
    "MIN_SECONDS",
    "ReferenceAnalysis",
    "ReferenceUse",
    "analyse_audio",
    "analyse_reference",
    "apply_reference",
    "wants_alignment",
    "wants_match",
]
