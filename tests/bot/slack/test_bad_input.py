"""Bad input gets a clear message in the thread (or ephemerally); nothing crashes, no job is made."""

from __future__ import annotations

from tests.bot.slack.audio import wav_bytes
from tests.bot.slack.conftest import mention, message
from tests.bot.slack.helpers import texts, thread_posts


async def _jobs(slack) -> list:
    return await slack.service.list_jobs(platform="slack", limit=100)


async def _placeholder_says(slack, event, fragment: str, timeout: float = 20) -> str:
    emu = slack.emulator
    await emu.wait_for(lambda: thread_posts(emu, event["ts"]), timeout)
    said = await emu.wait_for(lambda: [t for t in texts(emu.of("chat.update")) if fragment in t], timeout)
    return said[0]


async def test_non_audio_file(slack):
    event = mention(
        "funk like this, 6 seconds", files=[slack.emulator.add_file("notes.pdf", b"%PDF-1.4 ...", "application/pdf")]
    )
    await slack.send_event(event)
    said = await _placeholder_says(slack, event, "doesn't look like audio")
    assert "WAV" in said
    assert await _jobs(slack) == []


async def test_corrupt_audio_file(slack):
    event = mention(
        "funk like this, 6 seconds", files=[slack.emulator.add_file("broken.wav", b"RIFF\x00\x00garbage" * 50)]
    )
    await slack.send_event(event)
    said = await _placeholder_says(slack, event, "couldn't read")
    assert "exporting it again" in said
    assert await _jobs(slack) == []


async def test_oversized_file_is_refused_before_download(slack):
    emu = slack.emulator
    big = emu.add_file("huge.wav", b"0" * 10)
    big["size"] = 50_000_000  # what Slack says the file weighs
    event = mention("funk like this, 6 seconds", files=[big])
    await slack.send_event(event)
    said = await _placeholder_says(slack, event, "references can be at most")
    assert "50.0 MB" in said
    assert emu.of("download") == []
    assert await _jobs(slack) == []


async def test_file_bigger_than_declared_is_cut_off_while_downloading(slack):
    emu = slack.emulator
    liar = emu.add_file("liar.wav", b"0" * 3_000_000)  # cap in the test settings: 2 MB
    liar["size"] = 1000
    event = mention("funk like this, 6 seconds", files=[liar])
    await slack.send_event(event)
    said = await _placeholder_says(slack, event, "references can be at most")
    assert "over" in said
    assert await _jobs(slack) == []


async def test_too_long_reference(slack):
    long_wav = slack.emulator.add_file("long.wav", wav_bytes(seconds=40.0, sample_rate=8000))  # cap: 30 s
    event = mention("funk like this, 6 seconds", files=[long_wav])
    await slack.send_event(event)
    said = await _placeholder_says(slack, event, "minutes long")
    assert "excerpt" in said
    assert await _jobs(slack) == []


async def test_redirect_outside_slack_is_not_followed(slack, other_server):
    emu = slack.emulator
    file = emu.add_file("moved.wav", b"")
    emu.redirects["moved.wav"] = other_server.url("moved.wav")
    event = mention("funk like this, 6 seconds", files=[file])
    await slack.send_event(event)
    await _placeholder_says(slack, event, "sent me elsewhere")
    assert other_server.requests == []
    assert await _jobs(slack) == []


async def test_empty_mention_explains_what_to_do(slack):
    emu = slack.emulator
    event = mention("")
    await slack.send_event(event)
    posts = await emu.wait_for(lambda: thread_posts(emu, event["ts"]), 10)
    assert "Tell me what to make" in posts[0].args["text"]
    assert await _jobs(slack) == []


async def test_reply_in_a_thread_whose_job_failed(slack):
    emu = slack.emulator
    event = mention("funk at 66 BPM, 6 seconds")  # the fast pipeline fails QA at 66 BPM
    await slack.send_event(event)
    await emu.wait_for(lambda: [t for t in texts(emu.of("chat.update")) if "failed" in t], 30)
    await slack.bot.tracker.wait_idle(10)
    await slack.send_event(message("make it slower", thread_ts=event["ts"]))
    said = await emu.wait_for(
        lambda: [t for t in texts(thread_posts(emu, event["ts"])) if "That version failed" in t], 20
    )
    assert said
    assert len(await _jobs(slack)) == 1


async def test_user_at_their_limit(slack):
    emu = slack.emulator
    events = [mention(f"funk number {i}, 6 seconds") for i in range(3)]
    for event in events[:2]:
        await slack.send_event(event)
    await emu.wait_for(lambda: len(emu.of("chat.update")) >= 2, 20)
    await slack.send_event(events[2])
    said = await emu.wait_for(lambda: [t for t in texts(emu.of("chat.update")) if "in the works" in t], 20)
    assert said
    assert len(await _jobs(slack)) == 2
    await slack.bot.tracker.wait_idle(60)


async def test_empty_slash_command_answers_with_help(slack):
    response = await slack.session.post(slack.url)  # unsigned GET-less probe is refused
    assert response.status == 401
    got = await slack.send_command("")
    assert got.status == 200
    assert await _jobs(slack) == []


async def test_slack_api_failure_does_not_crash_the_app(slack):
    """chat.postMessage refused (the app is not in the channel): the request ends quietly, the app lives on."""
    emu = slack.emulator
    emu.fail["chat.postMessage"] = "not_in_channel"
    await slack.send_event(mention("funk, 6 seconds"))
    await emu.wait_for(lambda: len(emu.of("chat.postMessage")) >= 2, 10)  # the attempt, then the error reply attempt
    del emu.fail["chat.postMessage"]
    event = mention("help")
    await slack.send_event(event)
    await emu.wait_for(lambda: thread_posts(emu, event["ts"]), 10)
    assert await _jobs(slack) == []
