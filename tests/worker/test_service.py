"""JobService end to end with the in-process runner, on SQLite and on the real PostgreSQL.

The pipeline is the fast stand-in (tests/stand_in_pipeline.py) injected at the runner's seam; the
job system around it — database, limits, leases, events, artifacts — is all real."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.stand_in_pipeline as fake
from tests.worker.conftest import wait_for
from worker.schemas import JobRejected, JobRequest, JobStatus
from worker.service import FAILED_PARENT_MESSAGE, JobService

PROMPT = "dark atmospheric synthwave at 140 BPM in A minor, 8 seconds"


def request(**kw) -> JobRequest:
    values = {"prompt": PROMPT, "platform": "discord", "requester_id": "u1", "conversation_ref": "c1"}
    values.update(kw)
    return JobRequest(**values)


async def open_service(settings, **options) -> JobService:
    return await JobService.open(settings, pipeline=fake, pipeline_options=options or None, migrate=True)


async def finished(service: JobService, job_id: str):
    events = [event async for event in service.events(job_id)]
    job = await service.get(job_id)
    assert job is not None
    return job, events


async def test_job_walks_every_stage_and_records_its_history(db_settings) -> None:
    async with await open_service(db_settings) as service:
        job = await service.submit(request())
        assert job.status == JobStatus.PENDING and job.version == 1
        job, events = await finished(service, job.id)
    assert job.status == JobStatus.SUCCESS, job.error
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].status == JobStatus.PENDING and events[-1].status == JobStatus.SUCCESS
    assert events[0].data == {"queue_position": 1}  # what the status renderers show while waiting
    stages = [e.stage for e in events if e.status == JobStatus.PROCESSING]
    assert stages[:1] == ["parsing"] and {"composing", "rendering", "mixing", "mastering", "qa"} <= set(stages)
    assert job.spec and job.spec["seed"]["value"] is not None  # resolved by the worker
    assert job.started_at and job.finished_at and job.finished_at >= job.started_at
    assert set(job.timings) >= {"rendering", "qa"}
    for name in ("mix.mp3", "mix.wav", "song.mid", "spectrogram.png", "stems.zip", "report.json"):
        path = service.file_path(job, name)
        assert path is not None and path.is_file(), name
        assert path.parent.name == "1" and path.parent.parent.name == job.id  # <job>/<attempt>/
    assert not list(path.parent.parent.glob(".staging-*"))


async def test_qa_retry_is_job_state(db_settings) -> None:
    async with await open_service(db_settings, first_master_gain_db=4.0) as service:
        job, events = await finished(service, (await service.submit(request())).id)
    assert job.status == JobStatus.SUCCESS
    assert job.qa_retries == 1 and len(job.qa_reports) == 2
    assert [r["passed"] for r in job.qa_reports] == [False, True]
    retry = [e for e in events if e.status == JobStatus.RETRYING_QA]
    assert len(retry) == 1
    assert retry[0].message.startswith("QA: too loud") and "attempt 2" in retry[0].message
    assert retry[0].data["actions"] == ["lower master gain by 4.4 dB"]
    assert any(e.stage == "mixing" and e.attempt == 2 for e in events)


async def test_qa_failing_every_retry_fails_the_job_with_reasons(db_settings) -> None:
    async with await open_service(db_settings, qa_never_passes=True) as service:
        job, events = await finished(service, (await service.submit(request())).id)
    assert job.status == JobStatus.FAILED
    assert job.qa_retries == 2 and len(job.qa_reports) == 3
    assert "too loud" in job.error
    assert events[-1].data["reasons"] == ["too loud: -9.6 LUFS, target -14 ± 0.5"]
    assert job.files == {}


async def test_transient_failure_is_retried_and_not_counted_as_qa(db_settings) -> None:
    async with await open_service(db_settings, transient_failures=1) as service:
        job, events = await finished(service, (await service.submit(request())).id)
    assert job.status == JobStatus.SUCCESS
    assert job.qa_retries == 0
    snag = [e for e in events if e.data.get("transient")]
    assert len(snag) == 1 and "OSError" in snag[0].message


async def test_bad_reference_fails_permanently_with_the_pipeline_message(db_settings, tmp_path: Path) -> None:
    bad = tmp_path / "ref.bad"
    bad.write_bytes(b"not audio")
    async with await open_service(db_settings) as service:
        job, _ = await finished(service, (await service.submit(request(reference_path=str(bad)))).id)
    assert job.status == JobStatus.FAILED
    assert job.error == "That reference file is not audio; attach an MP3, WAV, FLAC or OGG file."


async def test_missing_reference_is_rejected_at_submit(db_settings, tmp_path: Path) -> None:
    async with await open_service(db_settings) as service:
        with pytest.raises(JobRejected) as info:
            await service.submit(request(reference_path=str(tmp_path / "gone.wav")))
    assert info.value.reason == "bad_reference"


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"prompt": "   "}, "empty_prompt"),
        ({"prompt": "x " * 2100}, "prompt_too_long"),
        ({"duration_s": 3600.0}, "too_long"),
        ({"overrides": {"genre": "polka-core"}}, "bad_option"),
        ({"overrides": {"key": "H minor"}}, "bad_option"),
    ],
)
async def test_bad_requests_are_rejected_with_a_message(db_settings, kw, reason) -> None:
    async with await open_service(db_settings) as service:
        with pytest.raises(JobRejected) as info:
            await service.submit(request(**kw))
        assert info.value.reason == reason
        assert info.value.user_message and "Traceback" not in info.value.user_message
        assert await service.list_jobs() == []  # nothing half-made


async def test_per_user_concurrency_quota_and_queue_cap(db_settings, tmp_path: Path) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    settings = db_settings.model_copy(update={"user_concurrent_jobs": 2, "user_hourly_quota": 3, "queue_depth_cap": 3})
    async with await open_service(settings, hold_file=str(hold)) as service:
        first = await service.submit(request())
        await wait_for(lambda: _stage_is(service, first.id, "rendering"), timeout=10, what="rendering")
        await service.submit(request())
        with pytest.raises(JobRejected) as info:
            await service.submit(request())
        assert info.value.reason == "concurrency"
        assert "You already have 2 tracks in the works" in info.value.user_message
        # Another user still gets in, until the queue is full.
        await service.submit(request(requester_id="u2"))
        await service.submit(request(requester_id="u3"))
        with pytest.raises(JobRejected) as info:
            await service.submit(request(requester_id="u4"))
        assert info.value.reason == "queue_full"
        for job in await service.list_jobs(limit=10):
            await service.cancel(job.id)
        # u1 has made 2 this hour; a third is allowed, a fourth is over the quota.
        await service.submit(request())
        for job in await service.list_jobs(requester_id="u1", limit=10):
            await service.cancel(job.id)
        with pytest.raises(JobRejected) as info:
            await service.submit(request())
        assert info.value.reason == "quota"
        hold.unlink()


async def test_client_ref_makes_submit_idempotent(db_settings) -> None:
    async with await open_service(db_settings) as service:
        first = await service.submit(request(client_ref="interaction-1"))
        again = await service.submit(request(client_ref="interaction-1"))
        other_platform = await service.submit(request(client_ref="interaction-1", platform="slack"))
        assert again.id == first.id
        assert other_platform.id != first.id
        assert len(await service.list_jobs(limit=10)) == 2


async def test_cancel_waiting_and_running_jobs(db_settings, tmp_path: Path) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    async with await open_service(db_settings, hold_file=str(hold)) as service:
        running = await service.submit(request())
        waiting = await service.submit(request(requester_id="u2"))  # concurrency 1: waits behind `running`
        await wait_for(lambda: _stage_is(service, running.id, "rendering"), timeout=10, what="rendering")
        assert await service.queue_position(waiting.id) == 1
        with pytest.raises(JobRejected) as info:
            await service.cancel(waiting.id, requester_id="someone-else")
        assert info.value.reason == "forbidden"
        cancelled = await service.cancel(waiting.id, requester_id="u2")
        assert cancelled.status == JobStatus.CANCELLED
        await service.cancel(running.id)
        job, _ = await finished(service, running.id)
        assert job.status == JobStatus.CANCELLED and job.files == {}
        assert (await service.cancel(running.id)).status == JobStatus.CANCELLED  # idempotent
        with pytest.raises(JobRejected):
            await service.cancel("no-such-job")


async def _stage_is(service: JobService, job_id: str, stage: str) -> bool:
    job = await service.get(job_id)
    return job is not None and job.stage == stage


async def test_events_replay_then_follow_live_without_gaps(db_settings, tmp_path: Path) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    async with await open_service(db_settings, hold_file=str(hold)) as service:
        job = await service.submit(request())
        await wait_for(lambda: _stage_is(service, job.id, "rendering"), timeout=10, what="rendering")
        replayed = await service.history(job.id)
        seen = []
        async for event in service.events(job.id, after_seq=2):
            seen.append(event)
            if event.stage == "rendering":
                hold.unlink()  # the rest arrives live
        assert [e.seq for e in seen] == list(range(3, seen[-1].seq + 1))
        assert seen[-1].status == JobStatus.SUCCESS
        assert [e.seq for e in replayed] == [e.seq for e in await service.history(job.id)][: len(replayed)]
        # A finished job replays and stops.
        assert [e.seq async for e in service.events(job.id, after_seq=0)][-1] == seen[-1].seq


async def test_adapter_bookkeeping_and_undelivered(db_settings) -> None:
    async with await open_service(db_settings) as service:
        job = await service.submit(request())
        await service.set_status_message(job.id, "c1:m1")
        await service.set_thread(job.id, "t1")
        assert [j.id for j in await service.undelivered("discord")] == [job.id]
        job, _ = await finished(service, job.id)
        assert job.status_message_ref == "c1:m1" and job.thread_ref == "t1"
        await service.mark_delivered(job.id)
        assert await service.undelivered("discord") == []
        assert (await service.latest_in_thread("discord", "t1")).id == job.id
        assert await service.latest_in_thread("slack", "t1") is None
        with pytest.raises(JobRejected):
            await service.set_thread("missing", "t2")


async def test_variation_and_regenerate_make_new_versions(db_settings) -> None:
    async with await open_service(db_settings) as service:
        parent, _ = await finished(service, (await service.submit(request(thread_ref="t1"))).id)
        varied = await service.variation(parent.id, requester_id="u2")
        same = await service.variation(parent.id, requester_id="u2", new_seed=False)
        again = await service.variation(parent.id, requester_id="u3")
        for child in (varied, same):
            assert child.parent_id == parent.id and child.version == 2 and child.thread_ref == "t1"
        old_seed = parent.spec["seed"]["value"]
        assert varied.spec["seed"]["value"] != old_seed
        assert again.spec["seed"]["value"] == varied.spec["seed"]["value"]  # deterministic
        assert same.spec["seed"]["value"] == old_seed
        child, _ = await finished(service, varied.id)
        assert child.status == JobStatus.SUCCESS
        assert child.spec["tempo_bpm"] == parent.spec["tempo_bpm"]


async def test_follow_up_on_a_failed_job_says_so(db_settings) -> None:
    async with await open_service(db_settings, qa_never_passes=True) as service:
        parent, _ = await finished(service, (await service.submit(request(thread_ref="t1"))).id)
        follow = await service.follow_up(parent.id, "make the drums quieter", requester_id="u1")
        assert follow.job is None and follow.message == FAILED_PARENT_MESSAGE
        with pytest.raises(JobRejected):
            await service.follow_up("missing", "faster", requester_id="u1")


async def test_follow_up_makes_the_next_version_in_the_thread(db_settings) -> None:
    async with await open_service(db_settings) as service:
        parent, _ = await finished(service, (await service.submit(request(thread_ref="t1"))).id)
        follow = await service.follow_up(parent.id, "make it faster", requester_id="u1", client_ref="m-42")
        assert follow.job is not None
        assert follow.job.parent_id == parent.id and follow.job.version == 2 and follow.job.thread_ref == "t1"
        repeat = await service.follow_up(parent.id, "make it faster", requester_id="u1", client_ref="m-42")
        assert repeat.job is not None and repeat.job.id == follow.job.id
        child, _ = await finished(service, follow.job.id)
        assert child.status == JobStatus.SUCCESS
        assert (await service.latest_in_thread("discord", "t1")).id == child.id


async def test_restarted_process_resumes_waiting_jobs(db_settings) -> None:
    reader = await JobService.open(db_settings, run_jobs=False, migrate=True)
    job = await reader.submit(request())
    await reader.close()
    async with await open_service(db_settings) as service:  # its reconciler finds the job at start-up
        job, _ = await finished(service, job.id)
    assert job.status == JobStatus.SUCCESS
