"""Posting a finished job: a thread from the status message, the track and its files, the buttons.

Discord refuses uploads over the bot's limit (10 MB unless the server is boosted), so the MP3 is
re-encoded at a lower bitrate when it would not fit, and stems that do not fit are offered through
a signed link instead (when AMPA_PUBLIC_URL says where the track pages are; the API path otherwise).
The message carries a link button to the track page. Posting is idempotent: before uploading, the
thread's recent history is read and a result already posted for this job (a restart between upload
and `mark_delivered`) is not posted again.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import discord

from bot.common.status import neural_files_note
from bot.discord.settings import DiscordSettings
from bot.discord.status import job_footer
from worker.schemas import JobStatus, JobView

log = logging.getLogger(__name__)

# What goes into the first message, in this order; stems get their own message.
MAIN_FILES = ("mix.mp3", "spectrogram.png", "song.mid")
STEMS = "stems.zip"
_HEADROOM = 64 * 1024  # multipart framing and the JSON payload also count against the limit
_THREAD_NAME_MAX = 100


@dataclass(frozen=True)
class Upload:
    name: str
    path: Path

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def thread_name(job: JobView) -> str:
    base = job.summary if job.summary and not job.summary.startswith("(") else job.prompt
    name = f"🎵 {base}".strip()
    return name if len(name) <= _THREAD_NAME_MAX else name[: _THREAD_NAME_MAX - 1] + "…"


def result_text(job: JobView) -> str:
    return f"**v{job.version}** · {job.summary}"


async def fit_mp3(mp3: Path, wav: Path | None, budget: int, workdir: Path) -> Path | None:
    """The MP3 itself when it fits in `budget` bytes, else a re-encode from the WAV at a bitrate that fits.

    None when even 32 kbit/s would not fit (a very long track on a tiny limit).
    """
    if mp3.stat().st_size <= budget:
        return mp3
    source = wav if wav is not None and wav.exists() else mp3
    seconds = await asyncio.to_thread(_duration_s, source)
    kbps = int(budget * 8 / max(seconds, 1.0) / 1000 * 0.93)  # 7 % margin for the container and VBR drift
    for rate in (320, 256, 192, 160, 128, 112, 96, 80, 64, 48, 40, 32):
        if rate > kbps:
            continue
        out = workdir / f"mix-{rate}k.mp3"
        proc = await asyncio.create_subprocess_exec(
            "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source),
            "-codec:a", "libmp3lame", "-b:a", f"{rate}k", str(out),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await proc.communicate()
        if proc.returncode != 0:
            log.warning("ffmpeg could not re-encode %s: %s", source, err.decode(errors="replace")[-300:])
            return None
        if out.stat().st_size <= budget:
            return out
    return None


def _duration_s(path: Path) -> float:
    from pedalboard.io import AudioFile  # the audio stack loads only when a file needs re-encoding

    with AudioFile(str(path)) as audio:
        return audio.frames / audio.samplerate


def stems_hint(job: JobView, public_base_url: str | None, size: int | None, stems_url: str | None = None) -> str:
    size_text = f" ({size / 1e6:.1f} MB)" if size else ""
    if stems_url:  # a signed link: opens for anyone who has it, no token
        return f"The stems{size_text} are too large to upload here: [download them]({stems_url})."
    where = (
        f"{public_base_url.rstrip('/')}/jobs/{job.id}/files/{STEMS}"
        if public_base_url
        else f"the ampa API at `/jobs/{job.id}/files/{STEMS}` (or `ampa jobs show {job.id}` on the server)"
    )
    return f"The stems{size_text} are too large to upload here; download them from {where}."


def with_page_button(view: discord.ui.View | None, page_url: str | None) -> discord.ui.View | None:
    """The result's buttons plus a link button to the track page (a link button needs no handler)."""
    if page_url is None:
        return view
    view = view or discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(style=discord.ButtonStyle.link, label="Track page", emoji="🔗", url=page_url))
    return view


async def already_posted(thread: discord.abc.Messageable, job: JobView, me: discord.abc.Snowflake) -> bool:
    """Was this job's result posted before a restart? (Recognised by the job footer on a bot message with files.)"""
    footer = job_footer(job)
    async for message in thread.history(limit=30):
        if message.author.id == me.id and message.attachments and any(e.footer.text == footer for e in message.embeds):
            return True
    return False


async def post_results(
    thread: discord.abc.Messageable,
    job: JobView,
    *,
    files: dict[str, Path],
    settings: DiscordSettings,
    public_base_url: str | None,
    view: discord.ui.View | None,
    links: dict[str, str] | None = None,
) -> discord.Message | None:
    """Upload the track, picture and MIDI (+ stems when they fit) to `thread`; return the main message.

    `files` maps artifact names ("mix.mp3", "stems.zip", ...) to local paths (JobService.file_path);
    `links`: signed URLs ("page" and one per file) when the track pages have a public address.
    """
    links = links or {}
    if job.status != JobStatus.SUCCESS:
        return None
    limit = settings.upload_limit_bytes - _HEADROOM
    files = {name: path for name, path in files.items() if path is not None and path.is_file()}
    with tempfile.TemporaryDirectory(prefix="ampa-discord-") as tmp:
        uploads: list[Upload] = []
        notes: list[str] = []
        extras = [Upload(n, files[n]) for n in MAIN_FILES[1:] if n in files]
        extras_size = sum(u.size for u in extras)
        if "mix.mp3" in files:
            mp3 = await fit_mp3(files["mix.mp3"], files.get("mix.wav"), limit - extras_size, Path(tmp))
            if mp3 is not None:
                uploads.append(Upload("mix.mp3", mp3))
            elif "mix.mp3" in links:
                notes.append(f"The track is too long to upload here: [download it]({links['mix.mp3']}).")
            else:
                notes.append(
                    f"The track is too long to upload here; download it from the API at `/jobs/{job.id}/files/mix.mp3`."
                )
        uploads += extras
        embed = discord.Embed(description=result_text(job), colour=discord.Colour.green())
        embed.set_footer(text=job_footer(job))
        stems = files.get(STEMS)
        stems_fit = stems is not None and stems.stat().st_size <= limit
        if stems is not None and not stems_fit:
            notes.append(stems_hint(job, public_base_url, stems.stat().st_size, links.get(STEMS)))
        if notes:
            embed.add_field(name="Downloads", value="\n".join(notes)[:1024], inline=False)
        if files_note := neural_files_note(job):
            embed.add_field(name="Files", value=files_note[:1024], inline=False)
        requester = job.requester_id if job.requester_id.isdigit() else None
        main = await thread.send(
            content=f"<@{requester}> here it is:" if requester else None,  # the one ping of a job: it is ready
            embed=embed,
            files=[discord.File(u.path, filename=_download_name(job, u.name)) for u in uploads],
            view=with_page_button(view, links.get("page")),
            allowed_mentions=discord.AllowedMentions(
                users=[discord.Object(id=int(requester))] if requester else False, everyone=False, roles=False
            ),
        )
        if stems is not None and stems_fit:
            await thread.send(
                content=f"Stems for v{job.version} (one WAV per instrument):",
                file=discord.File(stems, filename=_download_name(job, STEMS)),
                allowed_mentions=discord.AllowedMentions.none(),
            )
    return main


def _download_name(job: JobView, name: str) -> str:
    stem, _, ext = name.rpartition(".")
    return f"ampa-{job.id[:8]}-v{job.version}-{stem}.{ext}"
