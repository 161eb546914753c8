"""The Stable Audio client against the local stand-in: the exact request, both answer forms, every failure."""

from __future__ import annotations

import time

import httpx
import pytest

from pipeline.backends.control import decode_audio
from pipeline.backends.credits import credits_per_request
from pipeline.backends.stability import (
    ContentFlagged,
    KeyRejected,
    OutOfCredits,
    RateLimited,
    RequestRejected,
    ServiceFailed,
    StabilityClient,
    StabilityRequest,
)
from tests.stability_server import Reply, StabilityStandIn

KEY = "sk-client-test-7f3a9c"


@pytest.fixture(scope="module")
def server():
    with StabilityStandIn(api_key=KEY) as running:
        yield running


@pytest.fixture
def stand_in(server):
    server.requests.clear()
    server.tempo_factor, server.key_shift, server.answer_json = 1.0, 0, False
    yield server
    assert server.next_reply() is None, "a scripted reply was left unused"


def _client(server, waits=None, **kwargs) -> StabilityClient:
    on_wait = (lambda seconds, why: waits.append((seconds, why))) if waits is not None else None
    options = {"retries": 3, "backoff_s": 0.01, **kwargs}
    return StabilityClient(api_key=KEY, base_url=server.url, on_wait=on_wait, decode=decode_audio, **options)


def _text(duration: float = 2.0, **kwargs) -> StabilityRequest:
    return StabilityRequest(prompt="Techno, dark, 128 BPM, F minor, instrumental", duration=duration, seed=42, **kwargs)


def test_text_to_audio_sends_multipart_with_bearer_key_and_documented_fields(stand_in):
    with _client(stand_in) as client:
        answer = client.generate(_text(steps=8, cfg_scale=7))
    audio, rate = decode_audio(answer.audio)
    assert rate == 44100 and audio.shape[0] == 2 and abs(audio.shape[1] / rate - 2.0) < 0.01
    assert answer.seed == 42 and answer.finish_reason == "SUCCESS" and answer.credits == 20
    (request,) = stand_in.requests
    assert request.path == "/v2beta/audio/stable-audio-2/text-to-audio" and request.answered == 200
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert request.fields == {
        "prompt": "Techno, dark, 128 BPM, F minor, instrumental",
        "duration": "2",
        "seed": "42",
        "model": "stable-audio-2.5",
        "output_format": "wav",
        "steps": "8",
        "cfg_scale": "7",
    }
    assert request.files == {"none": ("none", b"")}  # the dummy part that makes httpx send multipart


def test_audio_to_audio_uploads_the_init_audio_and_strength(stand_in):
    with _client(stand_in) as client:
        init = client.generate(_text(duration=6.5)).audio  # any 6.5 s of WAV
        client.generate(_text(duration=6.5, init_audio=init, init_seconds=6.5, strength=0.6))
    request = stand_in.requests[-1]
    assert request.path.endswith("/audio-to-audio") and request.answered == 200
    assert request.fields["strength"] == "0.6" and request.files["audio"] == ("init.wav", init)


def test_json_answers_with_base64_audio_are_read(stand_in):
    stand_in.answer_json = True
    with _client(stand_in) as client:
        answer = client.generate(_text())
    assert decode_audio(answer.audio)[1] == 44100 and answer.seed == 42


def test_a_urlencoded_body_is_refused_by_the_stand_in_as_by_stability(stand_in):
    response = httpx.post(
        stand_in.url + "/v2beta/audio/stable-audio-2/text-to-audio",
        data={"prompt": "x", "duration": "2"},
        headers={"authorization": f"Bearer {KEY}", "accept": "audio/*"},
    )
    assert response.status_code == 400 and "multipart" in response.text


def test_invalid_values_are_refused_before_anything_is_sent(stand_in):
    with _client(stand_in) as client, pytest.raises(RequestRejected, match="duration must be 1–190"):
        client.generate(_text(duration=200))
    with _client(stand_in) as client, pytest.raises(RequestRejected, match="4–8 steps"):
        client.generate(_text(steps=50))
    assert stand_in.requests == []


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (Reply.error(401, "authorization: invalid"), KeyRejected, "rejected the API key"),
        (Reply.error(402, "insufficient balance"), OutOfCredits, "out of credits"),
        (Reply.moderation(), ContentFlagged, "flagged this request"),
        (Reply.error(422, "prompt: contains a forbidden artist name"), RequestRejected, "forbidden artist name"),
        (Reply.error(400, "duration: too long for this model"), RequestRejected, "too long for this model"),
    ],
)
def test_final_failures_are_not_retried_and_not_charged(stand_in, reply, error, words):
    stand_in.queue(reply)
    with _client(stand_in) as client, pytest.raises(error, match=words) as caught:
        client.generate(_text())
    assert len(stand_in.requests) == 1  # no retry
    assert client.credits_spent == 0
    assert KEY not in caught.value.user_message


def test_rate_limit_honours_retry_after_and_reports_the_wait(stand_in):
    waits: list[tuple[float, str]] = []
    stand_in.queue(Reply.error(429, "too many requests", retry_after=1))
    started = time.monotonic()
    with _client(stand_in, waits) as client:
        client.generate(_text())
    assert time.monotonic() - started >= 1.0
    assert waits == [(1.0, "Stable Audio is rate-limiting this key")]
    assert [r.answered for r in stand_in.requests] == [429, 200]
    assert client.credits_spent == 20  # only the answer that delivered audio


def test_transient_failures_are_retried_with_backoff(stand_in):
    waits: list[tuple[float, str]] = []
    stand_in.queue(Reply.error(429), Reply.error(503), Reply.dropped())
    with _client(stand_in, waits) as client:
        client.generate(_text())
    assert [r.answered for r in stand_in.requests] == [429, 503, None, 200]
    assert [why for _, why in waits] == [
        "Stable Audio is rate-limiting this key",
        "Stable Audio answered HTTP 503",
        "the connection to Stable Audio dropped",
    ]
    # Backoff doubles, with ±20 % jitter: 0.01, 0.02, 0.04 s.
    for (seconds, _), expected in zip(waits, (0.01, 0.02, 0.04), strict=True):
        assert 0.8 * expected <= seconds <= 1.2 * expected
    assert [r.outcome for r in client.records][-1] == "ok"


def test_undecodable_audio_is_retried(stand_in):
    stand_in.queue(Reply.undecodable())
    with _client(stand_in) as client:
        answer = client.generate(_text())
    decode_audio(answer.audio)
    assert [r.outcome for r in client.records] == ["retry: the audio it sent could not be decoded", "ok"]


def test_retries_are_bounded(stand_in):
    stand_in.queue(*[Reply.error(500)] * 3)
    with _client(stand_in, retries=2) as client, pytest.raises(ServiceFailed, match="after 3 tries"):
        client.generate(_text())
    assert len(stand_in.requests) == 3
    stand_in.queue(*[Reply.error(429)] * 2)
    with _client(stand_in, retries=1) as client, pytest.raises(RateLimited, match="rate-limiting"):
        client.generate(_text())


def test_the_key_never_follows_a_redirect_to_another_host(stand_in):
    with StabilityStandIn(api_key=KEY) as elsewhere:
        stand_in.queue(Reply.redirect(elsewhere.url + "/v2beta/audio/stable-audio-2/text-to-audio"))
        with _client(stand_in, retries=0) as client, pytest.raises(Exception) as caught:
            client.generate(_text())
        assert elsewhere.requests == []
    assert KEY not in str(caught.value) and KEY not in repr(client)


def test_credit_prices_follow_stabilitys_formula():
    assert credits_per_request("stable-audio-2.5", None) == 20
    assert credits_per_request("stable-audio-2", None) == 20  # 17 + 0.06 × 50
    assert credits_per_request("stable-audio-2", 100) == 23
