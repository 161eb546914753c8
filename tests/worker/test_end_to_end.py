"""The embedded default end to end on the real pipeline: SQLite, in-process runner, a 6-second track
forced too hot on its first master so the QA loop shows up as job state."""

from __future__ import annotations

from pathlib import Path

import soundfile

from tests.worker.conftest import make_settings
from worker.schemas import JobRequest, JobStatus
from worker.service import JobService


async def test_real_track_with_a_qa_retry(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, AMPA_PIPELINE=None, AMPA_RENDER_WORKERS=1)
    async with await JobService.open(settings, pipeline_options={"first_master_gain_db": 9.0}) as service:
        job = await service.submit(
            JobRequest(
                prompt="dark atmospheric synthwave at 140 BPM in A minor, 6 seconds",
                platform="discord",
                requester_id="u1",
                thread_ref="t1",
            )
        )
        assert "synthwave" in job.summary and "140 BPM" in job.summary  # understood at submit time
        events = [event async for event in service.events(job.id)]
        job = await service.get(job.id)
    assert job.status == JobStatus.SUCCESS, job.error
    statuses = [e.status for e in events]
    assert statuses[0] == JobStatus.PENDING and statuses[-1] == JobStatus.SUCCESS
    assert JobStatus.RETRYING_QA in statuses and job.qa_retries >= 1
    assert len(job.qa_reports) == job.qa_retries + 1 and job.qa_reports[-1]["passed"]
    stages = {e.stage for e in events if e.stage}
    assert {"parsing", "composing", "rendering", "mixing", "mastering", "qa"} <= stages
    mix = Path(job.files["mix.wav"])
    info = soundfile.info(mix)
    assert abs(info.duration - 6.0) < 3.0 and info.channels == 2
    assert {"mix.mp3", "song.mid", "spectrogram.png", "stems.zip", "report.json"} <= set(job.files)
    assert job.spec["tempo_bpm"]["value"] == 140 and job.spec["key"]["value"] == "A minor"
