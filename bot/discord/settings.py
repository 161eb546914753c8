"""Discord settings, read from the environment (and `.env`) once at start-up.

The endpoints are settings so the bot can run against Discord-compatible servers and the test
emulator. The token is a SecretStr: it is only ever handed to discord.py's HTTP client, which sends
it to `DISCORD_API_URL` and the gateway, nowhere else; it never appears in a repr or a log line.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DiscordSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr = Field(validation_alias="DISCORD_TOKEN")
    discord_api_url: str = Field(default="https://discord.com/api/v10", validation_alias="DISCORD_API_URL")
    discord_gateway_url: str = Field(default="wss://gateway.discord.gg/", validation_alias="DISCORD_GATEWAY_URL")
    # Bots may upload 10 MB per message unless the server is boosted.
    upload_limit_bytes: int = Field(default=10 * 1024 * 1024, ge=256 * 1024, validation_alias="DISCORD_UPLOAD_LIMIT")
    # Discord allows about 5 edits per 5 s per channel; one edit per 1.5 s per message leaves room
    # for several jobs in one channel and for the result posts.
    status_edit_interval_s: float = Field(default=1.5, ge=0.0, validation_alias="DISCORD_STATUS_EDIT_INTERVAL")
    # Register the slash commands in this guild only (instant) instead of globally (can take an hour).
    dev_guild_id: int | None = Field(default=None, validation_alias="DISCORD_GUILD_ID")
    recent_jobs_shown: int = Field(default=5, ge=1, le=20, validation_alias="DISCORD_RECENT_JOBS")

    @field_validator("discord_token")
    @classmethod
    def _not_empty(cls, token: SecretStr) -> SecretStr:
        if not token.get_secret_value().strip():
            raise ValueError("DISCORD_TOKEN is empty; copy the bot token from the Discord developer portal")
        return token

    @field_validator("discord_api_url", "discord_gateway_url")
    @classmethod
    def _no_trailing_slash_api(cls, url: str) -> str:
        return url.strip()
