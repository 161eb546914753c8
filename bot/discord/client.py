"""The Discord client: wires the commands, buttons, thread replies and the job tracker together.

Built at start-up with its dependencies passed in (the JobService and the settings); nothing here
connects at import. `configure_endpoints` points discord.py at the configured REST and gateway URLs
(Discord by default, a compatible server or the test emulator otherwise).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord import app_commands

from bot.discord import commands, followups
from bot.discord.settings import DiscordSettings
from bot.discord.tracker import JobTracker
from bot.discord.views import DYNAMIC_ITEMS, handle_tweak_form, tweak_form_job_id
from worker.settings import Settings

if TYPE_CHECKING:
    from worker.service import JobService

log = logging.getLogger(__name__)


def configure_endpoints(settings: DiscordSettings) -> None:
    """Point discord.py at the configured endpoints. Both are class attributes, so this is process-wide."""
    discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def intents() -> discord.Intents:
    """Guilds (channels, threads) and guild messages with their content: thread replies are follow-ups."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True  # privileged: switch it on in the developer portal
    return wanted


class AmpaBot(discord.Client):
    def __init__(
        self,
        service: JobService,
        settings: DiscordSettings,
        *,
        job_settings: Settings | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("intents", intents())
        options.setdefault(
            "allowed_mentions", discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=False)
        )
        super().__init__(**options)
        self.service = service
        self.discord_settings = settings
        self.job_settings = job_settings or Settings()
        self.tree = app_commands.CommandTree(self)
        self.tracker = JobTracker(self)
        commands.register(self.tree)

    @property
    def public_base_url(self) -> str | None:
        return self.job_settings.public_base_url

    def guild_id_for(self, channel_id: str) -> str:
        channel = self.get_channel(int(channel_id))
        guild = getattr(channel, "guild", None)
        return str(guild.id) if guild is not None else "@me"

    async def login(self, token: str) -> None:
        configure_endpoints(self.discord_settings)  # before the first request (GET /users/@me)
        await super().login(token)

    async def start_with_settings(self, *, reconnect: bool = True) -> None:
        """Log in with the configured token and run until closed."""
        await self.start(self.discord_settings.discord_token.get_secret_value(), reconnect=reconnect)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*DYNAMIC_ITEMS)  # buttons on messages from earlier runs keep working
        guild_id = self.discord_settings.dev_guild_id
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()
        # REST works from here on, the gateway not yet: resuming only edits and posts messages.
        await self.tracker.resume()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        job_id = tweak_form_job_id(interaction)
        if job_id is not None:  # Tweak… forms, including ones opened before a restart
            await handle_tweak_form(interaction, job_id)

    async def on_message(self, message: discord.Message) -> None:
        await followups.on_message(self, message)

    async def close(self) -> None:
        await self.tracker.close()
        await super().close()
