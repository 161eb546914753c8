"""Reference tracks: what tempo, key, loudness, brightness and energy a user's audio file has.

    ref = analyse_reference(Path("song.mp3"))
    spec = apply_reference(spec, ref)   # fills only what the prompt left unsaid

Reads WAV, FLAC, MP3 and OGG with pedalboard.io (soundfile as a fallback) and measures with the
same meters QA uses, so a reference at 128 BPM reads 128 BPM in both places.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import BadReference
from pipeline.qa.key import chroma_profile, key_from_chroma
from pipeline.qa.loudness import SILENCE_LUFS, integrated_lufs
from pipeline.qa.tempo import tempo_from_mono, to_analysis_mono
from pipeline.spec import Sourced, Spec

SUPPORTED = "WAV, FLAC, MP3 or OGG"
SILENT_PEAK = 10 ** (-70 / 20)


@dataclass(frozen=True)
class ReferenceAnalysis:
    tempo_bpm: float
    key: str  # "A minor"
    loudness_lufs: float
    brightness_hz: float  # spectral centroid, energy-weighted over the track
    duration_s: float
    energy: float  # 0..1, from loudness, tempo and brightness
    tempo_confidence: float = 0.0
    key_confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def analyse_reference(path: Path, *, max_seconds: float = 600, max_bytes: int = 50_000_000) -> ReferenceAnalysis:
    path = Path(path)
    audio, sample_rate = read_reference(path, max_seconds=max_seconds, max_bytes=max_bytes)
    if audio.size == 0 or audio.shape[1] < sample_rate * 0.5:
        raise BadReference(
            f"The reference file {path.name} is empty or shorter than half a second: send a longer track."
        )
    if float(np.max(np.abs(audio))) < SILENT_PEAK:
        raise BadReference(f"The reference file {path.name} is silent: there is nothing to analyse.")
    loudness = integrated_lufs(audio, sample_rate)
    if loudness <= SILENCE_LUFS:
        raise BadReference(
            f"The reference file {path.name} is almost silent ({loudness:.0f} LUFS): send a louder track."
        )
    mono = to_analysis_mono(audio, sample_rate)
    tempo = tempo_from_mono(mono)
    key = key_from_chroma(chroma_profile(mono))
    brightness = spectral_centroid_hz(audio, sample_rate)
    return ReferenceAnalysis(
        tempo_bpm=round(tempo.bpm, 1),
        key=key.name,
        loudness_lufs=round(loudness, 2),
        brightness_hz=round(brightness, 1),
        duration_s=round(audio.shape[1] / sample_rate, 3),
        energy=round(energy_score(loudness, tempo.bpm, brightness), 2),
        tempo_confidence=round(tempo.confidence, 3),
        key_confidence=round(max(0.0, key.confidence), 3),
    )


def read_reference(path: Path, *, max_seconds: float, max_bytes: int) -> tuple[np.ndarray, int]:
    """Channels-first float32 audio and its sample rate; BadReference for anything unusable."""
    if not path.exists():
        raise BadReference(f"The reference file {path.name} does not exist: check the path.")
    if not path.is_file():
        raise BadReference(f"The reference {path.name} is not a file: give an audio file ({SUPPORTED}).")
    size = path.stat().st_size
    if size == 0:
        raise BadReference(f"The reference file {path.name} is empty (0 bytes): send a {SUPPORTED} file.")
    if size > max_bytes:
        raise BadReference(
            f"The reference file {path.name} is too large ({size / 1e6:.0f} MB, limit {max_bytes / 1e6:.0f} MB): "
            "send a shorter or compressed (MP3/OGG) version."
        )
    try:
        return _read_with_pedalboard(path, max_seconds)
    except BadReference:
        raise
    except Exception:  # noqa: BLE001, S110 - any decoder failure: try the other reader
        pass
    try:
        return _read_with_soundfile(path, max_seconds)
    except BadReference:
        raise
    except Exception:  # noqa: BLE001 - neither decoder understood it
        raise BadReference(
            f"The reference file {path.name} is not audio ampa can read: send a {SUPPORTED} file."
        ) from None


def _too_long(path: Path, seconds: float, max_seconds: float) -> BadReference:
    return BadReference(
        f"The reference file {path.name} is too long ({seconds / 60:.1f} min, limit {max_seconds / 60:.0f} min): "
        "send an excerpt."
    )


def _read_with_pedalboard(path: Path, max_seconds: float) -> tuple[np.ndarray, int]:
    from pedalboard.io import AudioFile

    with AudioFile(str(path)) as f:
        sample_rate = int(f.samplerate)
        frames = int(f.frames)
        if frames / max(sample_rate, 1) > max_seconds:
            raise _too_long(path, frames / sample_rate, max_seconds)
        audio = f.read(frames)
    return np.asarray(audio, dtype=np.float32), sample_rate


def _read_with_soundfile(path: Path, max_seconds: float) -> tuple[np.ndarray, int]:
    import soundfile

    info = soundfile.info(str(path))
    if info.frames / max(info.samplerate, 1) > max_seconds:
        raise _too_long(path, info.frames / info.samplerate, max_seconds)
    data, sample_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return data.T.copy(), int(sample_rate)


def spectral_centroid_hz(audio: np.ndarray, sample_rate: int, n_fft: int = 2048, frames: int = 400) -> float:
    """Energy-weighted mean spectral centroid over up to `frames` frames spread across the track."""
    mono = audio.mean(axis=0)
    if mono.size < n_fft:
        mono = np.pad(mono, (0, n_fft - mono.size))
    starts = np.linspace(0, mono.size - n_fft, num=min(frames, max(1, mono.size // n_fft))).astype(int)
    windows = np.stack([mono[s : s + n_fft] for s in starts]) * np.hanning(n_fft)
    power = np.abs(np.fft.rfft(windows, axis=1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    total = power.sum()
    return float((power * freqs).sum() / total) if total > 0 else 0.0


def energy_score(loudness_lufs: float, tempo_bpm: float, brightness_hz: float) -> float:
    """0..1: half loudness (-30..-6 LUFS), a quarter tempo (60..180 BPM), a quarter brightness (0.5..3.5 kHz)."""
    loud = np.clip((loudness_lufs + 30.0) / 24.0, 0.0, 1.0)
    pace = np.clip((tempo_bpm - 60.0) / 120.0, 0.0, 1.0) if tempo_bpm > 0 else 0.3
    bright = np.clip((brightness_hz - 500.0) / 3000.0, 0.0, 1.0)
    return float(0.5 * loud + 0.25 * pace + 0.25 * bright)


# Below this the onsets are not periodic enough to call it a tempo (a sustained chord scores ~0.3,
# rendered grooves 0.5–0.7): a guess would only make ampa compose at a tempo nobody asked for.
MIN_TEMPO_CONFIDENCE = 0.4


def apply_reference(spec: Spec, ref: ReferenceAnalysis) -> Spec:
    """Fill tempo, key and energy from the reference where the spec has none or only a default.

    The prompt wins where both say something; the disagreement is noted for the user. The
    loudness target is never taken from a reference (ampa masters to its own target).
    """
    changes: dict[str, Any] = {}
    notes = list(spec.notes)
    taken: list[str] = []

    def fill(name: str, value: Any, confidence: float, shown: str) -> None:
        current = getattr(spec, name)
        if current is None or current.source == "default":
            changes[name] = Sourced[type(value)](value=value, source="reference", confidence=confidence)
            taken.append(shown)
        elif current.source == "prompt" and current.value != value:
            notes.append(f"the reference suggests {shown}; keeping the prompt's {_show(current.value, name)}")

    if ref.tempo_bpm > 0 and ref.tempo_confidence < MIN_TEMPO_CONFIDENCE:
        notes.append(f"the reference has no steady beat (tempo confidence {ref.tempo_confidence:.2f}); tempo not taken from it")
    elif ref.tempo_bpm > 0:
        fill("tempo_bpm", float(ref.tempo_bpm), min(1.0, max(0.1, ref.tempo_confidence)), f"{ref.tempo_bpm:g} BPM")
    fill("key", ref.key, min(1.0, max(0.1, ref.key_confidence)), ref.key)
    fill("energy", float(ref.energy), 0.6, f"energy {ref.energy:.2f}")
    if taken:
        notes.append("from the reference track: " + ", ".join(taken))
    if not changes and notes == list(spec.notes):
        return spec
    changes["notes"] = notes
    return spec.with_updates(**{k: (v.model_dump() if hasattr(v, "model_dump") else v) for k, v in changes.items()})


def _show(value: Any, name: str) -> str:
    if name == "tempo_bpm":
        return f"{value:g} BPM"
    if name == "energy":
        return f"energy {value:.2f}"
    return str(value)
