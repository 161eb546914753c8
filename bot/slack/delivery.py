"""Posting a finished job's files into its thread with Slack's current upload flow.

`files_upload_v2` asks `files.getUploadURLExternal` for one upload URL per file, sends each file's
bytes there, then shares them all in one message with `files.completeUploadExternal` (channel +
thread_ts), so the track, spectrogram, MIDI and stems arrive together under one comment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.common.status import neural_files_note
from worker.schemas import JobView

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deliverable:
    artifact: str  # name in JobView.files
    title: str


# In the order a listener wants them: the track first.
DELIVERABLES = (
    Deliverable("mix.mp3", "Mastered track"),
    Deliverable("spectrogram.png", "Spectrogram"),
    Deliverable("song.mid", "MIDI"),
    Deliverable("stems.zip", "Stems"),
)


def _upload_name(job: JobView, artifact: str) -> str:
    stem, dot, suffix = artifact.rpartition(".")
    return f"ampa-{job.id[:8]}-v{job.version}-{stem}.{suffix}" if dot else f"ampa-{job.id[:8]}-{artifact}"


async def deliver(
    client: AsyncWebClient,
    service: Any,
    job: JobView,
    *,
    channel: str,
    thread_ts: str,
    max_upload_bytes: int,
    links: dict[str, str] | None = None,
) -> list[str]:
    """Upload the job's files into the thread; return the artifact names uploaded. `links`: signed
    URLs ("page" and one per file name) when the track pages have a public address."""
    links = links or {}
    uploads: list[dict[str, Any]] = []
    linked: list[str] = []  # too large, but a signed link gets them
    missing: list[str] = []
    for item in DELIVERABLES:
        path: Path | None = service.file_path(job, item.artifact)
        if path is None or not Path(path).is_file():
            continue
        size = Path(path).stat().st_size
        if size > max_upload_bytes:
            if item.artifact in links:
                linked.append(f"<{links[item.artifact]}|{item.title}> ({size / 1e6:.0f} MB)")
            else:
                cap = f"over the {max_upload_bytes / 1e6:.0f} MB upload cap"
                missing.append(f"{item.title} ({size / 1e6:.0f} MB, {cap})")
            continue
        uploads.append({"file": str(path), "filename": _upload_name(job, item.artifact), "title": item.title})
    comment = f"🎵 *v{job.version}* — {job.summary}"
    if "page" in links:
        comment += f"\n<{links['page']}|Open the track page> to play it, see it and download everything."
    if linked:
        comment += "\nToo large to upload here, so download them from their links: " + ", ".join(linked) + "."
    if files_note := neural_files_note(job):
        comment += "\n" + files_note
    if missing:
        comment += "\nNot uploaded: " + "; ".join(missing) + ". Ask the operator to fetch them from the job store."
    if not uploads:
        await client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=comment if linked else comment + "\n(No files were produced.)"
        )
        return []
    await client.files_upload_v2(file_uploads=uploads, channel=channel, thread_ts=thread_ts, initial_comment=comment)
    names = [item.artifact for item in DELIVERABLES if any(u["title"] == item.title for u in uploads)]
    log.info("delivered job %s v%s: %s", job.id, job.version, ", ".join(names))
    return names
