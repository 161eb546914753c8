"""What listeners need, built once in `bot.slack.app.build_bot` and passed in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.settings import SlackSettings
from bot.slack.tracker import JobTracker

PLATFORM = "slack"
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Deps:
    settings: SlackSettings
    service: Any  # worker.service.JobService
    client: AsyncWebClient
    tracker: JobTracker


def strip_mentions(text: str, bot_user_id: str | None) -> str:
    """The prompt without the bot's own mention (other people's mentions are kept out too)."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    return " ".join(_MENTION.sub(" ", text).split())


def mentions_bot(text: str, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and f"<@{bot_user_id}>" in text
