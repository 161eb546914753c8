"""Reference tracks: what a user's audio file can lend the track, and what it cannot.

    ref = analyse_reference(Path("song.mp3"), genre="funk")   # decode, beats, key, chords, form, character
    spec, use = apply_reference(spec, ref)                     # fills only what the prompt left unsaid

One module per concern: `decode` (reading and refusing files), `beats` (tempo and beat grid),
`features` (beat-synchronous chroma and timbre), `chords`, `form`, `character`, `analysis` (the
order of those), `apply` (into the spec, with a record of what was taken and why not).
"""

from pipeline.reference.analysis import MIN_SECONDS, ReferenceAnalysis, analyse_audio, analyse_reference
from pipeline.reference.apply import ReferenceUse, apply_reference, wants_alignment, wants_match

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
