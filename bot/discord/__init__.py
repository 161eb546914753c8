"""ampa on Discord (discord.py): `AmpaBot` in client.py, built with a JobService and DiscordSettings.

settings.py   DiscordSettings (DISCORD_TOKEN, endpoints, upload limit, edit pace)
client.py     AmpaBot: wiring, endpoints, intents, persistent buttons, restart resume
commands.py   /generate, /jobs, /cancel, /help (+ autocomplete)
status.py     the status message: drawn as an embed, edited in place at a safe pace
tracker.py    follows each job to its end and delivers its result once
results.py    the thread, the uploads sized to the limit, the stems link
views.py      Variation / Regenerate / Tweak… buttons that survive restarts
followups.py  thread replies, replies to ampa's messages and mentions → the next version
errors.py     the one place where an exception becomes a user message
"""
