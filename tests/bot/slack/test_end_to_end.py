"""End to end through the real Bolt app, the real JobService and the REAL pipeline (short tracks):

signed app_mention with a reference file → status message in the thread, updated through each stage →
files uploaded into the thread (getUploadURLExternal + upload + completeUploadExternal) → a reply in
the thread → version 2 in the same thread, linked to version 1.
"""

from __future__ import annotations

import pytest

from pipeline.vocabulary import STAGES
from tests.bot.slack.audio import wav_bytes
from tests.bot.slack.conftest import BOT_TOKEN, mention, message
from tests.bot.slack.helpers import eventually, thread_posts, updates_of
from worker.schemas import JobStatus

pytestmark = pytest.mark.timeout(240)

STAGE_WORDS = {
    "Understanding the prompt": "parsing",
    "Analysing the reference": "analysing",
    "Composing": "composing",
    "Rendering": "rendering",
    "Mixing": "mixing",
    "Mastering": "mastering",
    "Checking quality": "qa",
}
MAGIC = {
    "mix.mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3"),
    "spectrogram.png": (b"\x89PNG",),
    "song.mid": (b"MThd",),
    "stems.zip": (b"PK",),
}


@pytest.fixture
def real_pipeline() -> bool:
    return True


def _active_stages(texts: list[str]) -> list[str]:
    """The stage marked ▶ in each successive status text (in order, without repeats)."""
    seen: list[str] = []
    for text in texts:
        for line in text.splitlines():
            if line.startswith("▶ ") and line[2:] in STAGE_WORDS:
                stage = STAGE_WORDS[line[2:]]
                if not seen or seen[-1] != stage:
                    seen.append(stage)
    return seen


def _failed(updates) -> list[str]:
    return [c.args["text"] for c in updates if c.args["text"].startswith("❌")]


async def _delivered(service, job_id: str) -> bool:
    job = await service.get(job_id)
    return bool(job and job.delivered)


def _uploaded(emu, complete_call) -> dict[str, bytes]:
    """Artifact kind -> bytes, for the files one completeUploadExternal shared."""
    out = {}
    for item in complete_call.args["files"]:
        upload = emu.uploads[item["id"]]
        out[upload["filename"].rsplit("-", 1)[-1]] = upload["bytes"]  # "ampa-<id>-v1-mix.mp3" -> "mix.mp3"
    return out


async def test_mention_with_reference_then_reply_makes_version_two(slack):
    emu, service = slack.emulator, slack.service
    reference = emu.add_file("groove.wav", wav_bytes(seconds=4.0), "audio/wav")
    event = mention("upbeat funk like this, 8 seconds", files=[reference])
    root = event["ts"]
    response = await slack.send_event(event)
    assert response.status == 200

    # The reference was fetched from Slack's file host with the bot token.
    await emu.wait_for(lambda: emu.of("download"), 30)
    assert emu.of("download")[0].headers["Authorization"] == f"Bearer {BOT_TOKEN}"

    # One status message, in the thread under the mention, answered at once.
    status_post = (await emu.wait_for(lambda: thread_posts(emu, root), 10))[0]
    status_ts = status_post.response["ts"]

    # Files into the same thread.
    await emu.wait_for(lambda: emu.of("files.completeUploadExternal") or _failed(updates_of(emu, status_ts)), 150)
    failed = _failed(updates_of(emu, status_ts))
    assert not failed, f"the real pipeline failed the job: {failed[-1]}"
    complete = emu.of("files.completeUploadExternal")
    assert complete[0].args["channel_id"] == "CGENERAL" and complete[0].args["thread_ts"] == root
    assert "v1" in complete[0].args["initial_comment"]
    uploaded = _uploaded(emu, complete[0])
    assert set(uploaded) == set(MAGIC)
    for kind, data in uploaded.items():
        assert data and data.startswith(MAGIC[kind]), kind
    jobs = await service.list_jobs(platform="slack")
    assert len(jobs) == 1
    first = jobs[0]
    await eventually(lambda: _delivered(service, first.id), 20)
    first = await service.get(first.id)
    assert first.status == JobStatus.SUCCESS and first.thread_ref == root
    assert first.status_message_ref == f"CGENERAL:{status_ts}"
    sizes = {kind: (service.file_path(first, kind)).stat().st_size for kind in MAGIC}
    assert {kind: len(data) for kind, data in uploaded.items()} == sizes

    # The status message was updated in place through the stages, in order, and ends with QA + timings.
    texts = [c.args["text"] for c in updates_of(emu, status_ts)]
    stages = _active_stages(texts)
    assert len(stages) >= 4, texts
    assert stages == sorted(stages, key=STAGES.index)
    assert "analysing" in stages or any("✓ Analysing the reference" in t for t in texts)
    assert "Understood:" in texts[-1] and "0:08" in texts[-1]
    assert "QA passed" in texts[-1] and "⏱️" in texts[-1] and "total" in texts[-1]
    final_blocks = updates_of(emu, status_ts)[-1].args["blocks"]
    buttons = [e["action_id"] for b in final_blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["ampa_variation", "ampa_regenerate"]

    # A reply in the thread: version 2, same thread, parent linked, delivered there too.
    await slack.send_event(message("make it slower", thread_ts=root))
    await emu.wait_for(lambda: len(emu.of("files.completeUploadExternal")) >= 2 or _failed(emu.of("chat.update")), 150)
    assert not _failed(emu.of("chat.update")), f"the real pipeline failed version 2: {_failed(emu.of('chat.update'))}"
    second_complete = emu.of("files.completeUploadExternal")[1]
    assert second_complete.args["thread_ts"] == root and "v2" in second_complete.args["initial_comment"]
    jobs = await service.list_jobs(platform="slack")
    second = next(j for j in jobs if j.id != first.id)
    await eventually(lambda: _delivered(service, second.id), 20)
    second = await service.get(second.id)
    assert second.version == 2 and second.parent_id == first.id and second.thread_ref == root
    assert second.status == JobStatus.SUCCESS
    second_status_ts = second.status_message_ref.split(":")[1]
    assert second_status_ts != status_ts
    assert any("ready — v2" in c.args["text"] for c in updates_of(emu, second_status_ts))
    assert len(await service.list_jobs(platform="slack")) == 2
