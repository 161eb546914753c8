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
        await emulator.socket_events.put({
            "envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
            "retry_attempt": 0, "retry_reason": "", "payload": event_callback(event),
        })
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
    done = subprocess.run([sys.executable, "-m", "ampa", "slack", "--http"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "SLACK_SIGNING_SECRET" in done.stderr and "Traceback" not in done.stderr
