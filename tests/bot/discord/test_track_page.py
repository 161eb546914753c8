"""From a Discord result to the track page: the results message's link button opens the page (served
by the bot's own process, embedded mode), the "too large to upload" note links the signed stems,
and both open with no token; no token or secret in any message or page."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import httpx

from tests.bot.discord.conftest import TOKEN, make_job_settings, open_service, running_bot
from tests.bot.discord.emulator import DiscordEmulator, message_text
from tests.bot.discord.helpers import job_id_of, result_messages, status_messages
from tests.worker.web.live import free_port, pages_are_served
from worker.web.server import PageServer


async def test_result_links_open_the_page_and_the_stems_without_a_token(
    emulator: DiscordEmulator, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_job_settings(tmp_path, AMPA_WEB_PORT=port, AMPA_PUBLIC_URL=base)
    async with (
        open_service(settings) as service,
        PageServer(settings, service),
        # 400 kB: the 6-second MP3, picture and MIDI fit; the stems (~1 MB) do not.
        running_bot(emulator, service, settings, DISCORD_UPLOAD_LIMIT=400_000) as _bot,
    ):
        await emulator.slash_command("generate", {"prompt": "ambient drone", "duration": 6})
        status = (await emulator.wait_for(lambda: status_messages(emulator, emulator.channel_id), timeout=60))[0]
        result = (await emulator.wait_for(lambda: result_messages(emulator, status["id"]), timeout=60))[0]
        job = await service.get(job_id_of(result))
        buttons = [item for row in result["components"] for item in row["components"]]
        link = next(b for b in buttons if b.get("style") == 5)  # a link button: Discord opens its URL
        assert link["url"].startswith(f"{base}/t/{job.id}?e=") and "custom_id" not in link
        assert {b.get("custom_id", "").split(":")[1] for b in buttons if b.get("custom_id")} == {
            "variation", "regenerate", "tweak",
        }  # fmt: skip
        stems_url = re.search(r"\[download them\]\((\S+/stems\.zip\?\S+)\)", message_text(result))
        assert stems_url, message_text(result)
        async with httpx.AsyncClient(timeout=30) as http:  # a person's browser: no token of any kind
            page = await http.get(link["url"])
            assert page.status_code == 200 and job.summary in page.text
            stems = await http.get(stems_url.group(1))
            assert stems.status_code == 200
            assert stems.content == Path(job.files["stems.zip"]).read_bytes()
            assert not [c for c in emulator.calls if any("stems" in f.filename for f in c.files)]
        # /jobs hands out a fresh page link (what an expired link's page tells people to use).
        jobs = await emulator.slash_command("jobs")
        listed = await emulator.wait_for(lambda: "".join(emulator.said_to(jobs)), timeout=30, what="/jobs")
        assert f"[track page](<{base}/t/{job.id}?e=" in listed
        secret = service.links.secret.decode()
        sent = [json.dumps(c.json) for c in emulator.calls if c.json is not None]
        for text in [page.text, *sent]:
            assert TOKEN not in text and secret not in text


async def test_ampa_discord_serves_the_pages_itself_and_says_what_to_set(
    emulator: DiscordEmulator, tmp_path: Path
) -> None:
    """`ampa discord` as a real process: the pages on AMPA_WEB_PORT beside the bot; without
    AMPA_PUBLIC_URL it works and tells the operator once, at start, what to set."""
    web_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "AMPA_PUBLIC_URL")}
    env.update(
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_URL=emulator.api_url,
        DISCORD_GATEWAY_URL=emulator.gateway_url,
        AMPA_DATA_DIR=str(tmp_path),
        AMPA_WEB_PORT=str(web_port),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ampa", "discord", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await emulator.wait_for(lambda: emulator.identifies, timeout=120, what="the bot logged in")
        assert await pages_are_served(web_port)
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    log = output.decode(errors="replace")
    assert log.count("AMPA_PUBLIC_URL is not set") == 1 and f"port {web_port}" in log, log[-2000:]
    assert "Traceback" not in log and TOKEN not in log
