"""The renderer: an Arrangement becomes one dry stereo stem per role.

    render_stems(arrangement, soundfont=find_soundfont(), sample_rate=44100, workers=2)
        -> {"drums": float32 (2, n), "bass": ..., ...}

Tracks play from a General MIDI SoundFont (voice "sf2") or from the built-in synth voices
(pipeline.render.synths, pipeline.render.drums). Every note starts on its exact sample.

The SoundFont is parsed once per process (~0.3-0.6 s and ~300 MB for FluidR3_GM) and reused by every
render until `render_stems(..., keep_soundfont=False)` (or release_soundfont()) frees it; the job
settings choose (AMPA_KEEP_SOUNDFONT_LOADED). `spool=FOLDER` renders the stems into files mapped only
while read (pipeline.spool).
"""

from pipeline.render.schedule import TAIL_SECONDS, stem_length
from pipeline.render.soundfont import find_soundfont, load_soundfont
from pipeline.render.stems import STEM_PEAK_DBFS, VOICES, render_stems

__all__ = [
    "STEM_PEAK_DBFS",
    "TAIL_SECONDS",
    "VOICES",
    "find_soundfont",
    "load_soundfont",
    "render_stems",
    "stem_length",
]
