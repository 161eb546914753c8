"""The App Home tab: what ampa does and how to ask (also the `@ampa help` reply)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.blocks import home_view
from bot.slack.listeners.deps import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            await deps.client.views_publish(user_id=event["user"], view=home_view())
