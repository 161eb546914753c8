"""Buttons on a result that keep working after the bot restarts.

Each button is a `discord.ui.DynamicItem`: its custom_id carries the action and the job id
("ampa:variation:<job id>"), and the bot registers the classes at start-up, so a click on a message
posted by a previous process is still understood. No view state lives in memory.

- Variation: the same spec with a new seed (JobService.variation).
- Regenerate: the same spec and seed made again (after a failure, or to get the files afresh).
- Tweak…: a form asking what to change; the answer is a follow-up edit, like a thread reply.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.discord.errors import UserFacingError, report_to_user
from worker.schemas import JobStatus, JobView

if TYPE_CHECKING:
    from bot.discord.client import AmpaBot

log = logging.getLogger(__name__)

_JOB_ID = r"(?P<job_id>[A-Za-z0-9_-]{1,64})"
TWEAK_MAX_CHARS = 500


def _bot(interaction: discord.Interaction) -> AmpaBot:
    return interaction.client  # type: ignore[return-value]


async def _load(interaction: discord.Interaction, job_id: str) -> JobView:
    job = await _bot(interaction).service.get(job_id)
    if job is None:
        raise UserFacingError(
            "That track is no longer in my records (it may have been deleted), so I can't build on it. Start a new one with /generate."
        )
    return job


async def _started(interaction: discord.Interaction, job: JobView) -> None:
    """Post the new job's status message where it belongs and tell the clicker where to look."""
    bot = _bot(interaction)
    channel = bot.get_partial_messageable(int(job.thread_ref)) if job.thread_ref else interaction.channel
    message = await bot.tracker.announce(job, channel)
    await interaction.edit_original_response(content=f"On it — v{job.version} is on its way: {message.jump_url}")


async def _new_take(interaction: discord.Interaction, job_id: str, *, new_seed: bool) -> None:
    """Variation (new seed) and Regenerate (same seed): the same spec again, as the next version."""
    try:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await _load(interaction, job_id)
        job = await _bot(interaction).service.variation(
            job_id, requester_id=str(interaction.user.id), new_seed=new_seed, client_ref=str(interaction.id)
        )
        await _started(interaction, job)
    except Exception as exc:  # noqa: BLE001 - the one error handler decides what the user reads
        await report_to_user(interaction, exc)


class VariationButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"ampa:variation:{_JOB_ID}"):
    def __init__(self, job_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Variation", emoji="🎲", style=discord.ButtonStyle.primary, custom_id=f"ampa:variation:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> VariationButton:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _new_take(interaction, self.job_id, new_seed=True)


class RegenerateButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"ampa:regenerate:{_JOB_ID}"):
    def __init__(self, job_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Regenerate",
                emoji="🔁",
                style=discord.ButtonStyle.secondary,
                custom_id=f"ampa:regenerate:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> RegenerateButton:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _new_take(interaction, self.job_id, new_seed=False)


class TweakButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"ampa:tweak:{_JOB_ID}"):
    def __init__(self, job_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Tweak…", emoji="🎛️", style=discord.ButtonStyle.secondary, custom_id=f"ampa:tweak:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> TweakButton:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            job = await _load(interaction, self.job_id)
            if job.status != JobStatus.SUCCESS:
                raise UserFacingError(
                    "That version didn't finish, so there is nothing to tweak — try Regenerate or a new /generate."
                )
            await interaction.response.send_modal(TweakModal(job.id))
        except Exception as exc:  # noqa: BLE001
            await report_to_user(interaction, exc)


TWEAK_FORM_PREFIX = "ampa:tweak-form:"
TWEAK_INPUT_ID = "change"


class TweakModal(discord.ui.Modal, title="Tweak this track"):
    """The form behind Tweak…. Its answer is handled by `handle_tweak_form` (from the client's
    on_interaction), not by this object, so a form opened before a restart still works after it."""

    change: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="What should change?",
        placeholder="e.g. make the drums quieter, faster, add strings, in D minor",
        style=discord.TextStyle.paragraph,
        max_length=TWEAK_MAX_CHARS,
        custom_id=TWEAK_INPUT_ID,
    )

    def __init__(self, job_id: str) -> None:
        super().__init__(timeout=900, custom_id=f"{TWEAK_FORM_PREFIX}{job_id}")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        pass  # answered by handle_tweak_form


def tweak_form_job_id(interaction: discord.Interaction) -> str | None:
    if interaction.type != discord.InteractionType.modal_submit:
        return None
    custom_id = str((interaction.data or {}).get("custom_id", ""))
    match = re.fullmatch(rf"{TWEAK_FORM_PREFIX}{_JOB_ID}", custom_id)
    return match["job_id"] if match else None


def form_value(data: dict[str, Any], custom_id: str) -> str:
    """The text typed into one input of a submitted form (inputs sit in action rows or labels)."""
    stack = list(data.get("components", []))
    while stack:
        component = stack.pop(0)
        if component.get("custom_id") == custom_id and "value" in component:
            return str(component["value"])
        stack += component.get("components", [])
        if "component" in component:
            stack.append(component["component"])
    return ""


async def handle_tweak_form(interaction: discord.Interaction, job_id: str) -> None:
    """A submitted Tweak… form: the text is a follow-up on the newest version in the job's thread."""
    try:
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = _bot(interaction)
        job = await _load(interaction, job_id)
        from bot.discord.followups import follow_up_on  # followups import views' helpers; keep one direction

        text = form_value(interaction.data or {}, TWEAK_INPUT_ID)  # type: ignore[arg-type]
        new_job, message = await follow_up_on(
            bot, job, text, requester_id=str(interaction.user.id), client_ref=str(interaction.id)
        )
        if new_job is None:
            await interaction.edit_original_response(content=message)
            return
        await _started(interaction, new_job)
        if message:
            await interaction.followup.send(message, ephemeral=True)
    except Exception as exc:  # noqa: BLE001 - the one error handler decides what the user reads
        await report_to_user(interaction, exc)


DYNAMIC_ITEMS = (VariationButton, RegenerateButton, TweakButton)


def buttons_for(job: JobView) -> discord.ui.View:
    """The buttons under a result (all three) or a failed/cancelled status (Regenerate only)."""
    view = discord.ui.View(timeout=None)
    if job.status == JobStatus.SUCCESS:
        view.add_item(VariationButton(job.id))
        view.add_item(RegenerateButton(job.id))
        view.add_item(TweakButton(job.id))
    else:
        view.add_item(RegenerateButton(job.id))
    return view
