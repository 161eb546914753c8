"""The slash commands: /generate, /jobs, /cancel, /help.

/generate answers Discord within its 3-second limit by deferring first (a private "thinking…"),
then checks the options, downloads and checks the reference, submits the job and posts the public
status message that the tracker edits from then on. The private answer then links to it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.common.attachments import AUDIO_SUFFIXES, check_reference
from bot.discord.errors import UserFacingError, report_to_user
from pipeline.spec import Key
from pipeline.vocabulary import GENRES, MODES, MOODS, TONICS
from worker.schemas import JobRequest, JobStatus, JobView

if TYPE_CHECKING:
    from bot.discord.client import AmpaBot

log = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 1000
MAX_CHOICES = 25  # Discord shows at most 25 autocomplete choices
KEYS: tuple[str, ...] = tuple(f"{tonic} {mode}" for mode in MODES for tonic in TONICS)
_STATUS_ICONS = {
    JobStatus.PENDING: "⏳",
    JobStatus.PROCESSING: "🎧",
    JobStatus.RETRYING_QA: "🔧",
    JobStatus.SUCCESS: "✅",
    JobStatus.FAILED: "❌",
    JobStatus.CANCELLED: "⏹️",
}

HELP_TEXT = """\
**/generate** `prompt` — describe the track: *dark atmospheric synthwave at 140 BPM in A minor, 2 minutes*.
Optional: `reference` (an audio file whose tempo, key, form, chords and feel to follow; `match` also masters \
to its loudness and tonal balance), `duration` (seconds), `seed` \
(the same prompt and seed make the same track), `genre` / `mood` / `tempo` / `key` if you prefer picking to writing, \
and `model` (the offline symbolic composer, or a neural model such as Stable Audio where this server has one).
I post a status message that updates as the track is composed, rendered, mixed, mastered and checked, then \
a thread with the MP3, a spectrogram, the MIDI and the stems.
**In the thread** reply with a change — *make the drums quieter*, *faster*, *add strings* — and I make \
the next version there. Buttons: 🎲 Variation (same idea, new seed), 🔁 Regenerate (that version made \
again, e.g. after a failure), 🎛️ Tweak… (type a change).
**/jobs** — your recent tracks. **/cancel** — stop one that is still in the works.
"""


def _bot(interaction: discord.Interaction) -> AmpaBot:
    return interaction.client  # type: ignore[return-value]


def _matching(values: tuple[str, ...], current: str) -> list[app_commands.Choice[str]]:
    needle = current.strip().lower()
    starts = [v for v in values if v.lower().startswith(needle)]
    contains = [v for v in values if needle in v.lower() and v not in starts]
    return [app_commands.Choice(name=v, value=v) for v in (starts + contains)[:MAX_CHOICES]]


async def genre_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return _matching(GENRES, current)


async def mood_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return _matching(MOODS, current)


async def key_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return _matching(KEYS, current)


async def model_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Only the models this installation can run now (asked each time, not fixed at start-up:
    workers that serve a model come and go, and Discord's fixed choices change only on a re-sync)."""
    return _matching(tuple(await _bot(interaction).service.available_backends()), current)


def guided_overrides(genre: str | None, mood: str | None, tempo: int | None, key: str | None) -> dict[str, object]:
    """The picked choices as JobRequest.overrides; free text that is not in the vocabulary is refused with the options."""
    overrides: dict[str, object] = {}
    if genre:
        slug = genre.strip().lower().replace(" ", "-")
        if slug not in GENRES:
            raise UserFacingError(
                f"I don't know the genre “{genre}”. Pick one from the list, e.g. {', '.join(GENRES[:6])}…"
            )
        overrides["genre"] = slug
    if mood:
        slug = mood.strip().lower()
        if slug not in MOODS:
            raise UserFacingError(
                f"I don't know the mood “{mood}”. Pick one from the list, e.g. {', '.join(MOODS[:6])}…"
            )
        overrides["mood"] = slug
    if tempo is not None:
        overrides["tempo_bpm"] = float(tempo)
    if key:
        try:
            overrides["key"] = str(Key.parse(key))
        except ValueError:
            raise UserFacingError(f"“{key}” isn't a key I can use. Write it like “A minor” or “Eb major”.") from None
    return overrides


def check_prompt(prompt: str, has_guidance: bool) -> str:
    prompt = prompt.strip()
    if not prompt and not has_guidance:
        raise UserFacingError(
            "Your prompt is empty. Describe the track, e.g. “chill lofi hip-hop with piano, 2 minutes”."
        )
    if len(prompt) > MAX_PROMPT_CHARS:
        raise UserFacingError(
            f"Your prompt is {len(prompt):,} characters; keep it under {MAX_PROMPT_CHARS:,}. "
            "A sentence or two about genre, mood, tempo, key and instruments is all I need."
        )
    return prompt


async def download_reference(bot: AmpaBot, attachment: discord.Attachment) -> str:
    """Download and check a reference attachment; return the saved path for the job."""
    limits = bot.job_settings
    if attachment.size > limits.max_reference_bytes:  # refuse before downloading
        raise UserFacingError(
            f"{attachment.filename} is {attachment.size / 1e6:.1f} MB; references can be at most "
            f"{limits.max_reference_bytes / 1e6:.0f} MB. Send a shorter excerpt (30–60 s is plenty) or an MP3."
        )
    content_type = (attachment.content_type or "").split(";")[0]
    if (
        content_type
        and not content_type.startswith("audio/")
        and not attachment.filename.lower().endswith(AUDIO_SUFFIXES)
    ):
        raise UserFacingError(
            f"{attachment.filename} doesn't look like audio. Attach a WAV, FLAC, MP3 or OGG file as the reference."
        )
    data = await attachment.read()
    path = await asyncio.to_thread(
        check_reference,
        data,
        attachment.filename,
        max_bytes=limits.max_reference_bytes,
        max_seconds=limits.max_reference_seconds,
    )
    return str(path)


@app_commands.command(name="generate", description="Make a track from a description")
@app_commands.guild_only()  # results go in a thread, and DMs have none
@app_commands.describe(
    prompt="What to make, e.g. 'dark atmospheric synthwave at 140 BPM in A minor, 2 minutes'",
    reference="An audio file whose tempo, key, form, chords and feel to follow",
    duration="Length in seconds",
    seed="Same prompt + same seed = same track",
    genre="Pick a genre instead of writing it",
    mood="Pick a mood",
    tempo="Tempo in BPM",
    key="Key, e.g. 'A minor'",
    match="Master to the reference's loudness and tonal balance (needs a reference)",
    model="Which model makes it (default: the server's); neural models give a mix, no stems",
)
@app_commands.autocomplete(
    genre=genre_autocomplete, mood=mood_autocomplete, key=key_autocomplete, model=model_autocomplete
)
async def generate(
    interaction: discord.Interaction,
    prompt: app_commands.Range[str, 1, MAX_PROMPT_CHARS],
    reference: discord.Attachment | None = None,
    duration: app_commands.Range[int, 5, 600] | None = None,
    seed: app_commands.Range[int, 0, 2**31 - 1] | None = None,
    genre: str | None = None,
    mood: str | None = None,
    tempo: app_commands.Range[int, 40, 220] | None = None,
    key: str | None = None,
    match: bool | None = None,
    model: str | None = None,
) -> None:
    # Defer first: Discord drops an interaction not answered within 3 s, and downloading a
    # reference or parsing the prompt can take longer.
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = _bot(interaction)
    overrides = guided_overrides(genre, mood, tempo, key)
    if match:
        overrides["match_reference"] = True
    text = check_prompt(prompt, has_guidance=bool(overrides) or reference is not None)
    reference_path = await download_reference(bot, reference) if reference is not None else None
    channel = interaction.channel
    in_thread = isinstance(channel, discord.Thread)
    request = JobRequest(
        prompt=text,
        platform="discord",
        requester_id=str(interaction.user.id),
        conversation_ref=str(channel.parent_id if in_thread else interaction.channel_id),
        thread_ref=str(channel.id) if in_thread else None,
        reference_path=reference_path,
        duration_s=float(duration) if duration is not None else None,
        seed=seed,
        overrides=overrides,
        client_ref=str(interaction.id),
        backend=model.strip().lower() if model else None,  # the job system refuses one it cannot run, saying why
    )
    try:
        job = await bot.service.submit(request)
    except Exception:
        if reference_path is not None:  # refused: the saved reference belongs to no job
            Path(reference_path).unlink(missing_ok=True)
        raise
    message = await bot.tracker.announce(job, channel)
    await interaction.edit_original_response(content=f"On it! Follow your track here: {message.jump_url}")


@app_commands.command(name="jobs", description="Your recent tracks")
async def jobs(interaction: discord.Interaction) -> None:
    bot = _bot(interaction)
    recent = await bot.service.list_jobs(
        platform="discord", requester_id=str(interaction.user.id), limit=bot.discord_settings.recent_jobs_shown
    )
    if not recent:
        await interaction.response.send_message("You haven't made anything yet — try /generate.", ephemeral=True)
        return
    await interaction.response.send_message("\n".join(_job_line(bot, j) for j in recent), ephemeral=True)


def _job_line(bot: AmpaBot, job: JobView) -> str:
    icon = _STATUS_ICONS[job.status]
    where = ""
    if job.status_message_ref:
        channel_id, message_id = job.status_message_ref.split(":", 1)
        where = f" — https://discord.com/channels/{bot.guild_id_for(channel_id)}/{channel_id}/{message_id}"
    summary = job.summary if job.summary and not job.summary.startswith("(") else job.prompt[:80]
    page = ""
    if job.status == JobStatus.SUCCESS and bot.service.links.base_url:  # fresh, for when an old link expired
        page = f" · [track page](<{bot.service.links.page_url(job.id)}>)"
    model = f" · {job.backend}" if job.backend != "symbolic" else ""
    return f"{icon} `{job.id[:8]}` v{job.version} · {summary}{model} · {job.status.value.lower()}{where}{page}"


async def cancel_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    bot = _bot(interaction)
    recent = await bot.service.list_jobs(platform="discord", requester_id=str(interaction.user.id), limit=25)
    active = [j for j in recent if not j.status.is_terminal and j.id.startswith(current.strip())]
    return [app_commands.Choice(name=f"{j.id[:8]} · {(j.summary or j.prompt)[:80]}", value=j.id) for j in active][
        :MAX_CHOICES
    ]


@app_commands.command(name="cancel", description="Stop a track that is still in the works")
@app_commands.describe(job="Which one (default: your most recent unfinished track)")
@app_commands.autocomplete(job=cancel_autocomplete)
async def cancel(interaction: discord.Interaction, job: str | None = None) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = _bot(interaction)
    requester = str(interaction.user.id)
    if job is None:
        recent = await bot.service.list_jobs(platform="discord", requester_id=requester, limit=25)
        active = [j for j in recent if not j.status.is_terminal]
        if not active:
            raise UserFacingError("You have nothing in the works to cancel.")
        job = active[0].id
    else:
        job = await _resolve_job_id(bot, requester, job.strip())
    cancelled = await bot.service.cancel(job, requester_id=requester)
    if cancelled.status == JobStatus.CANCELLED:
        text = f"Cancelled `{cancelled.id[:8]}`."
    elif cancelled.status.is_terminal:
        text = f"`{cancelled.id[:8]}` had already finished ({cancelled.status.value.lower()})."
    else:  # running: the worker stops it at the next step
        text = f"Stopping `{cancelled.id[:8]}` — it will stop after the current step; its status message will say when."
    await interaction.edit_original_response(content=text)


async def _resolve_job_id(bot: AmpaBot, requester: str, text: str) -> str:
    """Accept a full job id or the 8-character prefix /jobs shows."""
    if await bot.service.get(text) is not None:
        return text
    recent = await bot.service.list_jobs(platform="discord", requester_id=requester, limit=50)
    matches = [j.id for j in recent if j.id.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    raise UserFacingError(f"I can't find a job of yours called `{text[:40]}`. /jobs lists your recent ones.")


@app_commands.command(name="help", description="How to use ampa")
async def help_command(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(
        embed=discord.Embed(title="ampa — music from a sentence", description=HELP_TEXT), ephemeral=True
    )


COMMANDS = (generate, jobs, cancel, help_command)


def register(tree: app_commands.CommandTree) -> None:
    for command in COMMANDS:
        tree.add_command(command)

    @tree.error
    async def on_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_to_user(interaction, error)
