"""SoundFont instruments through FluidSynth (pyfluidsynth), one note at a time, on its exact sample.

FluidSynth processes events once per 64-sample block, so a note-on sent mid-block sounds up to 63
samples late. Instead of streaming a track, each note is rendered alone from a fresh block boundary
(note-on, the held samples, note-off, the release until the voices end) and placed at its onset
sample by the track renderer, like any built-in voice (pipeline.render.stems.render_voice_track).
That also makes repeated notes cheap (loops repeat: rendered buffers are reused), lets the renderer's
own choke groups and round-robin apply to sampled kits, and keeps every stem bit-identical for a seed.

FluidSynth runs with 7th-order interpolation (the C API's FLUID_INTERP_HIGHEST; pyfluidsynth does not
wrap it), the SoundFont's modulators, no built-in reverb or chorus (the mixer adds its own sends) and
`synth.dynamic-sample-loading`, so only the presets a track selects are read into memory. Samples are
shared by every synth of the process (FluidSynth's sample cache); each track gets its own synth (~20
MB of preset tables), so tracks render in parallel threads: ctypes releases the GIL during a call.
"""

from __future__ import annotations

import ctypes
import dataclasses
import struct
import threading
from pathlib import Path
from types import MappingProxyType

import numpy as np

from pipeline.errors import SoundFontMissing
from pipeline.render import dsp
from pipeline.render.fonts import INSTALL_HINT, problem_with
from pipeline.render.voice import NoteRequest, Voice, round_robin

DRUM_BANK = 128
INTERP_HIGHEST = 7  # FLUID_INTERP_HIGHEST: 7th-order (8-point) sinc interpolation
_BLOCK = 64  # FluidSynth's internal block (FLUID_BUFSIZE): events apply at block boundaries
_CHUNK = 64 * _BLOCK  # samples rendered per call while waiting for a release to end
_SILENT = 1e-5  # -100 dBFS: the release is over once a chunk stays below this
_RELEASE_CAP_S = 2.5  # a melodic note's release is cut (with a fade) after this, to bound the cost
_DRUM_CAP_S = 4.0  # a drum hit (crash, gong) rings at most this long
_GAIN = 0.6  # FluidSynth's master gain: float output never clips; stems are normalised after
_GEN_FILTERFC = 8  # SF2 generator: initialFilterFc, in cents (an offset when set per channel)

_CHOKES = MappingProxyType({46: frozenset({42, 44})})  # closed or pedal hat silences the open hat
# Round-robin for sampled drums: consecutive hits of a key step through these (pitch in cents,
# filter in cents, velocity steps), so two identical hits in a row are never the identical buffer;
# the velocity nudge also crosses layer boundaries in multi-layer kits.
DRUM_VARIANTS: tuple[tuple[float, float, int], ...] = ((0.0, 0.0, 0), (9.0, -250.0, -3), (-7.0, -120.0, 2), (4.0, -400.0, -5))


def _lib() -> ctypes.CDLL:
    """FluidSynth's C library as pyfluidsynth loaded it, with the calls it does not wrap declared."""
    import fluidsynth

    lib = fluidsynth._fl
    if not getattr(lib, "_ampa_declared", False):
        vp, ci, cf = ctypes.c_void_p, ctypes.c_int, ctypes.c_float
        lib.fluid_synth_write_float.argtypes = [vp, ci, vp, ci, ci, vp, ci, ci]
        lib.fluid_synth_write_float.restype = ci
        lib.fluid_synth_set_interp_method.argtypes = [vp, ci, ci]
        lib.fluid_synth_get_active_voice_count.argtypes = [vp]
        lib.fluid_synth_set_gen.argtypes = [vp, ci, ci, cf]
        lib.fluid_synth_pitch_bend.argtypes = [vp, ci, ci]
        lib.fluid_synth_noteon.argtypes = [vp, ci, ci, ci]
        lib.fluid_synth_noteoff.argtypes = [vp, ci, ci]
        lib.fluid_synth_all_sounds_off.argtypes = [vp, ci]
        log_fn = ctypes.CFUNCTYPE(None, ci, ctypes.c_char_p, vp)
        lib.fluid_set_log_function.argtypes = [ci, log_fn, vp]
        lib._ampa_quiet = log_fn(lambda level, message, data: None)  # kept alive with the library
        for level in range(5):  # FluidSynth's warnings ("no preset on channel 9") go nowhere
            lib.fluid_set_log_function(level, lib._ampa_quiet, None)
        lib._ampa_declared = True
    return lib


@dataclasses.dataclass(frozen=True)
class Preset:
    font: Path
    bank: int
    program: int
    is_drum: bool


# Loading and unloading a preset's samples go through FluidSynth's process-wide sample cache. Done by
# two threads at once, a render in a fresh process came out different now and then (measured: 3 of 8
# fresh processes gave a different stem with two render threads, 0 of 8 with one); one at a time, a
# seed gives the same audio again. Rendering itself still runs in parallel.
_loading = threading.Lock()


class _Synth:
    """One FluidSynth instance with one font loaded and one preset selected on channel 0."""

    def __init__(self, preset: Preset, sample_rate: int) -> None:
        import fluidsynth

        self.preset, self.sample_rate = preset, sample_rate
        font, bank, program = preset.font, preset.bank, preset.program

        self.lib = _lib()
        settings = {
            "synth.dynamic-sample-loading": 1,
            "synth.reverb.active": 0,
            "synth.chorus.active": 0,
            "synth.polyphony": 256,
            "synth.cpu-cores": 1,
        }
        with _loading:
            self.synth = fluidsynth.Synth(gain=_GAIN, samplerate=sample_rate, channels=16, **settings)
            sfid = self.synth.sfload(str(font))
            if sfid < 0:
                self.synth.delete()
                raise SoundFontMissing(f"The SoundFont {font} could not be loaded (corrupt or unsupported). {INSTALL_HINT}")
            if self.synth.program_select(0, sfid, bank, program) != 0:
                self.synth.program_select(0, sfid, bank, 0)  # the caller checked the preset; this is a guard
        self.lib.fluid_synth_set_interp_method(self.handle, -1, INTERP_HIGHEST)
        self.scratch = np.zeros((2, _CHUNK), dtype=np.float32)

    @property
    def handle(self) -> int:
        return self.synth.synth

    def write(self, out: np.ndarray, start: int, count: int) -> None:
        """Render `count` samples (a multiple of _BLOCK) into out[:, start:start + count]."""
        left, right = out[0, start:], out[1, start:]
        self.lib.fluid_synth_write_float(self.handle, count, left.ctypes.data, 0, 1, right.ctypes.data, 0, 1)

    def play(self, key: int, velocity: int, held: int, *, note_off: bool, cap: int, bend_cents: float, filter_cents: float) -> np.ndarray:
        """One note from silence: (2, m) float32, m >= held, ending once the voices have died away."""
        lib, handle = self.lib, self.handle
        self.prime()
        lib.fluid_synth_pitch_bend(handle, 0, int(round(8192 + bend_cents / 200.0 * 8192)))
        lib.fluid_synth_set_gen(handle, 0, _GEN_FILTERFC, float(filter_cents))
        held_blocks = -(-max(held, 1) // _BLOCK) * _BLOCK
        out = np.zeros((2, held_blocks + cap), dtype=np.float32)
        lib.fluid_synth_noteon(handle, 0, key, velocity)
        self.write(out, 0, held_blocks)
        if note_off:
            lib.fluid_synth_noteoff(handle, 0, key)
        end = held_blocks
        while end < out.shape[1] and lib.fluid_synth_get_active_voice_count(handle) > 0:
            count = min(_CHUNK, out.shape[1] - end)
            count -= count % _BLOCK
            if count <= 0:
                break
            self.write(out, end, count)
            end += count
            if float(np.abs(out[:, end - count : end]).max()) < _SILENT and end > held_blocks + _CHUNK:
                break
        audible = np.flatnonzero(np.abs(out[:, :end]).max(axis=0) >= _SILENT)
        length = max(held, int(audible[-1]) + 1 if audible.size else held)
        note = out[:, :length]
        if lib.fluid_synth_get_active_voice_count(handle) > 0 and length == end:  # cut at the cap
            fade = min(length, 1024)
            note[:, length - fade :] *= dsp.fade_out(fade)
        self.silence()
        return np.ascontiguousarray(note)

    def prime(self) -> None:
        """Put the synth in one known state: a note's sound depends a little on the note played before
        it (measured: up to -50 dBFS on the AVL kits, and a synth's very first note differs too), so
        every note follows the same short throw-away note. Then a note sounds the same wherever it
        comes in a track, and on a fresh or a reused synth: the same seed gives the same audio."""
        self.lib.fluid_synth_pitch_bend(self.handle, 0, 8192)
        self.lib.fluid_synth_set_gen(self.handle, 0, _GEN_FILTERFC, 0.0)
        self.lib.fluid_synth_noteon(self.handle, 0, 60, 64)
        self.write(self.scratch, 0, 4 * _BLOCK)
        self.silence()

    def silence(self) -> None:
        """Stop every voice and let the stop take effect, so the next note starts from the same state.

        FluidSynth applies a stop at the next block and may still render that block, so blocks are
        rendered (and dropped) until no voice is left."""
        self.lib.fluid_synth_all_sounds_off(self.handle, -1)
        for _ in range(16):
            self.write(self.scratch, 0, _BLOCK)
            if self.lib.fluid_synth_get_active_voice_count(self.handle) == 0:
                break

    def close(self) -> None:
        with _loading:
            self.synth.delete()


class FluidVoice(Voice):
    """A SoundFont preset as a voice: one note rendered alone, velocity applied by the SoundFont.

    `keys`/`others`: a drum kit that lacks some GM keys (the acoustic kits have no latin percussion)
    plays the keys outside `keys` from the `others` preset (the main font's GM kit).
    One instance per track (it owns its synths); call close() when the track is done: the synths are
    kept for the next track or job (`keep`), or freed at once, so that a render holds only the sample
    sets of the tracks in progress (MuseScore's strings alone are ~150 MB).
    """

    name = "sf2"
    stereo = True
    own_velocity = True

    def __init__(
        self, preset: Preset, *, keys: frozenset[int] | None = None, others: Preset | None = None, keep: bool = True
    ) -> None:
        self.preset = preset
        self.keep = keep  # False: close the synths (and free their samples) as soon as the track is done
        self.keys = keys
        self.others = others
        self.chokes = _CHOKES if preset.is_drum else MappingProxyType({})
        self._synths: dict[Preset, _Synth] = {}

    def preset_for(self, key: int) -> Preset:
        if self.keys is None or key in self.keys or self.others is None:
            return self.preset
        return self.others

    def canonical(self, req: NoteRequest) -> NoteRequest:
        base = super().canonical(req)
        if not self.preset.is_drum:
            return base
        # Drums are one-shots (no note-off), and each hit carries its round-robin variant.
        return dataclasses.replace(base, gate=0, seed=(round_robin(req, len(DRUM_VARIANTS)),))

    def render(self, req: NoteRequest) -> np.ndarray:
        sr = req.sample_rate
        preset = self.preset_for(req.pitch)
        synth = self._synths.get(preset)
        if synth is None or synth.sample_rate != sr:
            if synth is not None:
                _park(synth)
            synth = self._synths[preset] = _acquire(preset, sr)
        if self.preset.is_drum:
            bend, cutoff, nudge = DRUM_VARIANTS[req.seed[0] if req.seed else 0]
            velocity = max(1, min(127, req.velocity + nudge))
            return synth.play(
                req.pitch, velocity, _BLOCK, note_off=False, cap=int(_DRUM_CAP_S * sr), bend_cents=bend, filter_cents=cutoff
            )
        return synth.play(
            req.pitch, req.velocity, req.gate, note_off=True, cap=int(_RELEASE_CAP_S * sr), bend_cents=0.0, filter_cents=0.0
        )

    def close(self) -> None:
        for synth in self._synths.values():
            if self.keep:
                _park(synth)
            else:
                synth.close()
        self._synths.clear()


# --- synths kept between tracks and jobs -------------------------------------------------------------

# Idle synths by (preset, sample rate). A synth costs ~20 MB of preset tables and 0.01-0.3 s to make
# (more when its samples must be read); its samples stay loaded while it exists.
_idle: dict[tuple[Preset, int], list[_Synth]] = {}
_idle_lock = threading.Lock()


def _acquire(preset: Preset, sample_rate: int) -> _Synth:
    with _idle_lock:
        pool = _idle.get((preset, sample_rate))
        if pool:
            return pool.pop()
    return _Synth(preset, sample_rate)


def _park(synth: _Synth) -> None:
    with _idle_lock:
        _idle.setdefault((synth.preset, synth.sample_rate), []).append(synth)


def release_synths(*, keep: bool) -> None:
    """After a render: keep at most one idle synth per preset (keep=True) or free them all.

    Freeing them frees their samples (FluidSynth unloads a preset's samples with its last user)."""
    with _idle_lock:
        doomed = []
        for pool in _idle.values():
            doomed.extend(pool[1:] if keep else pool)
            del pool[1 if keep else 0 :]
        for key in [k for k, pool in _idle.items() if not pool]:
            del _idle[key]
    for synth in doomed:
        synth.close()


# --- what a font holds, read once per font ---------------------------------------------------------

_presets: dict[tuple[str, int, int], frozenset[tuple[int, int]]] = {}
_presets_lock = threading.Lock()


def font_presets(font: Path) -> frozenset[tuple[int, int]]:
    """Every (bank, program) the SoundFont defines. Raises SoundFontMissing for a bad file."""
    problem = problem_with(font)
    if problem:
        raise SoundFontMissing(f"Cannot use the SoundFont: {problem}. {INSTALL_HINT}")
    stat = font.stat()
    key = (str(font.resolve()), stat.st_size, stat.st_mtime_ns)
    with _presets_lock:
        known = _presets.get(key)
        if known is None:
            known = _read_presets(font)
            if not known:
                raise SoundFontMissing(f"The SoundFont {font} contains no instruments or is corrupt. {INSTALL_HINT}")
            _presets[key] = known
        return known


def _read_presets(font: Path) -> frozenset[tuple[int, int]]:
    """The preset headers (the 'phdr' chunk of the 'pdta' list): 38-byte records, name[20] preset bank ..."""
    found: set[tuple[int, int]] = set()
    with font.open("rb") as fh:
        if fh.read(12)[:4] != b"RIFF":
            return frozenset()
        while len(head := fh.read(8)) == 8:
            size = struct.unpack("<I", head[4:])[0]
            if head[:4] != b"LIST" or fh.read(4) != b"pdta":
                fh.seek(size - (4 if head[:4] == b"LIST" else 0) + (size & 1), 1)
                continue
            end = fh.tell() + size - 4
            while fh.tell() < end and len(sub := fh.read(8)) == 8:
                sub_size = struct.unpack("<I", sub[4:])[0]
                if sub[:4] != b"phdr":
                    fh.seek(sub_size + (sub_size & 1), 1)
                    continue
                table = fh.read(sub_size)
                for offset in range(0, len(table) - 38, 38):  # the last record is the EOP terminator
                    program, bank = struct.unpack_from("<HH", table, offset + 20)
                    found.add((bank, program))
                break
            break
    return frozenset(found)
