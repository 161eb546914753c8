"""General MIDI SoundFont rendering with TinySoundFont, scheduled to the exact sample.

tinysoundfont's own MIDI player rounds to a frame at every event and drifts (about 30 ms over three
minutes); here each track gets its own synth (a clone of one loaded SoundFont: the samples are shared),
and we render exactly the number of samples up to the next event before sending it.

TinySoundFont advances envelopes in 64-sample blocks, so a preset with any attack or delay starts one
block (1.45 ms) late. We measure that latency per preset and key once (a probe note) and send the
note-on that much earlier, so the first audible sample lands where the score says.
"""

from __future__ import annotations

import glob
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from pipeline.errors import SoundFontMissing
from pipeline.render.dsp import pan_gains
from pipeline.render.schedule import ScheduledNote, Timeline

log = logging.getLogger(__name__)

SOUNDFONT_ENV = "AMPA_SOUNDFONT"
DEFAULT_SOUNDFONTS: tuple[Path, ...] = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)
SOUNDFONT_GLOBS: tuple[str, ...] = ("/usr/share/soundfonts/*.sf2",)
INSTALL_HINT = (
    "Install a General MIDI SoundFont with `apt-get install fluid-soundfont-gm`, "
    f"or set {SOUNDFONT_ENV} to the path of a .sf2 file."
)

DRUM_BANK = 128
_DRUM_CHANNEL = 9
_MELODIC_CHANNEL = 0
_BLOCK = 64  # TinySoundFont's envelope block (TSF_RENDER_EFFECTSAMPLEBLOCK)
_MAX_LATENCY_BLOCKS = 8
_PREROLL = _BLOCK * _MAX_LATENCY_BLOCKS  # rendered before sample 0 so even a note at 0 can start early
_CHUNK = 8192  # samples rendered per call at most (a small scratch buffer, not a whole stem)


def _problem_with(path: Path) -> str | None:
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
    """The SoundFont to use: `explicit`, then $AMPA_SOUNDFONT, then the usual Debian locations.

    A path the user named (explicitly or through the environment) must be usable: we never fall back
    silently from a SoundFont someone asked for. Raises SoundFontMissing with what to do.
    """
    for named, origin in ((explicit, "the SoundFont setting"), (os.environ.get(SOUNDFONT_ENV), SOUNDFONT_ENV)):
        if named:
            path = Path(named).expanduser()
            problem = _problem_with(path)
            if problem:
                raise SoundFontMissing(f"Cannot use {origin}: {problem}. {INSTALL_HINT}")
            return path
    candidates = list(DEFAULT_SOUNDFONTS)
    for pattern in SOUNDFONT_GLOBS:
        candidates.extend(Path(p) for p in sorted(glob.glob(pattern)))
    for path in candidates:
        if _problem_with(path) is None:
            return path
    raise SoundFontMissing(f"No General MIDI SoundFont was found. {INSTALL_HINT}")


# --- loading (once per process) and cloning (once per track) --------------------------------------

_loaded: dict[tuple[str, int, int], object] = {}
_load_lock = threading.Lock()


def load_soundfont(path: Path) -> object:
    """The parsed SoundFont for `path`, loaded once per process and shared (read-only) by every clone.

    Keyed by path, size and modification time, so replacing the file reloads it.
    """
    import tinysoundfont._tinysoundfont as tsf

    problem = _problem_with(path)
    if problem:
        raise SoundFontMissing(f"Cannot use the SoundFont: {problem}. {INSTALL_HINT}")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _load_lock:
        font = _loaded.get(key)
        if font is None:
            try:
                font = tsf.SoundFont(str(path))
            except (RuntimeError, OSError, MemoryError) as exc:
                raise SoundFontMissing(
                    f"The SoundFont {path} could not be loaded (corrupt or unsupported: {exc}). {INSTALL_HINT}"
                ) from exc
            if font.get_preset_count() == 0:
                raise SoundFontMissing(f"The SoundFont {path} contains no instruments. {INSTALL_HINT}")
            _loaded.clear()  # keep one SoundFont resident: FluidR3_GM is ~300 MB once decoded
            _loaded[key] = font
            _latency.clear()
        return font


def release_soundfont() -> None:
    """Forget the loaded SoundFont: its memory is freed once no renderer holds it any more.

    A one-off `ampa generate` (or a worker that keeps its memory low between jobs) calls this after
    rendering; the next render loads it again (~0.6 s for FluidR3_GM).
    """
    with _load_lock:
        _loaded.clear()
        _latency.clear()


def available_program(base: object, program: int, is_drum: bool) -> int:
    """`program` if the SoundFont has it (bank 128 for drum kits), else 0 with a warning."""
    bank = DRUM_BANK if is_drum else 0
    if base.get_preset_index(bank, program) >= 0:  # type: ignore[attr-defined]
        return program
    log.warning("the SoundFont has no preset %d in bank %d; using preset 0 instead", program, bank)
    return 0


def _new_synth(base: object, sample_rate: int, program: int, is_drum: bool) -> tuple[object, int]:
    """A private synth (clone: shares samples, own voices) with the program selected; returns the channel."""
    import tinysoundfont._tinysoundfont as tsf

    synth = tsf.SoundFont(base)
    synth.set_output(tsf.OutputMode.StereoUnweaved, sample_rate, 0.0)
    channel = _DRUM_CHANNEL if is_drum else _MELODIC_CHANNEL
    synth.channel_set_preset_number(channel, program, is_drum)
    return synth, channel


# Lock-free on purpose: a forked render process must never wait on a lock another thread held at
# fork time. Two threads may probe the same key at once; they compute the same value.
_latency: dict[tuple[int, int, bool, int, int], int] = {}


def onset_latencies(base: object, sample_rate: int, program: int, is_drum: bool, keys: set[int]) -> dict[int, int]:
    """Per key: samples between a note-on and its first non-zero output, in whole envelope blocks."""
    latencies = {}
    for key in keys:
        cache_key = (id(base), program, is_drum, key, sample_rate)
        latency = _latency.get(cache_key)
        if latency is None:
            synth, channel = _new_synth(base, sample_rate, program, is_drum)
            synth.channel_note_on(channel, key, 100 / 127)
            probe = np.zeros(2 * _PREROLL, dtype=np.float32)
            synth.render(probe.view(np.uint8))
            audible = np.flatnonzero(np.abs(probe.reshape(2, _PREROLL)).max(axis=0) > 0.0)
            latency = 0 if audible.size == 0 else (int(audible[0]) // _BLOCK) * _BLOCK
            _latency[cache_key] = latency
        latencies[key] = latency
    return latencies


def render_sf2_track(
    base: object,
    notes: list[ScheduledNote],
    *,
    program: int,
    is_drum: bool,
    pan: float,
    timeline: Timeline,
    out: np.ndarray,
    latencies: Mapping[int, int] | None = None,
) -> None:
    """Render one track from the SoundFont and add it into `out` (2, n) with the track's pan.

    `program` must exist in the SoundFont (see available_program); `latencies` (from onset_latencies)
    may be given precomputed, so that this function takes no lock and writes no log line.
    """
    sr, n = timeline.sample_rate, timeline.n_samples
    if latencies is None:
        latencies = onset_latencies(base, sr, program, is_drum, {note.pitch for note in notes})
    synth, channel = _new_synth(base, sr, program, is_drum)
    # Events on a virtual clock that starts _PREROLL samples before sample 0.
    events: list[tuple[int, int, int, float]] = []  # (virtual sample, 0 = off / 1 = on, key, velocity)
    for note in notes:
        on = note.onset + _PREROLL - latencies[note.pitch]
        events.append((on, 1, note.pitch, note.velocity / 127.0))
        if not is_drum:  # GM drum sounds are one-shots: channel 10 ignores note-offs
            events.append((on + note.gate, 0, note.pitch, 0.0))
    events.sort()
    gain_l, gain_r = pan_gains(pan)
    scratch = np.zeros(2 * _CHUNK, dtype=np.float32)
    position = 0  # virtual clock
    end = n + _PREROLL

    def advance(to: int) -> None:
        nonlocal position
        while position < to:
            count = min(_CHUNK, to - position)
            block = scratch[: 2 * count]
            synth.render(block.view(np.uint8))
            start = position - _PREROLL
            if start + count > 0:
                skip = max(0, -start)
                a, b = start + skip, start + count
                out[0, a:b] += gain_l * block[skip:count]
                out[1, a:b] += gain_r * block[count + skip : 2 * count]
            position += count

    for when, kind, key, velocity in events:
        if when >= end:
            break
        advance(when)
        if kind:
            synth.channel_note_on(channel, key, velocity)
        else:
            synth.channel_note_off(channel, key)
    advance(end)
