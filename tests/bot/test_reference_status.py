"""The status message shows what a reference track lent the spec, and what it did not and why,
apart from the other notes, on both platforms."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.common.status import render_status
from bot.discord.status import render_embed
from bot.slack.blocks import status_blocks
from worker.schemas import JobStatus, JobView

NOTES = [
    "from the reference: tempo 96 BPM; key E minor; form intro 4 · verse 8 · chorus 8 bars; chords E:min C:maj G:maj D:maj",
    "not from the reference: genre (ampa does not tell genres by ear; name one in the prompt)",
    "mastered to the reference: -9.1 LUFS against its -9.0 (-0.1 LU); tonal balance 1.2 dB from it (the mix was 4.3 dB away)",
    "duration 900 s is outside 5–600 s; using 600 s",
]


def _job() -> JobView:
    now = datetime.now(timezone.utc)
    return JobView(
        id="0123456789abcdef",
        platform="discord",
        requester_id="42",
        conversation_ref="1",
        thread_ref=None,
        status_message_ref=None,
        prompt="like this but darker",
        parent_id=None,
        version=1,
        spec=None,
        summary="pop · 96 BPM · E minor",
        status=JobStatus.SUCCESS,
        stage=None,
        qa_retries=0,
        qa_reports=[{"passed": True, "checks": []}],
        files={},
        error=None,
        created_at=now,
        updated_at=now,
        started_at=now,
        finished_at=now,
        timings={"total": 3.0},
        delivered=False,
        notes=NOTES,
        reference_path="/tmp/x.wav",
    )


def test_reference_lines_are_split_from_the_other_notes():
    view = render_status(_job(), [])
    assert [line.split(":")[0] for line in view.reference] == [
        "From the reference",
        "Not from the reference",
        "Mastered to the reference",
    ]
    assert view.notes == [NOTES[3]]
    text = view.as_text()
    assert "🎚️ From the reference: tempo 96 BPM" in text and "Note: duration 900 s" in text
    assert text.index("From the reference") < text.index("Note: duration")


def test_discord_shows_them_in_their_own_field():
    embed = render_embed(_job(), render_status(_job(), []))
    fields = {field.name: field.value for field in embed.fields}
    assert "chords E:min C:maj G:maj D:maj" in fields["From the reference"]
    assert "genres by ear" in fields["From the reference"]
    assert "From the reference" not in fields.get("Notes", "")


def test_slack_shows_them_in_their_own_section():
    blocks = status_blocks(render_status(_job(), []), _job())
    texts = [b["text"]["text"] for b in blocks if b.get("type") == "section"]
    reference = [t for t in texts if "From the reference" in t]
    assert reference and "Mastered to the reference" in reference[0]
