"""What a track page shows, as plain data for the template: downloads with sizes, what ampa
understood (each value with where it came from), the QA figures measured on the master, and the
versions of the track. No HTML here; templates/track.html lays it out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worker.schemas import JobStatus, JobView
from worker.web.links import LinkSigner

# The files people download, in the order they want them, with what each one is.
DOWNLOADS = (
    ("mix.mp3", "Track", "MP3"),
    ("mix.wav", "Track, full quality", "WAV 24-bit"),
    ("stems.zip", "Stems, one file per instrument", "FLAC 24-bit, zip"),
    ("song.mid", "Arrangement", "MIDI, one track per stem"),
    ("report.json", "Report: the spec, timings and every QA attempt", "JSON"),
)
# The FLAC stems as 24-bit WAVs, made on request (worker/web/pages.py), for Logic Pro and Pro Tools,
# whose documented import formats are WAV and AIFF (no FLAC).
WAV_STEMS = "stems-wav.zip"
PICTURES = (("pianoroll.png", "Piano roll: one colour per stem, sections marked"), ("spectrogram.png", "Spectrogram"))

_SOURCES = {"prompt": "you asked", "reference": "from your reference", "default": "ampa chose"}
_SPEC_FIELDS = (
    ("genres", "Genre"),
    ("moods", "Mood"),
    ("instruments", "Instruments"),
    ("exclude", "Without"),
    ("tempo_bpm", "Tempo"),
    ("key", "Key"),
    ("time_signature", "Meter"),
    ("duration_s", "Length"),
    ("energy", "Energy"),
    ("seed", "Seed"),
    ("loudness_lufs", "Loudness target"),
    ("true_peak_dbtp", "True-peak ceiling"),
)
_QA_FIGURES = (
    ("loudness", "Loudness", "{:.1f} LUFS"),
    ("true_peak", "True peak", "{:.1f} dBTP"),
    ("tempo", "Tempo", "{:.1f} BPM"),
    ("key", "Key", "{}"),
)


@dataclass(frozen=True)
class Download:
    name: str
    label: str
    kind: str
    url: str
    size: str


@dataclass(frozen=True)
class Understood:
    label: str
    value: str
    source: str  # in words: "you asked", "from your reference", "ampa chose"


@dataclass(frozen=True)
class Figure:
    label: str
    measured: str
    target: str
    passed: bool


@dataclass(frozen=True)
class Version:
    version: int
    words: str  # the prompt of v1, the reply that made each later one
    status: str
    url: str
    current: bool


def human_size(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def state_of(job: JobView) -> str:
    """ready | expired (files removed by retention) | working | failed | cancelled"""
    if job.status == JobStatus.SUCCESS:
        return "ready" if job.files else "expired"
    if job.status == JobStatus.FAILED:
        return "failed"
    if job.status == JobStatus.CANCELLED:
        return "cancelled"
    return "working"


def downloads(job: JobView, paths: dict[str, Path], signer: LinkSigner, expires: int) -> list[Download]:
    out = []
    for name, label, kind in DOWNLOADS:
        if name in paths:
            size = human_size(paths[name].stat().st_size)
            out.append(Download(name, label, kind, signer.file_url(job.id, name, expires), size))
        if name == "stems.zip" and name in paths:
            made = paths[name].with_name(WAV_STEMS)
            size = human_size(made.stat().st_size) if made.is_file() else "made when asked"
            label = "Stems as WAV, for Logic Pro and Pro Tools"
            out.append(Download(WAV_STEMS, label, "WAV 24-bit, zip", signer.file_url(job.id, WAV_STEMS, expires), size))
    return out


def stem_downloads(job: JobView, paths: dict[str, Path], signer: LinkSigner, expires: int) -> list[Download]:
    out = []
    for name, path in sorted(paths.items()):
        if name.startswith("stems/"):
            kind = f"{path.suffix[1:].upper()} 24-bit"
            url = signer.file_url(job.id, name, expires)
            out.append(Download(name, path.stem, kind, url, human_size(path.stat().st_size)))
    return out


def understood(spec: dict[str, Any] | None) -> list[Understood]:
    if not spec:
        return []
    rows = []
    for field, label in _SPEC_FIELDS:
        value = spec.get(field)
        if not value:
            continue
        items = value if isinstance(value, list) else [value]
        sources = {_SOURCES.get(item.get("source", "default"), item.get("source", "")) for item in items}
        text = ", ".join(_spec_value(field, item.get("value")) for item in items)
        rows.append(Understood(label, text, " / ".join(sorted(sources))))
    if spec.get("mix"):
        levels = ", ".join(f"{stem} {offset:+g} dB" for stem, offset in spec["mix"].items())
        rows.append(Understood("Mix", levels, _SOURCES["prompt"]))
    return rows


def _spec_value(field: str, value: Any) -> str:
    if field == "tempo_bpm":
        return f"{value:g} BPM"
    if field == "duration_s":
        seconds = round(float(value))
        return f"{seconds // 60}:{seconds % 60:02d}"
    if field == "loudness_lufs":
        return f"{value:g} LUFS"
    if field == "true_peak_dbtp":
        return f"{value:g} dBTP"
    if field == "energy":
        return f"{float(value):.2f}"
    return str(value)


def final_qa(job: JobView, report_path: Path | None) -> dict[str, Any] | None:
    """The last QA attempt: from report.json while it exists, else from the job record (same data)."""
    if report_path is not None:
        try:
            attempts = json.loads(report_path.read_text(encoding="utf-8")).get("qa") or []
            if attempts:
                return attempts[-1]
        except (OSError, ValueError):
            pass
    return job.qa_reports[-1] if job.qa_reports else None


def qa_figures(report: dict[str, Any] | None) -> list[Figure]:
    if not report:
        return []
    checks = {check.get("name"): check for check in report.get("checks", [])}
    figures = []
    for name, label, fmt in _QA_FIGURES:
        check = checks.get(name)
        if check is None or check.get("measured") is None:
            continue
        measured, target = check["measured"], check.get("target")
        figures.append(
            Figure(
                label,
                fmt.format(measured),
                fmt.format(target) if isinstance(target, (int, float, str)) and target != "" else "",
                bool(check.get("passed", True)),
            )
        )
    return figures


def versions(current: JobView, tree: list[JobView], signer: LinkSigner, expires: int) -> list[Version]:
    if len(tree) < 2:
        return []
    return [
        Version(
            version=job.version,
            words=_shorten(job.prompt, 80),
            status=state_of(job),
            url=signer.page_url(job.id, expires),
            current=job.id == current.id,
        )
        for job in tree
    ]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
