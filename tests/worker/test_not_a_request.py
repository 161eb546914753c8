"""A question or chit-chat sent as a prompt makes no job; the user reads the parser's helpful answer."""

from __future__ import annotations

import pytest

import tests.stand_in_pipeline as fake
from worker.schemas import JobRejected, JobRequest
from worker.service import JobService


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        ("how do I download the stems?", "stems"),
        ("what's the difference between dubstep and drum and bass?", "Describe the track you want"),
        ("hello!!", "Describe the track you want"),
    ],
)
async def test_a_question_gets_an_answer_and_no_job(db_settings, prompt: str, answer: str) -> None:
    async with await JobService.open(db_settings, pipeline=fake, migrate=True) as service:
        with pytest.raises(JobRejected) as info:
            await service.submit(JobRequest(prompt=prompt, platform="slack", requester_id="u1", conversation_ref="c1"))
        assert info.value.reason == "not_music"
        assert answer in info.value.user_message
        assert await service.list_jobs() == []
