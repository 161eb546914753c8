"""Sampled drum kits from Hydrogen drumkit folders (Debian `hydrogen-drumkits`), played as a voice.

A Hydrogen kit is a folder with a `drumkit.xml` and its WAV/FLAC/AIFF samples: instruments, each with
velocity layers (a sample, the velocity range 0..1 it answers, a gain and a pitch in semitones), or in
the oldest format a single `<filename>`. `load_kit` reads that into plain data; `HydrogenKitVoice`
plays it on General MIDI drum keys through a per-kit map (Hydrogen kits have no GM numbering of their
own), choosing the layer by velocity as Hydrogen does. Like the SoundFont kits, consecutive hits of a
key step through round-robin takes (a few cents of pitch and a touch of tone apart), so a 16th-note
hat never repeats the identical buffer; keys the kit lacks play from the main font's GM kit.

Which kits are used, why, and their licences (all allow use in rendered music; see NOTICE):
  kit_rumpf   rumpf_kit_z01 by Emanuel Rumpf, CC-BY-3.0: analog drum-machine and sampler hits with a
              fat, short kick and a cracking snare: the boom-bap kit of hip-hop.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from types import MappingProxyType

import numpy as np

from pipeline.render import dsp
from pipeline.render.voice import NoteRequest, Voice, round_robin

HYDROGEN_DIRS: tuple[Path, ...] = (Path("/usr/share/hydrogen/data/drumkits"),)
HYDROGEN_PACKAGE = "hydrogen-drumkits"

# Round-robin takes: (pitch in cents, low-pass amount 0..1): the same hit a little higher or lower and
# a little darker, as a drummer never strikes the same spot twice.
TAKES: tuple[tuple[float, float], ...] = ((0.0, 0.0), (8.0, 0.25), (-6.0, 0.12), (4.0, 0.35))
_CHOKES = MappingProxyType({46: frozenset({42, 44})})  # a closed or pedal hat silences the open hat


@dataclass(frozen=True)
class Layer:
    path: Path
    low: float  # velocity range 0..1 this sample answers
    high: float
    gain: float
    pitch: float  # semitones


@dataclass(frozen=True)
class Instrument:
    name: str
    layers: tuple[Layer, ...]
    gain: float  # the instrument's volume × gain


@dataclass(frozen=True)
class KitSpec:
    """Where a kit lives and how its instruments map onto GM drum keys."""

    folder: str  # the kit's folder under a Hydrogen drumkits directory
    keys: dict[int, str]  # GM key -> instrument name in drumkit.xml
    title: str  # for the report and NOTICE
    # GM key -> level in dB: the kits' samples are each normalised to one peak, so the hats and cymbals
    # would stand as loud as the snare; a drummer (and a beatmaker's mixer) keeps them well under it.
    trims_db: dict[int, float] = dataclasses.field(default_factory=dict)


HYDROGEN_KITS: dict[str, KitSpec] = {
    "kit_rumpf": KitSpec(
        "rumpf_kit_z01_h2",
        {
            36: "c3 - bass drum 1",
            35: "f3 - bass drum 2",
            37: "c#3 - stick",
            38: "d3 - snare 1",
            39: "d#3 - clap",
            40: "e3 - snare 2",
            42: "f#3 - hi-hat closed",
            44: "g#3 - hi-hat pedal",
            46: "a#3 - hi-hat open",
            41: "b3 - low tom",
            43: "b3 - low tom",
            45: "c4 - middle tom",
            47: "c4 - middle tom",
            48: "d4 - high tom",
            50: "d4 - high tom",
            49: "c#4 - crash",
            51: "e4 - cymbal 2",
            53: "f4 - ride bell",
            56: "g#4 - cowbell",
        },
        "rumpf kit z01",
        {42: -9.0, 44: -10.0, 46: -9.0, 49: -8.0, 51: -9.0, 53: -9.0, 56: -8.0, 37: -4.0},
    ),
}


def find_hydrogen_kit(voice: str) -> Path | None:
    """The kit's drumkit.xml for a Hydrogen kit voice (kit_rumpf, ...), or None if not installed."""
    spec = HYDROGEN_KITS.get(voice)
    if spec is None:
        return None
    for folder in HYDROGEN_DIRS:
        xml = folder / spec.folder / "drumkit.xml"
        if xml.is_file():
            return xml
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # newer kits put everything in a namespace


def _child(node: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in node if _local(c.tag) == name), None)


def _number(node: ET.Element, name: str, default: float) -> float:
    child = _child(node, name)
    try:
        return float(child.text) if child is not None and child.text else default
    except ValueError:
        return default


def load_kit(xml: Path) -> dict[str, Instrument]:
    """Instrument name -> its layers, from a drumkit.xml (layers directly under the instrument, inside
    `instrumentComponent`s, or the old single `<filename>`). Instruments without a sample are left out."""
    root = ET.parse(xml).getroot()
    folder = xml.parent
    kit: dict[str, Instrument] = {}
    for node in root.iter():
        if _local(node.tag) != "instrument":
            continue
        name_node = _child(node, "name")
        name = (name_node.text or "").strip() if name_node is not None else ""
        layers = []
        for layer in node.iter():
            if _local(layer.tag) != "layer":
                continue
            file_node = _child(layer, "filename")
            if file_node is None or not file_node.text:
                continue
            layers.append(Layer(folder / file_node.text.strip(), _number(layer, "min", 0.0), _number(layer, "max", 1.0),
                                _number(layer, "gain", 1.0), _number(layer, "pitch", 0.0)))
        old = _child(node, "filename")
        if not layers and old is not None and old.text:
            layers.append(Layer(folder / old.text.strip(), 0.0, 1.0, 1.0, 0.0))
        layers = [layer for layer in layers if layer.path.is_file()]
        if name and layers:
            gain = _number(node, "volume", 1.0) * _number(node, "gain", 1.0)
            kit[name] = Instrument(name, tuple(sorted(layers, key=lambda la: (la.low, la.high))), gain)
    return kit


def layer_for(instrument: Instrument, velocity: int) -> Layer:
    """The layer Hydrogen plays at this MIDI velocity: the one whose range holds it, else the nearest."""
    v = velocity / 127.0
    for layer in instrument.layers:
        if layer.low <= v <= layer.high:
            return layer
    return min(instrument.layers, key=lambda la: min(abs(v - la.low), abs(v - la.high)))


_samples: dict[tuple[str, int], np.ndarray] = {}
_samples_lock = threading.Lock()


def sample(path: Path, sample_rate: int) -> np.ndarray:
    """A sample file as float32 (2, n) at `sample_rate` (read and resampled once per process)."""
    key = (str(path), sample_rate)
    with _samples_lock:
        known = _samples.get(key)
    if known is not None:
        return known
    import soundfile
    from scipy.signal import resample_poly

    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    data = data.T[:2]
    if data.shape[0] == 1:
        data = np.repeat(data, 2, axis=0)
    if rate != sample_rate:
        g = gcd(int(rate), sample_rate)
        data = resample_poly(data, sample_rate // g, int(rate) // g, axis=1).astype(np.float32)
    data = np.ascontiguousarray(data)
    data.setflags(write=False)
    with _samples_lock:
        _samples[key] = data
    return data


@functools.lru_cache(maxsize=8)
def _kit(xml: Path) -> dict[str, Instrument]:
    return load_kit(xml)


class HydrogenKitVoice(Voice):
    """A Hydrogen kit on GM drum keys; keys it lacks play from `others` (the main font's GM kit)."""

    stereo = True
    chokes = _CHOKES

    def __init__(self, voice: str, xml: Path, others: Voice | None = None) -> None:
        self.name = voice
        kit = _kit(xml)
        spec = HYDROGEN_KITS[voice]
        self.instruments = {key: kit[name] for key, name in spec.keys.items() if name in kit}
        self.trims = {key: 10 ** (spec.trims_db.get(key, 0.0) / 20) for key in self.instruments}
        self.others = others

    @property
    def keys(self) -> frozenset[int]:
        return frozenset(self.instruments)

    def canonical(self, req: NoteRequest) -> NoteRequest:
        base = super().canonical(req)
        if req.pitch not in self.instruments:
            return self.others.canonical(req) if self.others is not None else base
        return dataclasses.replace(base, gate=0, seed=(round_robin(req, len(TAKES)),))

    def render(self, req: NoteRequest) -> np.ndarray:
        instrument = self.instruments.get(req.pitch)
        if instrument is None:
            if self.others is None:
                return np.zeros((2, 1), dtype=np.float32)
            audio = self.others.render(req)
            # The SoundFont applies velocity itself; this voice's caller applies it again: undo that.
            return (audio / np.float32(max(dsp.velocity_gain(req.velocity), 1e-3))).astype(np.float32)
        layer = layer_for(instrument, req.velocity)
        audio = sample(layer.path, req.sample_rate)
        cents, dark = TAKES[req.seed[0] if req.seed else 0]
        ratio = 2.0 ** ((layer.pitch * 100.0 + cents) / 1200.0)
        if abs(ratio - 1.0) > 1e-6:  # linear-interpolated repitch: a few cents, no audible aliasing
            n = max(1, int(audio.shape[1] / ratio))
            pos = np.arange(n) * ratio
            idx = np.minimum(pos.astype(np.int64), audio.shape[1] - 1)
            nxt = np.minimum(idx + 1, audio.shape[1] - 1)
            frac = (pos - idx).astype(np.float32)
            audio = audio[:, idx] * (1 - frac) + audio[:, nxt] * frac
        if dark:  # a one-pole low-pass blended in: a softer strike
            from scipy.signal import lfilter

            a = 0.55
            audio = (1 - dark) * audio + dark * lfilter([1 - a], [1, -a], audio, axis=1)
        return (audio * np.float32(layer.gain * instrument.gain * self.trims[req.pitch])).astype(np.float32)

    def close(self) -> None:
        if self.others is not None:
            self.others.close()
