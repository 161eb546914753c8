"""Slash command, buttons, App Home, DMs, status coalescing and resuming after a restart."""

from __future__ import annotations

import asyncio
import json

from bot.slack.app import build_client
from bot.slack.status import MessageRef, StatusMessage
from tests.bot.slack.conftest import mention, message
from tests.bot.slack.helpers import eventually, texts, thread_posts, updates_of


async def _delivered(service, job_id: str) -> bool:
    job = await service.get(job_id)
    return bool(job and job.delivered)


async def _only_job(slack):
    jobs = await slack.service.list_jobs(platform="slack")
    assert len(jobs) == 1
    return jobs[0]


async def test_slash_command_posts_status_and_results_in_its_thread(slack):
    emu = slack.emulator
    response = await slack.send_command("dark synthwave at 140 BPM, 6 seconds")
    assert response.status == 200
    complete = await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 30)
    top = [c for c in emu.of("chat.postMessage") if not c.args.get("thread_ts")]
    assert len(top) == 1 and "dark synthwave" in top[0].args["text"]
    status_ts = top[0].response["ts"]
    assert complete[0].args["thread_ts"] == status_ts
    job = await _only_job(slack)
    assert job.thread_ref == status_ts and job.status_message_ref == f"CGENERAL:{status_ts}"
    assert any("synthwave" in t and "140 BPM" in t for t in texts(updates_of(emu, status_ts)))
    who = json.dumps(updates_of(emu, status_ts)[-1].args["blocks"], ensure_ascii=False)
    assert "<@UALICE>" in who and "dark synthwave at 140 BPM" in who  # the channel sees who asked for what


async def test_slash_command_refusal_is_ephemeral(slack):
    emu = slack.emulator
    await slack.send_command("hello there, how are you")  # not a music request
    said = await emu.wait_for(lambda: emu.of("response_url"), 20)
    assert said[0].args["response_type"] == "ephemeral" and said[0].args["text"]
    assert not [c for c in emu.of("chat.postMessage") if not c.args.get("thread_ts")]
    assert await slack.service.list_jobs(platform="slack") == []


async def test_variation_and_regenerate_buttons_make_new_versions_in_the_thread(slack):
    emu, service = slack.emulator, slack.service
    event = mention("calm ambient, 6 seconds")
    await slack.send_event(event)
    await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 30)
    first = await _only_job(slack)
    await eventually(lambda: _delivered(service, first.id))

    assert (await slack.click("ampa_variation", first.id)).status == 200
    await emu.wait_for(lambda: len(emu.of("files.completeUploadExternal")) >= 2, 30)
    assert (await slack.click("ampa_regenerate", first.id)).status == 200
    await emu.wait_for(lambda: len(emu.of("files.completeUploadExternal")) >= 3, 30)

    jobs = sorted(await service.list_jobs(platform="slack"), key=lambda j: j.created_at)
    assert len(jobs) == 3
    variation, regenerated = jobs[1], jobs[2]
    for job in (variation, regenerated):
        assert job.parent_id == first.id and job.version == 2 and job.thread_ref == event["ts"]
    seeds = [(await service.get(j.id)).spec["seed"]["value"] for j in jobs]
    assert len(set(seeds)) == 3  # three different takes
    assert all(c.args["thread_ts"] == event["ts"] for c in emu.of("files.completeUploadExternal"))


async def test_button_on_a_missing_job_answers_ephemerally(slack):
    emu = slack.emulator
    await slack.click("ampa_variation", "0" * 32)
    said = await emu.wait_for(lambda: emu.of("response_url"), 10)
    assert "can't find that track" in said[0].args["text"]


async def test_app_home_and_help(slack):
    emu = slack.emulator
    await slack.send_event({"type": "app_home_opened", "user": "UALICE", "channel": "DHOME", "tab": "home"})
    published = await emu.wait_for(lambda: emu.of("views.publish"), 10)
    assert published[0].args["user_id"] == "UALICE" and "/generate" in json.dumps(published[0].args["view"])
    event = mention("help")
    await slack.send_event(event)
    posts = await emu.wait_for(lambda: thread_posts(emu, event["ts"]), 10)
    assert "Reply in that thread" in posts[0].args["text"]


async def test_direct_message_is_a_request(slack):
    emu = slack.emulator
    await slack.send_event(message("lofi hip-hop, 6 seconds", channel="DALICE", channel_type="im"))
    complete = await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 30)
    assert complete[0].args["channel_id"] == "DALICE"


async def test_status_updates_are_coalesced_and_end_on_the_last_state(emulator, slack_settings):
    client = build_client(slack_settings)
    status = StatusMessage(client, MessageRef("CGENERAL", "1.0"), interval=0.3)
    for i in range(30):
        await status.show(f"state {i}", [])
        await asyncio.sleep(0.01)  # events arriving ~100 per second
    await status.show("final", [], final=True)
    sent = [c.args["text"] for c in emulator.of("chat.update")]
    assert sent[-1] == "final"
    assert len(sent) <= 4, sent
    gaps = [b.at - a.at for a, b in zip(emulator.of("chat.update"), emulator.of("chat.update")[1:-1])]
    assert all(gap >= 0.25 for gap in gaps), gaps


async def test_regenerate_follows_the_same_reference_track(slack):
    """Regenerate starts again from the original words and the original reference, with a new seed."""
    from tests.bot.slack.audio import wav_bytes

    emu, service = slack.emulator, slack.service
    reference = emu.add_file("groove.wav", wav_bytes(seconds=4.0), "audio/wav")
    await slack.send_event(mention("funk like this, 6 seconds", files=[reference]))
    await emu.wait_for(lambda: emu.of("files.completeUploadExternal"), 30)
    first = await _only_job(slack)
    await eventually(lambda: _delivered(service, first.id))
    assert first.reference_path

    assert (await slack.click("ampa_regenerate", first.id)).status == 200
    await emu.wait_for(lambda: len(emu.of("files.completeUploadExternal")) >= 2, 30)
    jobs = sorted(await service.list_jobs(platform="slack"), key=lambda j: j.created_at)
    assert len(jobs) == 2
    assert jobs[1].reference_path == first.reference_path
