"""From a Slack result to the track page: the upload's comment links the page, the finished status
message carries a url button to it, the page's stems link downloads with no token (the pages are
served by the app's own process, embedded mode), and no token or secret appears anywhere."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.slack.app import build_client
from bot.slack.delivery import deliver
from tests.bot.slack.conftest import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, job_settings, mention
from tests.bot.slack.helpers import eventually, updates_of
from tests.worker.web.live import free_port, pages_are_served
from tests import stand_in_pipeline as stand_in
from worker.service import JobService
from worker.web.server import PageServer


@pytest.fixture
async def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[JobService]:
    """The conftest's service, with the track pages served on a free port and linked there."""
    port = free_port()
    monkeypatch.setenv("AMPA_WEB_PORT", str(port))
    monkeypatch.setenv("AMPA_PUBLIC_URL", f"http://127.0.0.1:{port}")
    settings = job_settings(tmp_path / "ampa")
    svc = await JobService.open(settings, pipeline=stand_in, pipeline_options={"stage_s": 0.02})
    async with PageServer(settings, svc):
        yield svc
    await svc.close()


async def test_result_links_open_the_page_and_the_stems_without_a_token(slack: Any, slack_settings: Any) -> None:
    emu, service = slack.emulator, slack.service
    base = service.settings.public_base_url
    event = mention("upbeat funk, 6 seconds")
    assert (await slack.send_event(event)).status == 200
    complete = (await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 60))[0]
    job = (await service.list_jobs(platform="slack"))[0]
    await eventually(lambda: _delivered(service, job.id), 30)
    page_link = re.search(r"<(\S+?)\|Open the track page>", complete.args["initial_comment"])
    assert page_link and page_link.group(1).startswith(f"{base}/t/{job.id}?e=")
    final_blocks = updates_of(emu, job.status_message_ref.split(":")[1])[-1].args["blocks"]
    buttons = [e for b in final_blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons[0]["url"].startswith(f"{base}/t/{job.id}?e=") and buttons[0]["action_id"] == "ampa_open_page"
    # Slack still sends the click of a url button to the app: it is acknowledged, and starts nothing.
    assert (await slack.click("ampa_open_page", job.id)).status == 200
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:  # a person's browser: no token
        page = await http.get(page_link.group(1))
        assert page.status_code == 200 and job.summary in page.text
        stems_href = re.search(r'href="([^"]+/stems\.zip\?[^"]+)"', page.text)
        assert stems_href, page.text
        stems = await http.get(stems_href.group(1).replace("&amp;", "&"))
        assert stems.status_code == 200 and stems.content == Path(job.files["stems.zip"]).read_bytes()
    assert len(await service.list_jobs(platform="slack")) == 1, "opening the page made no job"
    # A file over the upload cap is not uploaded but linked, signed, in the comment.
    job = await service.get(job.id)
    stems_size = Path(job.files["stems.zip"]).stat().st_size
    before = len(emu.calls)
    await deliver(
        build_client(slack_settings),
        service, job, channel="CGENERAL", thread_ts=event["ts"], max_upload_bytes=stems_size - 1,
        links=service.links.for_chat(job),
    )  # fmt: skip
    said = " ".join(str(c.args.get("initial_comment") or c.args.get("text") or "") for c in emu.calls[before:])
    assert re.search(rf"<{re.escape(base)}/t/{job.id}/stems\.zip\?e=\d+&s=[\w-]+\|Stems> \(", said), said
    assert "Too large to upload here" in said and "Ask the operator" not in said
    secret = service.links.secret.decode()
    sent = [json.dumps(call.args) for call in emu.calls]
    for text in [page.text, *sent]:
        for hidden in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, secret):
            assert hidden not in text


async def _delivered(service: JobService, job_id: str) -> bool:
    job = await service.get(job_id)
    return bool(job and job.delivered)


async def test_ampa_slack_serves_the_pages_itself(emulator: Any, tmp_path: Path) -> None:
    """`ampa slack --http` as a real process serves the track pages on AMPA_WEB_PORT too."""
    import asyncio
    import os
    import signal
    import sys

    port, web_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SLACK_APP_TOKEN")},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": emulator.api_url,
        "AMPA_DATA_DIR": str(tmp_path / "data"),
        "AMPA_WEB_PORT": str(web_port),
        "AMPA_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ampa", "slack", "--http", "--port", str(port), "--host", "127.0.0.1",
        env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await eventually(lambda: pages_are_served(web_port), 120, interval=0.2)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 120)
    text = stderr.decode()
    assert f"track pages on http://127.0.0.1:{web_port}, linked as http://127.0.0.1:{web_port}" in text
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text
