"""The renderer: an Arrangement becomes one dry stereo stem per role.

    render_stems(arrangement, soundfont=find_soundfont(), sample_rate=44100, workers=2)
        -> {"drums": float32 (2, n), "bass": ..., ...}

Tracks play from SoundFonts through FluidSynth (voice "sf2": the General MIDI font, MuseScore General
with FluidR3 as the fallback; "kit_*": the acoustic AVL drum kits) or from the built-in synth and drum
voices (pipeline.render.synths, pipeline.render.drums). Every note starts on its exact sample.
`fallback_notes` says, for report.json, which sample banks were missing and what played instead.
`spool=FOLDER` renders the stems into files mapped only while read (pipeline.spool).
"""

from pipeline.render.fonts import fallback_notes, find_kit, find_soundfont
from pipeline.render.schedule import TAIL_SECONDS, stem_length
from pipeline.render.stems import STEM_PEAK_DBFS, VOICES, render_stems

__all__ = [
    "STEM_PEAK_DBFS",
    "TAIL_SECONDS",
    "VOICES",
    "fallback_notes",
    "find_kit",
    "find_soundfont",
    "render_stems",
    "stem_length",
]
