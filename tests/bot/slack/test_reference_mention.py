"""A mention with an attached file and "match the reference": the job follows the file and masters like it."""

from __future__ import annotations

from tests.bot.slack.conftest import mention
from tests.bot.slack.helpers import eventually


async def test_a_mention_with_a_file_and_match_words_makes_a_matched_job(slack):
    from tests.bot.slack.audio import wav_bytes

    emu, service = slack.emulator, slack.service
    reference = emu.add_file("groove.wav", wav_bytes(seconds=6.0), "audio/wav")
    await slack.send_event(mention("funk like this and match the reference, 6 seconds", files=[reference]))

    async def only_job():
        jobs = await service.list_jobs(platform="slack")
        return jobs[0] if jobs else None

    job = await eventually(only_job)
    assert job.reference_path
    assert job.spec["match_reference"] == {"value": True, "source": "prompt", "confidence": 1.0}
    assert job.spec.get("align_to_reference") is None
