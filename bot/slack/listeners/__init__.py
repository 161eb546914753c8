"""Bolt listeners, one module per kind of request; `register_all` wires them onto the app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, commands, home, mentions, messages
from bot.slack.listeners.deps import Deps


def register_all(app: AsyncApp, deps: Deps) -> None:
    mentions.register(app, deps)
    messages.register(app, deps)
    commands.register(app, deps)
    actions.register(app, deps)
    home.register(app, deps)
