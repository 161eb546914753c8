"""Files a user downloads: mix.wav (24-bit), mix.mp3, stems/<role>.flac (24-bit), stems.zip,
spectrogram.png, pianoroll.png.

Every file is written under a temporary name in the same folder and moved into place with
os.replace, so a reader (a bot uploading, a web server) never sees a half-written file.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile

from pipeline.qa.loudness import as_channels_first
from pipeline.score import Arrangement

# Discord's upload limit is 8 MB (decimal, with some envelope): keep the MP3 under this.
MP3_BUDGET_BYTES = 7_500_000
MP3_BITRATES_KBPS = (320, 256, 224, 192, 160, 128, 112, 96, 80, 64)
MAX_MP3_KBPS = 256  # transparent for this material; 320 buys nothing audible
STEM_PEAK_LIMIT = 0.98


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """A temporary path next to `final`; moved onto `final` only if the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    # Keep the real extension last: encoders choose the format from it.
    tmp = final.with_name(f".{final.stem}.{os.getpid()}.tmp{final.suffix}")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def mp3_bitrate_kbps(seconds: float) -> int:
    """The highest standard CBR bitrate (<= 256 kbps) whose file fits MP3_BUDGET_BYTES."""
    for kbps in MP3_BITRATES_KBPS:
        if kbps <= MAX_MP3_KBPS and kbps * 1000 / 8 * seconds * 1.01 <= MP3_BUDGET_BYTES:
            return kbps
    return MP3_BITRATES_KBPS[-1]


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> Path:
    """24-bit PCM WAV, atomically. Samples beyond full scale are clipped by the PCM conversion."""
    data = as_channels_first(np.asarray(audio, dtype=np.float32)).T
    with atomic_path(path) as tmp:
        soundfile.write(str(tmp), data, sample_rate, subtype="PCM_24", format="WAV")
    return path


def write_mp3(path: Path, audio: np.ndarray, sample_rate: int) -> Path:
    from pedalboard.io import AudioFile

    audio = as_channels_first(np.asarray(audio, dtype=np.float32))
    kbps = mp3_bitrate_kbps(audio.shape[1] / sample_rate)
    channels = audio.shape[0]
    # AudioFile closes (flushing the encoder) before atomic_path moves the file into place.
    with (
        atomic_path(path) as tmp,
        AudioFile(str(tmp), "w", samplerate=sample_rate, num_channels=channels, quality=kbps) as f,
    ):
        f.write(np.clip(audio, -1.0, 1.0))
    return path


def write_audio_outputs(
    out_dir: Path, mastered: np.ndarray, sample_rate: int, stems: Mapping[str, np.ndarray]
) -> dict[str, Path]:
    """Write the mix (WAV + MP3) and the stems (WAVs + zip); returns name -> path.

    Names: "mix.wav", "mix.mp3", "stems/<role>.flac", "stems.zip" (no stem files for a
    mix-only backend).
    """
    files = write_stem_outputs(out_dir, stems, sample_rate)
    files.update(write_mix_outputs(out_dir, mastered, sample_rate))
    return files


def write_mix_outputs(out_dir: Path, mastered: np.ndarray, sample_rate: int) -> dict[str, Path]:
    """mix.wav (24-bit) and mix.mp3; the MP3 encoder runs beside the WAV write (both release the GIL)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ampa-mp3") as encoder:
        mp3 = encoder.submit(write_mp3, out_dir / "mix.mp3", mastered, sample_rate)
        files: dict[str, Path] = {"mix.wav": write_wav(out_dir / "mix.wav", mastered, sample_rate)}
        files["mix.mp3"] = mp3.result()
    return files


def write_flac(path: Path, audio: np.ndarray, sample_rate: int) -> Path:
    """24-bit FLAC, atomically: lossless, the same samples as a 24-bit WAV in fewer bytes (a quiet
    or silent stretch of a stem costs almost nothing)."""
    data = as_channels_first(np.asarray(audio, dtype=np.float32)).T
    with atomic_path(path) as tmp:
        soundfile.write(str(tmp), data, sample_rate, subtype="PCM_24", format="FLAC")
    return path


def write_stem_outputs(out_dir: Path, stems: Mapping[str, np.ndarray], sample_rate: int) -> dict[str, Path]:
    """stems/<role>.flac (24-bit) and stems.zip; nothing for a mix-only backend.

    Stems are pre-master; if any would clip in 24-bit, all of them are lowered by the same amount,
    so they still sum to one balanced mix. The FLAC encoders run two at a time (libsndfile releases
    the GIL while it encodes).
    """
    files: dict[str, Path] = {}
    if not stems:
        return files
    out_dir = Path(out_dir)
    peak = max(max(float(s.max()), -float(s.min())) for s in stems.values())
    scale = np.float32(STEM_PEAK_LIMIT / peak) if peak > STEM_PEAK_LIMIT else np.float32(1.0)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ampa-flac") as encoders:
        pending = {
            f"stems/{role}.flac": encoders.submit(
                write_flac, out_dir / "stems" / f"{role}.flac", stem * scale if scale != 1.0 else stem, sample_rate
            )
            for role, stem in stems.items()
        }
        stem_paths = {name: future.result() for name, future in pending.items()}
    files.update(stem_paths)
    files["stems.zip"] = write_zip(out_dir / "stems.zip", stem_paths.values())
    return files


def write_zip(path: Path, members: Iterable[Path]) -> Path:
    """The stem files, stored (FLAC does not deflate further, and stored zips open instantly)."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
        for member in members:
            archive.write(member, arcname=f"stems/{Path(member).name}")
    return path


# ----------------------------------------------------------------------------------------------
# Spectrogram

SPECTROGRAM_RATE = 22050
_FREQ_BINS = 320
_MIN_HZ = 30.0
_DYNAMIC_RANGE_DB = 80.0


def write_spectrogram(path: Path, audio: np.ndarray, sample_rate: int, title: str) -> Path:
    """A 1600x600 log-frequency spectrogram PNG: time in m:ss, Hz/kHz, a dB colour bar, the title."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    image, seconds, freqs = log_spectrogram(audio, sample_rate)
    figure = Figure(figsize=(16, 6), dpi=100, facecolor="#101014")
    axes = figure.add_axes((0.055, 0.11, 0.86, 0.78))
    mesh = axes.imshow(
        image,
        origin="lower",
        aspect="auto",
        cmap="magma",
        vmin=-_DYNAMIC_RANGE_DB,
        vmax=0.0,
        extent=(0.0, seconds, 0.0, float(freqs.size)),
        interpolation="bilinear",
    )
    ticks_hz = [f for f in (50, 100, 200, 500, 1000, 2000, 5000, 10000) if freqs[0] <= f <= freqs[-1]]
    axes.set_yticks([float(np.interp(np.log(f), np.log(freqs), np.arange(freqs.size))) for f in ticks_hz])
    axes.set_yticklabels([f"{f // 1000}k" if f >= 1000 else str(f) for f in ticks_hz])
    axes.xaxis.set_major_locator(MultipleLocator(_time_step(seconds)))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda s, _: f"{round(s) // 60}:{round(s) % 60:02d}"))
    axes.set_xlabel("time (m:ss)", color="#d0d0d8")
    axes.set_ylabel("frequency (Hz)", color="#d0d0d8")
    axes.set_title(title, color="#f0f0f4", fontsize=15, loc="left", pad=12)
    axes.tick_params(colors="#d0d0d8")
    for spine in axes.spines.values():
        spine.set_color("#404048")
    colour_axes = figure.add_axes((0.925, 0.11, 0.012, 0.78))
    bar = figure.colorbar(mesh, cax=colour_axes)
    bar.set_label("level (dB)", color="#d0d0d8")
    bar.ax.tick_params(colors="#d0d0d8")
    with atomic_path(Path(path)) as tmp:
        figure.savefig(tmp, format="png", facecolor=figure.get_facecolor())
    return Path(path)


def _time_step(seconds: float) -> float:
    """A round tick spacing (1 s .. 2 min) giving at most 12 time labels."""
    return next((step for step in (1, 2, 5, 10, 15, 20, 30, 60, 120) if seconds / step <= 12), 300)


def log_spectrogram(audio: np.ndarray, sample_rate: int, columns: int = 1400) -> tuple[np.ndarray, float, np.ndarray]:
    """(dB image [freq, time] relative to its max, duration in s, bin centre frequencies)."""
    import scipy.fft
    from scipy.signal import resample_poly

    mono = as_channels_first(np.asarray(audio, dtype=np.float32)).mean(axis=0)
    seconds = mono.size / sample_rate
    if sample_rate != SPECTROGRAM_RATE and sample_rate % SPECTROGRAM_RATE == 0:
        mono = resample_poly(mono, 1, sample_rate // SPECTROGRAM_RATE)
        rate = SPECTROGRAM_RATE
    else:
        rate = sample_rate
    n_fft, hop = 2048, 512
    if mono.size < n_fft:
        mono = np.pad(mono, (0, n_fft - mono.size))
    frames = np.lib.stride_tricks.sliding_window_view(mono.astype(np.float32), n_fft)[::hop]
    # scipy.fft keeps float32 (numpy's would double the memory and the time).
    power = np.abs(scipy.fft.rfft(frames * np.hanning(n_fft).astype(np.float32), axis=1)) ** 2
    # Average the frames falling in each picture column: every kick shows, none is skipped.
    groups = np.linspace(0, power.shape[0], num=min(columns, power.shape[0]) + 1).astype(int)[:-1]
    power = np.add.reduceat(power, groups, axis=0) / np.diff(np.append(groups, power.shape[0]))[:, None]
    bin_hz = np.fft.rfftfreq(n_fft, 1.0 / rate)
    freqs = np.geomspace(_MIN_HZ, rate / 2 * 0.98, _FREQ_BINS)
    # Each log band averages the FFT bins it covers (low bands interpolate between bins).
    edges = np.searchsorted(bin_hz, np.sqrt(freqs[:-1] * freqs[1:]))
    edges = np.concatenate([[np.searchsorted(bin_hz, _MIN_HZ)], edges, [bin_hz.size - 1]])
    cumulative = np.concatenate([np.zeros((power.shape[0], 1)), np.cumsum(power, axis=1)], axis=1)
    widths = np.maximum(edges[1:] - edges[:-1], 1)
    banded = (cumulative[:, edges[:-1] + widths] - cumulative[:, edges[:-1]]) / widths
    db = 10 * np.log10(np.maximum(banded, 1e-12))
    db -= db.max()
    return np.maximum(db, -_DYNAMIC_RANGE_DB).T, seconds, freqs


# ----------------------------------------------------------------------------------------------
# Piano roll

# One colour per stem, the same on every track page; readable on the dark background.
ROLE_COLOURS = {
    "drums": "#ff6b6b",
    "bass": "#4ea8ff",
    "harmony": "#5fd38d",
    "pad": "#b48cff",
    "lead": "#ff8a3d",
    "fx": "#d8d8e0",
}


def write_pianoroll(path: Path, arrangement: Arrangement, title: str, seconds: float | None = None) -> Path:
    """A 1600x600 PNG of the arrangement on the spectrogram's time axis (m:ss, same plot area, over
    `seconds`, the audio's length), so the two line up on a page: one lane per stem in its colour
    (notes placed by pitch within the lane, brighter when louder), section boundaries as lines with
    their names along the top."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    tracks = [track for track in arrangement.tracks if track.notes]
    seconds = max(seconds or arrangement.duration_s, 1.0)
    figure = Figure(figsize=(16, 6), dpi=100, facecolor="#101014")
    axes = figure.add_axes((0.055, 0.11, 0.86, 0.74), facecolor="#16161c")
    lanes = max(len(tracks), 1)
    for lane, track in enumerate(tracks):
        base = lanes - 1 - lane  # the first stem on top
        pitches = np.array([note.pitch for note in track.notes], dtype=np.float64)
        starts = np.array([arrangement.beat_to_seconds(note.start) for note in track.notes])
        lengths = np.array([arrangement.beat_to_seconds(note.duration) for note in track.notes])
        lengths = np.maximum(lengths, seconds / 1600)  # at least a pixel wide
        low, span = pitches.min(), max(pitches.max() - pitches.min(), 1.0)
        height = min(0.8 / (span + 1), 0.12)
        bottoms = base + 0.1 + 0.8 * (pitches - low) / (span + 1)
        corners = np.stack(
            [
                np.stack([starts, bottoms], axis=1),
                np.stack([starts + lengths, bottoms], axis=1),
                np.stack([starts + lengths, bottoms + height], axis=1),
                np.stack([starts, bottoms + height], axis=1),
            ],
            axis=1,
        )
        alphas = 0.35 + 0.65 * np.array([note.velocity for note in track.notes]) / 127
        colour = to_rgb(ROLE_COLOURS.get(track.role, "#a0a0b0"))
        axes.add_collection(
            PolyCollection(corners, facecolors=[(*colour, a) for a in alphas], edgecolors="none", antialiased=False)
        )
        if lane:
            axes.axhline(base + 1, color="#2c2c36", linewidth=0.8)
    axes.set_xlim(0.0, seconds)
    axes.set_ylim(0.0, lanes)
    axes.set_yticks([lanes - 1 - lane + 0.5 for lane in range(len(tracks))])
    axes.set_yticklabels([track.role for track in tracks], fontsize=12)
    for label, track in zip(axes.get_yticklabels(), tracks, strict=True):
        label.set_color(ROLE_COLOURS.get(track.role, "#a0a0b0"))
    for section in arrangement.sections:
        start = section.start_bar * arrangement.bar_seconds
        if start >= seconds:
            continue
        axes.axvline(start, color="#f0f0f4", linewidth=1.0, alpha=0.55)
        axes.text(start + seconds * 0.004, 1.01, section.name, transform=axes.get_xaxis_transform(),
                  color="#f0f0f4", fontsize=10, va="bottom", clip_on=False)  # fmt: skip
    axes.xaxis.set_major_locator(MultipleLocator(_time_step(seconds)))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda s, _: f"{round(s) // 60}:{round(s) % 60:02d}"))
    axes.set_xlabel("time (m:ss)", color="#d0d0d8")
    axes.tick_params(axis="x", colors="#d0d0d8")
    axes.tick_params(axis="y", length=0)
    for spine in axes.spines.values():
        spine.set_color("#404048")
    figure.text(0.055, 0.95, title, color="#f0f0f4", fontsize=15, va="center")
    with atomic_path(Path(path)) as tmp:
        figure.savefig(tmp, format="png", facecolor=figure.get_facecolor())
    return Path(path)


def wav_copy_of_stems(flac_zip: Path, path: Path) -> Path:
    """The stems archive with 24-bit WAVs instead of FLACs (the same samples), for DAWs that do not
    read FLAC (Logic Pro and Pro Tools document WAV and AIFF, not FLAC). Made on request, one stem in
    memory at a time."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix=".wav-stems-", dir=path.parent) as scratch:
        members = []
        with zipfile.ZipFile(flac_zip) as archive:
            for name in archive.namelist():
                with archive.open(name) as member:
                    audio, rate = soundfile.read(member, dtype="float32", always_2d=True)
                members.append(write_wav(Path(scratch) / f"{Path(name).stem}.wav", audio.T, rate))
                del audio
        return write_zip(path, members)
