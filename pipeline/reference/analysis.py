"""Listening to a reference: everything ampa can take from it, and why it could not take the rest.

    ref = analyse_reference(Path("song.mp3"), genre="funk")
    ref.grid.bpm, ref.key, ref.loop, ref.sections, ref.character, ref.verdict

Order: decode and check the file (decode), say what kind of sound it is (silence, noise, speech or
music), the beat grid (beats), the key (QA's key meter, so a reference and ampa's render are
measured alike), beat-synchronous features (features), the chords per bar (chords) and the form
(form) on the grid, and the character (character).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.qa.key import chroma_profile, key_from_chroma
from pipeline.vocabulary import TONICS
from pipeline.qa.loudness import SILENCE_LUFS, integrated_lufs
from pipeline.qa.tempo import to_analysis_mono
from pipeline.reference.beats import FRAME_RATE, ONSET_LATENCY_S, BeatGrid, grid_from_onsets, onset_signals
from pipeline.reference.character import Character, count_onsets_per_s, measure
from pipeline.reference.chords import bar_chords, repeating_loop
from pipeline.reference.decode import read_reference
from pipeline.reference.features import beat_features, to_feature_rate
from pipeline.reference.form import FormSection, find_sections

MIN_SECONDS = 5.0
MIN_KEY_CONFIDENCE = 0.5
_SILENT_PEAK = 10 ** (-70 / 20)


@dataclass(frozen=True)
class ReferenceAnalysis:
    name: str
    duration_s: float
    # "music", or why the reference adds nothing: "silent", "noise", "speech", "too short".
    verdict: str = "music"
    message: str = ""  # for a verdict other than music: what is wrong and what to do
    grid: BeatGrid | None = None
    key: str | None = None
    key_confidence: float = 0.0
    chords: list[str] = field(default_factory=list)  # one per bar of the grid, from its first downbeat
    chord_certainty: float = 0.0
    loop: list[str] = field(default_factory=list)  # the progression the bars repeat
    loop_fit: float = 0.0  # share of bars the loop fits
    sections: list[FormSection] = field(default_factory=list)
    character: Character | None = None

    @property
    def usable(self) -> bool:
        return self.verdict == "music"

    @property
    def tempo_bpm(self) -> float:
        return self.grid.bpm if self.grid else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "duration_s": round(self.duration_s, 3),
            "verdict": self.verdict,
            "message": self.message,
            "beat_grid": self.grid.to_dict() if self.grid else None,
            "key": self.key,
            "key_confidence": round(self.key_confidence, 3),
            "chords_per_bar": self.chords,
            "chord_certainty": round(self.chord_certainty, 3),
            "loop": self.loop,
            "loop_fit": round(self.loop_fit, 3),
            "sections": [s.to_dict() for s in self.sections],
            "character": self.character.to_dict() if self.character else None,
        }


def analyse_reference(
    path: Path, *, max_seconds: float = 600, max_bytes: int = 50_000_000, genre: str | None = None
) -> ReferenceAnalysis:
    """BadReference for a file ampa cannot read; otherwise an analysis (whose verdict may say it adds nothing)."""
    path = Path(path)
    audio, sample_rate = read_reference(path, max_seconds=max_seconds, max_bytes=max_bytes)
    return analyse_audio(audio, sample_rate, name=path.name, genre=genre)


def analyse_audio(
    audio: np.ndarray, sample_rate: int, *, name: str = "reference", genre: str | None = None
) -> ReferenceAnalysis:
    audio = np.asarray(audio, np.float32)
    if audio.ndim == 1:
        audio = audio[None, :]
    duration = audio.shape[1] / sample_rate if sample_rate else 0.0
    if duration < MIN_SECONDS:
        return ReferenceAnalysis(
            name,
            duration,
            "too short",
            f"the reference {name} is only {duration:.1f} s long; ampa needs at least {MIN_SECONDS:g} s to hear a "
            "tempo, key and form: send a longer excerpt",
        )
    if (
        audio.size == 0
        or float(np.max(np.abs(audio))) < _SILENT_PEAK
        or integrated_lufs(audio, sample_rate) <= SILENCE_LUFS
    ):
        return ReferenceAnalysis(
            name, duration, "silent", f"the reference {name} is silent: there is nothing to follow"
        )

    mono = to_analysis_mono(audio, sample_rate)
    rms = float(np.sqrt(np.mean(np.square(mono, dtype=np.float64))))
    mono = mono * np.float32(0.1 / max(rms, 1e-9))  # the onset thresholds assume one level
    onsets = onset_signals(mono)
    grid = grid_from_onsets(onsets, mono, genre=genre)
    key = key_from_chroma(chroma_profile(mono))
    mono22 = to_feature_rate(audio, sample_rate)
    verdict = _kind_of_sound(mono22, grid, key.confidence)
    if verdict != "music":
        what = {"noise": "noise, with no pitch or beat", "speech": "speech, not music"}[verdict]
        return ReferenceAnalysis(
            name, duration, verdict, f"the reference {name} sounds like {what}: there is nothing to follow", grid=grid
        )

    character = measure(audio, sample_rate, mono22, count_onsets_per_s(onsets.full, FRAME_RATE))
    chords: list[str] = []
    certainty, loop, fit, sections = 0.0, [], 0.0, []
    if grid.steady:
        grid = _with_downbeat(grid, mono22, onsets, duration)
        beats = grid.beat_times(duration)
        features = beat_features(mono22, beats, onsets.full, FRAME_RATE, ONSET_LATENCY_S)
        chords, certainty = bar_chords(features.treble, features.bass, grid.beats_per_bar, key.name)
        sections = find_sections(features, grid.beats_per_bar, genre)
        loop, fit = _loop(chords, sections)
    return ReferenceAnalysis(
        name=name,
        duration_s=duration,
        grid=grid,
        key=key_heard_in_the_loop(key.name, loop),
        key_confidence=max(0.0, float(key.confidence)),
        chords=chords,
        chord_certainty=certainty,
        loop=loop,
        loop_fit=fit,
        sections=sections,
        character=character,
    )


def key_heard_in_the_loop(key: str | None, loop: list[str]) -> str | None:
    """A major key and its relative minor share their notes, so a chroma profile alone often names the
    wrong one of the two; the progression tells them apart. A loop that starts on the relative key's
    tonic chord and plays it at least as often as the named key's tonic chord is in the relative key
    (i-VI-III-VII in E minor reads as G major by its notes alone)."""
    if key is None or not loop:
        return key
    tonic, _, mode = key.partition(" ")
    if mode not in ("major", "minor") or tonic not in TONICS:
        return key
    shift, quality, other = (-3, "min", "minor") if mode == "major" else (3, "maj", "major")
    relative = TONICS[(TONICS.index(tonic) + shift) % 12]
    own_tonic_chord = f"{tonic}:{'maj' if mode == 'major' else 'min'}"
    relative_chord = f"{relative}:{quality}"
    if loop[0] == relative_chord and loop.count(relative_chord) >= loop.count(own_tonic_chord):
        return f"{relative} {other}"
    return key


def _loop(chords: list[str], sections: list[FormSection]) -> tuple[list[str], float]:
    """The progression to loop: the whole reference's when one repeats throughout, else that of its
    main section (of the sections whose own loop repeats, the longest of the fullest), which is what
    a listener would hum back."""
    loop, fit = repeating_loop(chords)
    if fit >= 0.75 or len(sections) < 2:
        return loop, fit
    candidates = []
    for section in sections:
        own, own_fit = repeating_loop(chords[section.start_bar : section.start_bar + section.bars])
        if own:
            candidates.append((own_fit >= 0.75, section.bars * section.energy, own_fit, own))
    if not candidates:
        return loop, fit
    _, _, best_fit, best = max(candidates, key=lambda c: c[:3])
    return (best, best_fit) if best_fit > fit else (loop, fit)


def _kind_of_sound(mono22: np.ndarray, grid: BeatGrid, key_confidence: float) -> str:
    """music, noise or speech. Only a reference without a steady beat can be noise or speech: a drum
    loop is as flat in pitch as noise, and rap has a beat under it."""
    if grid.steady:
        return "music"
    import librosa

    spectrum = np.abs(librosa.stft(mono22[: 60 * 22050], n_fft=1024, hop_length=512))
    chroma = librosa.feature.chroma_stft(S=spectrum**2, sr=22050)
    # How much one pitch class stands out per frame: noise ~1.3, any pitched sound ≥ 2.
    peakiness = float(np.median(chroma.max(axis=0) / np.maximum(chroma.mean(axis=0), 1e-9)))
    if peakiness < 1.6:
        return "noise"
    level = 20 * np.log10(np.maximum(librosa.feature.rms(S=spectrum, frame_length=1024)[0], 1e-9))
    # Talk pauses between words and phrases (~half the frames 25 dB down); music rarely does.
    pauses = float(np.mean(level < np.percentile(level, 95) - 25))
    if pauses >= 0.2 and key_confidence < MIN_KEY_CONFIDENCE:
        return "speech"
    return "music"


def _with_downbeat(grid: BeatGrid, mono22: np.ndarray, onsets: Any, duration: float) -> BeatGrid:
    """The first downbeat: of the four beat positions, the one where kicks land and chords change most."""
    from dataclasses import replace

    import librosa

    beats = np.arange(grid.first_beat_s, duration, grid.beat_s)
    per = grid.beats_per_bar
    if beats.size < per * 2:
        return grid
    chroma = librosa.feature.chroma_stft(y=mono22, sr=22050, hop_length=512)
    frames = np.clip(librosa.time_to_frames(beats, sr=22050, hop_length=512), 0, chroma.shape[1] - 1)
    synced = librosa.util.sync(chroma, np.append(frames, chroma.shape[1]), aggregate=np.mean, pad=False)[
        :, : beats.size
    ]
    unit = synced / np.maximum(np.linalg.norm(synced, axis=0, keepdims=True), 1e-9)
    change = np.concatenate([[0.0], 1.0 - np.sum(unit[:, 1:] * unit[:, :-1], axis=0)])
    low_frames = np.clip(np.rint((beats - ONSET_LATENCY_S) * FRAME_RATE).astype(int), 0, onsets.low.size - 1)
    low = onsets.low[low_frames]

    def by_position(x: np.ndarray) -> np.ndarray:
        values = np.array([x[p::per].mean() for p in range(per)])
        return values / max(values.max(), 1e-9)

    score = by_position(low) + 1.5 * by_position(change[: beats.size])
    first = float(beats[int(np.argmax(score))])
    # The earliest downbeat of the grid (one a few ms before the file starts counts as at 0).
    first -= grid.bar_s * np.floor((first + 0.15 * grid.beat_s) / grid.bar_s)
    return replace(grid, first_downbeat_s=max(0.0, first))
