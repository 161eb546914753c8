"""A Stability answer kept for a job is reused by the next client (another worker) instead of being
paid for again; a different request is not mistaken for it."""

from __future__ import annotations

from pathlib import Path

from pipeline.backends.kept_answers import KeptAnswers
from pipeline.backends.stability import StabilityClient, StabilityRequest
from tests.stability_server import StabilityStandIn

KEY = "sk-kept-answers-test-41d"


def test_a_kept_answer_is_reused_by_the_next_client_and_only_for_the_same_request(tmp_path: Path) -> None:
    request = StabilityRequest(prompt="techno, 128 BPM, F minor", duration=6, seed=7, output_format="wav")
    with StabilityStandIn(api_key=KEY) as server:
        with StabilityClient(api_key=KEY, base_url=server.url, kept=KeptAnswers(tmp_path)) as first:
            paid = first.generate(request)
        assert len(server.requests) == 1

        # A worker that took the job over: a new client, the same folder, the same request.
        with StabilityClient(api_key=KEY, base_url=server.url, kept=KeptAnswers(tmp_path)) as second:
            again = second.generate(request)
            assert len(server.requests) == 1  # nothing sent
            assert again.audio == paid.audio and again.seed == paid.seed
            assert second.records[-1].outcome.startswith("reused") and second.credits_spent == paid.credits
            other = StabilityRequest(prompt="techno, 128 BPM, F minor", duration=6, seed=8, output_format="wav")
            second.generate(other)
        assert len(server.requests) == 2  # another seed is another request
        assert not list(tmp_path.glob("*.partial")) and len(list(tmp_path.glob("*.json"))) == 2
