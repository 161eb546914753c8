"""The buttons under a finished status message.

Variation: the same spec (with every edit made in the thread) and a new seed — another take.
Regenerate: start again from the thread's original words with a new seed, dropping later edits —
what you press after a failure or when the refinements went the wrong way.
Both make the next version in the same thread, linked to the version the button was on.
"""

from __future__ import annotations

import random
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.blocks import OPEN_PAGE_ACTION, REGENERATE_ACTION, VARIATION_ACTION
from bot.slack.listeners.deps import PLATFORM, Deps
from worker.schemas import JobRejected, JobRequest, JobView


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(OPEN_PAGE_ACTION)
    async def on_open_page(ack: Any) -> None:
        await ack()  # Slack opened the page in the browser; nothing else to do

    @app.action(VARIATION_ACTION)
    async def on_variation(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        source = await _source_job(deps, action["value"])
        job = await deps.service.variation(source.id, requester_id=body["user"]["id"], new_seed=True)
        await _follow(deps, job, source)

    @app.action(REGENERATE_ACTION)
    async def on_regenerate(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        source = await _source_job(deps, action["value"])
        root = await _root_job(deps, source)
        spec = dict(root.spec) if root.spec else None
        if spec is not None:
            spec["seed"] = None  # let the new seed below decide
        job = await deps.service.submit(
            JobRequest(
                prompt=root.prompt,
                platform=PLATFORM,
                requester_id=body["user"]["id"],
                conversation_ref=source.conversation_ref,
                thread_ref=source.thread_ref,
                seed=random.SystemRandom().randrange(2**31),
                parent_id=source.id,
                spec=spec,
                reference_path=root.reference_path,  # the new take follows the same reference track
                client_ref=f"regenerate:{body.get('trigger_id') or body['actions'][0].get('action_ts')}",
            )
        )
        await _follow(deps, job, source)


async def _source_job(deps: Deps, job_id: str) -> JobView:
    job = await deps.service.get(job_id)
    if job is None or job.platform != PLATFORM:
        raise JobRejected("not_found", "I can't find that track any more; start a new one with a mention or /generate.")
    return job


async def _root_job(deps: Deps, job: JobView) -> JobView:
    seen = {job.id}
    while job.parent_id and job.parent_id not in seen:
        parent = await deps.service.get(job.parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        job = parent
    return job


async def _follow(deps: Deps, job: JobView, source: JobView) -> None:
    if job.status_message_ref or not source.conversation_ref or not source.thread_ref:
        return
    await deps.tracker.start_job(job, channel=source.conversation_ref, thread_ts=source.thread_ref)
