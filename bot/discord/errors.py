"""The one place where an exception becomes what a Discord user reads.

Every command, button, modal and thread reply sends its failures here, so the wording is decided
once and no user ever sees a traceback.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.common.attachments import AttachmentError
from pipeline.errors import PipelineError
from worker.schemas import JobRejected

log = logging.getLogger(__name__)

GENERIC = "Something went wrong on my side and I couldn't do that. Nothing you did — try again in a minute."


class UserFacingError(Exception):
    """A request the bot itself refuses (bad option, not your job); `user_message` is shown as it is."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


def user_message_for(error: BaseException) -> str:
    """Map an exception to the sentence a user sees.

    - JobRejected (limits, queue full, empty/too long prompt, not music, unknown or deleted job,
      someone else's job, failed parent) -> its `user_message`, as it is
    - AttachmentError (not audio, corrupt, too large, too long)  -> its `user_message`
    - UserFacingError (checks the bot makes itself)              -> its `user_message`
    - PipelineError                                              -> its `user_message`
    - app_commands.CommandOnCooldown                             -> "slow down, try again in N s"
    - app_commands.CheckFailure / MissingPermissions             -> "you can't use that here"
    - discord.Forbidden                                          -> "I'm missing a permission in this channel" (+ which ones)
    - discord.NotFound                                           -> "that message or thread is gone"
    - anything else                                              -> GENERIC (and the traceback goes to the log)
    discord.py wraps command errors in CommandInvokeError/TransformerError; the cause is unwrapped first.
    """
    while isinstance(error, (app_commands.CommandInvokeError, app_commands.TransformerError)) and error.__cause__:
        error = error.__cause__
    if isinstance(error, (JobRejected, AttachmentError, UserFacingError, PipelineError)):
        return error.user_message
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little — try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here."
    if isinstance(error, discord.Forbidden):
        return (
            "I'm missing a permission in this channel. I need: Send Messages, Create Public Threads, "
            "Send Messages in Threads, Attach Files and Read Message History."
        )
    if isinstance(error, discord.NotFound):
        return "That message or thread no longer exists, so I can't continue there. Start again with /generate."
    return GENERIC


def is_expected(error: BaseException) -> bool:
    while isinstance(error, (app_commands.CommandInvokeError, app_commands.TransformerError)) and error.__cause__:
        error = error.__cause__
    return user_message_for(error) != GENERIC


async def report_to_user(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user what went wrong, privately (ephemeral), whether or not the interaction was answered."""
    if is_expected(error):
        log.info("refused %s: %s", _what(interaction), error)
    else:
        log.error("error while handling %s", _what(interaction), exc_info=error)
    text = user_message_for(error)
    try:
        if interaction.response.is_done():
            await interaction.edit_original_response(content=text, embed=None, view=None)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        # The interaction token may have expired (15 min) or the original may be gone: a followup
        # is the last way to reach the user; if that fails too there is nobody left to tell.
        try:
            await interaction.followup.send(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about an error in %s", _what(interaction))


async def report_in_channel(message: discord.Message, error: BaseException) -> None:
    """For thread replies (no interaction to answer): reply to the user's message."""
    if is_expected(error):
        log.info("refused a reply %s: %s", message.id, error)
    else:
        log.error("error while handling message %s", message.id, exc_info=error)
    try:
        await message.reply(user_message_for(error), mention_author=False)
    except discord.HTTPException:
        log.warning("could not reply to message %s about an error", message.id)


def _what(interaction: discord.Interaction) -> str:
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    return f"interaction {interaction.type.name} {(interaction.data or {}).get('custom_id', '')}".strip()
