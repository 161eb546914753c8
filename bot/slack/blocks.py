"""Block Kit for what the app posts: the status message, its buttons, help and App Home.

Every message also carries plain `text` (notifications, screen readers and clients without Block
Kit show it), which is the same text as the blocks.
"""

from __future__ import annotations

from typing import Any

from bot.common.status import StatusView
from worker.schemas import JobStatus, JobView

VARIATION_ACTION = "ampa_variation"
REGENERATE_ACTION = "ampa_regenerate"
OPEN_PAGE_ACTION = "ampa_open_page"  # a link button: Slack opens the URL and still sends the action (acked)

HELP_TEXT = (
    "*ampa makes music from a sentence.*\n"
    "• Mention me with what you want: `@ampa upbeat corporate funk, 60 seconds` — attach an audio file "
    "to use it as a reference (its tempo, key, form, chords and feel; say _match the reference_ to master "
    "like it too).\n"
    "• Or use `/generate dark synthwave at 140 BPM in A minor, 2 minutes`.\n"
    "• Pick the model with `model: stable-audio` (or say “made with stable audio”) where this workspace has "
    "one; neural models give a mastered mix and no stems. The offline symbolic composer is the default.\n"
    "• I answer in a thread with a status message, then post the mastered track, its spectrogram, the MIDI "
    "and the stems.\n"
    '• Reply in that thread to refine it ("slower", "no drums", "make it 90 seconds"): each reply makes a '
    "new version in the same thread. *Variation* makes another take of the same brief; *Regenerate* starts "
    "again from your original words."
)


def status_text(view: StatusView) -> str:
    return view.as_text()


def status_blocks(view: StatusView, job: JobView, page_url: str | None = None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_escape(view.headline)}*"}},
        {
            "type": "context",
            "elements": [
                # Who asked and what, so a status message at the top of a channel (/generate) says it too.
                {"type": "mrkdwn", "text": f"<@{job.requester_id}>: “{_escape(_shorten(job.prompt, 200))}”"},
                {"type": "mrkdwn", "text": f"Understood: {_escape(view.understood)}"},
            ],
        },
    ]
    if view.reference:
        text = _shorten("\n".join(f"🎚️ {line}" for line in view.reference), 2900)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _escape(text)}})
    if view.lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _escape("\n".join(view.lines))}})
    tail = [line for line in (view.verdict, view.timings) if line]
    tail += [f"Note: {note}" for note in view.notes]
    if tail:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _escape(line)} for line in tail]})
    if view.final and job.status in (JobStatus.SUCCESS, JobStatus.FAILED):
        blocks.append(action_buttons(job, page_url))
    return blocks


def action_buttons(job: JobView, page_url: str | None = None) -> dict[str, Any]:
    buttons = []
    if job.status == JobStatus.SUCCESS:
        if page_url:
            buttons.append({**_button("🔗 Track page", OPEN_PAGE_ACTION, job.id), "url": page_url})
        buttons.append(_button("🎲 Variation", VARIATION_ACTION, job.id))
    buttons.append(_button("🔁 Regenerate", REGENERATE_ACTION, job.id))
    return {"type": "actions", "block_id": f"ampa_actions:{job.id}", "elements": buttons}


def home_view() -> dict[str, Any]:
    return {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": HELP_TEXT}}]}


def _button(label: str, action_id: str, job_id: str) -> dict[str, Any]:
    # The job id travels in the button's value, so buttons keep working after a restart.
    return {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id, "value": job_id}


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    """Slack's mrkdwn escaping: the three characters it treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
