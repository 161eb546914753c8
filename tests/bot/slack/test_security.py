"""Security: signatures, replays, retries, untrusted file URLs, self-events, secrets in logs."""

from __future__ import annotations

import json
import logging
import time

from tests.bot.slack.conftest import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, event_callback, mention, message
from tests.bot.slack.emulator import BOT_ID, BOT_USER_ID
from tests.bot.slack.helpers import eventually, texts, thread_posts


async def _jobs(slack) -> list:
    return await slack.service.list_jobs(platform="slack", limit=100)


async def _help_barrier(slack) -> None:
    """A request whose answer proves every request sent before it has been acknowledged and handled."""
    event = mention("help")
    await slack.send_event(event)
    await slack.emulator.wait_for(lambda: thread_posts(slack.emulator, event["ts"]), 10)


async def test_unsigned_wrongly_signed_and_stale_requests_are_refused(slack):
    body = json.dumps(event_callback(mention("dark synthwave, 6 seconds")))
    unsigned = await slack.post(body, "application/json", secret=None)
    wrong = await slack.post(body, "application/json", secret="not-the-secret")
    stale = await slack.post(body, "application/json", timestamp=int(time.time()) - 10 * 60)  # replayed later
    tampered_headers = {"X-Slack-Request-Timestamp": str(int(time.time()))}
    tampered = await slack.post(
        body, "application/json", secret=None, extra_headers={**tampered_headers, "X-Slack-Signature": "v0=" + "0" * 64}
    )
    assert [r.status for r in (unsigned, wrong, stale, tampered)] == [401, 401, 401, 401]
    command = await slack.post("command=%2Fgenerate&text=funk", "application/x-www-form-urlencoded", secret="nope")
    assert command.status == 401
    await _help_barrier(slack)
    assert await _jobs(slack) == []
    assert not slack.emulator.of("chat.update")


async def test_retried_event_makes_no_second_job(slack):
    emu = slack.emulator
    event = mention("upbeat funk, 6 seconds")
    first = await slack.send_event(event, event_id="EvRETRY1")
    retry = await slack.send_event(
        event, event_id="EvRETRY1", extra_headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert first.status == 200 and retry.status == 200
    await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 30)
    await _help_barrier(slack)
    assert len(await _jobs(slack)) == 1
    placeholders = [c for c in thread_posts(emu, event["ts"]) if "reading your request" in c.args["text"]]
    assert len(placeholders) == 1


async def test_retry_of_an_event_never_seen_is_still_handled(slack):
    """The first delivery was lost (the app was restarting): the retry must not be dropped."""
    emu = slack.emulator
    event = mention("calm ambient, 6 seconds")
    await slack.send_event(event, event_id="EvLOST1", extra_headers={"X-Slack-Retry-Num": "2"})
    await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 30)
    assert len(await _jobs(slack)) == 1


async def test_file_url_outside_slack_gets_no_token(slack, other_server):
    emu = slack.emulator
    evil = {
        "id": "FEVIL",
        "name": "ref.wav",
        "size": 1000,
        "url_private": other_server.url("ref.wav"),
        "url_private_download": other_server.url("ref.wav"),
    }
    event = mention("funk like this, 6 seconds", files=[evil])
    await slack.send_event(event)
    said = await emu.wait_for(
        lambda: [t for t in texts(emu.of("chat.update")) if "only fetch files uploaded to Slack" in t]
    )
    assert "Upload the audio file directly" in said[0]
    assert other_server.requests == []  # not even asked, let alone with the token
    assert await _jobs(slack) == []


async def test_file_on_slack_host_is_fetched_with_token_and_nowhere_else(slack, other_server):
    """Redirects count too: a trusted URL that redirects outside is not followed."""
    emu = slack.emulator
    good = emu.add_file("ok.txt", b"not audio at all", "text/plain")
    event = mention("funk like this, 6 seconds", files=[good])
    await slack.send_event(event)
    await emu.wait_for(lambda: [t for t in texts(emu.of("chat.update")) if "doesn't look like audio" in t])
    download = emu.of("download")[0]
    assert download.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert other_server.requests == []


async def test_own_messages_and_other_bots_are_ignored(slack):
    emu = slack.emulator
    event = mention("upbeat funk, 6 seconds")
    await slack.send_event(event)
    await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 30)
    root = event["ts"]
    # Our own status message echoed back, as a bot message and as a plain message from our bot user.
    await slack.send_event(message("✅ Your track is ready", user=BOT_USER_ID, thread_ts=root, bot_id=BOT_ID))
    await slack.send_event(message("slower please", user=BOT_USER_ID, thread_ts=root))
    await slack.send_event(
        message("make it faster", user="UOTHERBOT", thread_ts=root, bot_id="BOTHER", subtype="bot_message")
    )
    await _help_barrier(slack)
    assert len(await _jobs(slack)) == 1


async def test_message_accompanying_a_mention_makes_no_second_job(slack):
    emu = slack.emulator
    event = mention("upbeat funk, 6 seconds")
    await slack.send_event(event)
    await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 30)
    root = event["ts"]
    # A mention inside the thread: Slack sends app_mention AND message for the same text.
    text = f"<@{BOT_USER_ID}> slower"
    reply_ts = "1900000000.000001"
    await slack.send_event({**mention("slower", thread_ts=root), "ts": reply_ts, "text": text})
    await slack.send_event(message(text, thread_ts=root, ts=reply_ts))
    await eventually(lambda: _count_is(slack, 2), 20, explain=lambda: texts(thread_posts(emu, root)))
    await slack.bot.tracker.wait_idle(30)
    await _help_barrier(slack)
    assert len(await _jobs(slack)) == 2


async def _count_is(slack, n: int) -> bool:
    return len(await _jobs(slack)) == n


async def test_secrets_never_logged(slack, caplog):
    caplog.set_level(logging.DEBUG)
    emu = slack.emulator
    event = mention("upbeat funk, 6 seconds", files=[emu.add_file("bad.wav", b"garbage bytes")])
    await slack.send_event(event)
    await emu.wait_for(lambda: [t for t in texts(emu.of("chat.update")) if "couldn't read" in t], 20)
    await slack.send_event(mention("upbeat funk, 6 seconds"))
    await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 30)
    await slack.bot.tracker.wait_idle(30)
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for secret in (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN):
        assert secret not in logged
    assert "secretbottoken" not in repr(slack.bot.settings)
    assert any(r.name.startswith("slack_sdk") for r in caplog.records)  # the client did log at DEBUG
