"""`ampa slack`: Socket Mode against a real websocket emulator, and the HTTP transport's command line."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from ampa.commands.slack import serve
from tests.bot.slack.conftest import APP_TOKEN, event_callback, mention
from tests.bot.slack.helpers import eventually


async def test_socket_mode_connects_with_the_app_token_and_handles_events(emulator, slack_settings, service):
    stop = asyncio.Event()
    running = asyncio.create_task(serve(None, slack_settings, http=False, stop=stop, service=service))
    try:
        await emulator.wait_for(lambda: emulator.of("socket_connect"), 20)
        opened = emulator.of("apps.connections.open")
        assert opened and opened[0].headers["Authorization"] == f"Bearer {APP_TOKEN}"
        event = mention("upbeat funk, 6 seconds")
        await emulator.socket_events.put(
            {
                "envelope_id": "env-1",
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": 0,
                "retry_reason": "",
                "payload": event_callback(event),
            }
        )
        await emulator.wait_for(lambda: [a for a in emulator.socket_acks if a.get("envelope_id") == "env-1"], 10)
        await emulator.wait_for(lambda: emulator.of("files.completeUploadExternal"), 30)
        jobs = await service.list_jobs(platform="slack")
        assert len(jobs) == 1 and jobs[0].thread_ref == event["ts"]
        await eventually(lambda: _delivered(service, jobs[0].id), 10)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


async def _delivered(service, job_id: str) -> bool:
    job = await service.get(job_id)
    return bool(job and job.delivered)


def test_http_transport_refuses_to_start_without_a_signing_secret(tmp_path):
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AMPA_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "ampa", "slack", "--http"],
        check=False,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "SLACK_SIGNING_SECRET" in done.stderr and "Traceback" not in done.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_ampa_slack_http_serves_signed_events_with_the_embedded_job_system(emulator, tmp_path):
    """`ampa slack --http --port N` as a real process: SQLite + in-process worker, events at /slack/events."""
    import os
    import signal
    from pathlib import Path

    import aiohttp

    from tests.bot.slack.conftest import BOT_TOKEN, SIGNING_SECRET, SlackHarness

    port = _free_port()
    repo = Path(__file__).resolve().parents[3]
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": emulator.api_url,
        "AMPA_DATA_DIR": str(tmp_path / "data"),
        "AMPA_PIPELINE": "tests.bot.slack.fast_pipeline",
        "PYTHONPATH": str(repo),
    }
    for name in ("DATABASE_URL", "REDIS_URL", "SLACK_APP_TOKEN"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ampa",
        "slack",
        "--http",
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        env=env,
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as session:
            harness = SlackHarness(
                bot=None, service=None, emulator=emulator, url=f"http://127.0.0.1:{port}/slack/events", session=session
            )

            async def listening() -> bool:
                try:
                    return (await harness.post("{}", "application/json", secret=None)).status == 401
                except aiohttp.ClientConnectionError:
                    return False

            await eventually(listening, 60, interval=0.2)
            event = mention("upbeat funk, 6 seconds")
            assert (await harness.send_event(event)).status == 200
            complete = await emulator.wait_for(lambda: emulator.of("files.completeUploadExternal"), 60)
            assert complete[0].args["thread_ts"] == event["ts"]
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    text = stderr.decode()
    assert "listening on http://127.0.0.1" in text
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text
    assert (tmp_path / "data" / "ampa.db").exists()
