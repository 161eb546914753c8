"""What a status message says about a job, whatever the chat platform.

Discord and Slack each draw a `StatusView` their own way (an embed, Block Kit); what the view
contains is decided once, here, from the job and its event history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.reference.words import is_reference_note
from pipeline.vocabulary import STAGES
from worker.schemas import JobEvent, JobStatus, JobView

STAGE_LABELS = {
    "parsing": "Understanding the prompt",
    "analysing": "Analysing the reference",
    "composing": "Composing",
    "rendering": "Rendering",
    "mixing": "Mixing",
    "mastering": "Mastering",
    "qa": "Checking quality",
    # a neural backend's own stages, after ampa's guide arrangement is rendered
    "generating": "Generating the audio",
    "correcting": "Correcting tempo and key",
}
NEURAL_STAGES = ("generating", "correcting")

DONE, ACTIVE, WAITING, FAILED_MARK = "✓", "▶", "·", "✗"


@dataclass(frozen=True)
class StatusView:
    headline: str  # "🎧 Making your track…", "✅ Ready — v2", "❌ Failed"
    understood: str  # the spec summary: what ampa understood
    lines: list[str]  # one per stage, then QA attempts, then queue position
    final: bool
    verdict: str | None = None  # "QA passed on attempt 2 (−14.0 LUFS, −1.2 dBTP)"
    timings: str | None = None  # "composing 0.2 s · rendering 2.1 s · … · total 5.3 s"
    notes: list[str] = field(default_factory=list)
    # What the reference track lent the spec and what it did not, and why (split out of the notes).
    reference: list[str] = field(default_factory=list)

    def as_text(self) -> str:
        """Plain text (also what tests read): headline, understanding, reference, stages, verdict, timings, notes."""
        parts = [self.headline, f"Understood: {self.understood}"]
        parts += [f"🎚️ {line}" for line in self.reference]
        parts += self.lines
        if self.verdict:
            parts.append(self.verdict)
        if self.timings:
            parts.append(self.timings)
        parts += [f"Note: {note}" for note in self.notes]
        return "\n".join(parts)


def render_status(job: JobView, events: list[JobEvent]) -> StatusView:
    reached = _stages_reached(events)
    current = job.stage if job.status in (JobStatus.PROCESSING, JobStatus.RETRYING_QA) else None
    lines: list[str] = []
    if job.status == JobStatus.PENDING:
        backend = _waiting_for_backend(events)
        if backend:
            lines.append(f"⏳ Waiting for a worker that runs {backend} (none is running right now)")
        else:
            position = _latest_queue_position(events)
            lines.append(f"⏳ Waiting in the queue{f' — position {position}' if position else ''}")
    if current == "waiting":  # rate-limited by a remote service: the newest event says for how long
        wait = next((e.data["retry_in_s"] for e in reversed(events) if "retry_in_s" in e.data), None)
        retry = f", retrying in {wait} s" if wait is not None else ""
        lines.append(f"⏳ Waiting (rate limited){retry}")
        current = "generating"
    for stage in _stages_for(job):
        if stage == "analysing" and "analysing" not in reached:
            continue  # only shown for jobs with a reference track
        if stage == current:
            mark = ACTIVE
        elif stage in reached:
            mark = FAILED_MARK if job.status == JobStatus.FAILED and stage == reached[-1] else DONE
        else:
            mark = WAITING
        lines.append(f"{mark} {STAGE_LABELS[stage]}")
    lines += _qa_lines(events)
    version = f" — v{job.version}" if job.version > 1 else ""
    headline = {
        JobStatus.PENDING: "🎧 Queued",
        JobStatus.PROCESSING: "🎧 Making your track…",
        JobStatus.RETRYING_QA: "🔧 Fixing the mix…",
        JobStatus.SUCCESS: f"✅ Your track is ready{version}",
        JobStatus.FAILED: f"❌ That one failed{version}",
        JobStatus.CANCELLED: "⏹️ Cancelled",
    }[job.status]
    verdict = None
    if job.status == JobStatus.SUCCESS:
        verdict = _qa_verdict(job)
    elif job.status == JobStatus.FAILED:
        verdict = f"Why: {job.error or 'an unknown error'}"
    made_with = f" · made with {job.backend}" if job.backend != "symbolic" else ""
    return StatusView(
        headline=headline,
        understood=job.summary + made_with,
        lines=lines,
        final=job.status.is_terminal,
        verdict=verdict,
        timings=format_timings(job.timings) if job.status.is_terminal and job.timings else None,
        notes=[n for n in job.notes if not is_reference_note(n)],
        reference=[_capitalised(n) for n in job.notes if is_reference_note(n)],
    )


def _capitalised(note: str) -> str:
    return note[:1].upper() + note[1:]


def _stages_for(job: JobView) -> list[str]:
    if job.backend == "symbolic":
        return list(STAGES)
    at = STAGES.index("rendering") + 1  # the guide arrangement first, then the model
    return [*STAGES[:at], *NEURAL_STAGES, *STAGES[at:]]


def _waiting_for_backend(events: list[JobEvent]) -> str | None:
    """The backend a waiting job still waits for a worker for (None once it is queued normally)."""
    for event in reversed(events):
        if "waiting_for_backend" in event.data:
            return event.data["waiting_for_backend"]
        if "queue_position" in event.data:
            return None
    return None


def format_timings(timings: dict[str, float]) -> str:
    ordered = [(stage, timings[stage]) for stage in STAGES if stage in timings]
    total = timings.get("total", sum(seconds for _, seconds in ordered))
    body = " · ".join(f"{stage} {seconds:.1f} s" for stage, seconds in ordered)
    return f"⏱️ {body} · total {total:.1f} s" if body else f"⏱️ total {total:.1f} s"


def _stages_reached(events: list[JobEvent]) -> list[str]:
    seen: list[str] = []
    for event in events:
        if event.stage and event.stage not in seen:
            seen.append(event.stage)
    return seen


def _latest_queue_position(events: list[JobEvent]) -> int | None:
    for event in reversed(events):
        if "queue_position" in event.data:
            return event.data["queue_position"]
    return None


def _qa_lines(events: list[JobEvent]) -> list[str]:
    """One line per failed QA attempt that ampa went on to fix: 'QA: too loud, fixing — attempt 2'."""
    lines = []
    for event in events:
        if event.status == JobStatus.RETRYING_QA:
            failures = event.data.get("failures") or []
            reason = failures[0] if failures else event.message
            lines.append(f"🔧 QA: {reason}, fixing — attempt {event.attempt + 1}")
    return lines


def _qa_verdict(job: JobView) -> str:
    if not job.qa_reports:
        return "QA: not run"
    last = job.qa_reports[-1]
    measured = {check.get("name"): check.get("measured") for check in last.get("checks", [])}
    loudness = measured.get("loudness")
    peak = measured.get("true_peak")
    figures = []
    if isinstance(loudness, (int, float)):
        figures.append(f"{loudness:.1f} LUFS")
    if isinstance(peak, (int, float)):
        figures.append(f"{peak:.1f} dBTP")
    attempts = len(job.qa_reports)
    where = "first try" if attempts == 1 else f"attempt {attempts}"
    suffix = f" ({', '.join(figures)})" if figures else ""
    return f"✅ QA passed on {where}{suffix}"


_FILE_WORDS = {
    "mix.mp3": "the mastered mix (MP3)",
    "mix.wav": "the mastered mix (WAV)",
    "spectrogram.png": "its spectrogram",
    "song.mid": "the MIDI of the arrangement the model followed",
    "report.json": "report.json",
}


def neural_files_note(job: JobView) -> str | None:
    """For a track made by a mix-only (neural) backend: which files it has, and why no stems."""
    if job.backend == "symbolic" or any(name.startswith("stems") for name in job.files):
        return None
    have = [words for name, words in _FILE_WORDS.items() if name in job.files]
    listed = ", ".join(have[:-1]) + (f" and {have[-1]}" if len(have) > 1 else "".join(have))
    return (
        f"Made with {job.backend}: this track has {listed or 'no files'}. There are no stems: {job.backend} "
        "makes one finished stereo mix, not separate instruments — ask with the symbolic model for stems."
    )
