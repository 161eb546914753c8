"""Settings for the Slack app, read from the environment (and `.env`) once at start-up.

The three Slack credentials are secrets: pydantic keeps them in `SecretStr`, so a settings object
printed, logged or put in a traceback shows `**********`. Only `app.py` (the Web API client) and
`files.py` (downloads from Slack's own file hosts) ever read the bot token's value.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_FILE_HOSTS = ("files.slack.com",)


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr = Field(validation_alias="SLACK_BOT_TOKEN")  # xoxb-…
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")  # HTTP mode
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")  # xapp-…, Socket Mode
    # Web API base URL: changed only to talk to a compatible server (the test emulator, a proxy).
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")

    # Reference uploads: refused above these caps before (size) or after (duration) downloading.
    max_reference_bytes: int = Field(default=25_000_000, gt=0, validation_alias="AMPA_SLACK_MAX_REFERENCE_BYTES")
    max_reference_seconds: float = Field(default=420.0, gt=0, validation_alias="AMPA_SLACK_MAX_REFERENCE_SECONDS")
    # Results: a file larger than this is not uploaded; the thread says how to get it instead.
    max_upload_bytes: int = Field(default=200_000_000, gt=0, validation_alias="AMPA_SLACK_MAX_UPLOAD_BYTES")
    # Status message: at most one chat.update per this many seconds per job (Slack's tier-3 limit is ~50/min).
    status_update_interval_s: float = Field(default=1.0, ge=0.0, validation_alias="AMPA_SLACK_STATUS_INTERVAL")
    # Event ids remembered for deduplication (Slack retries within ~5 minutes).
    dedupe_ttl_s: float = Field(default=900.0, gt=0, validation_alias="AMPA_SLACK_DEDUPE_TTL")

    @field_validator("slack_api_url")
    @classmethod
    def _with_trailing_slash(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"SLACK_API_URL must be an http(s) URL like https://slack.com/api/, not {url!r}")
        return url if url.endswith("/") else url + "/"

    @field_validator("slack_bot_token")
    @classmethod
    def _not_empty(cls, token: SecretStr) -> SecretStr:
        if not token.get_secret_value().strip():
            raise ValueError("SLACK_BOT_TOKEN is empty; copy the Bot User OAuth Token (xoxb-…) from your Slack app")
        return token
