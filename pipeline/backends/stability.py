"""A synchronous client for Stability AI's Stable Audio API (v2beta), and what each failure means.

    client = StabilityClient(api_key=..., base_url="https://api.stability.ai", on_wait=...)
    answer = client.text_to_audio(StabilityRequest(prompt=..., duration=45, seed=7, model="stable-audio-2.5"))
    answer.audio (bytes), answer.seed, answer.finish_reason, answer.credits

Synchronous on purpose: the pipeline runs in a worker thread (worker/runner.py calls produce()
through asyncio.to_thread), so a request that waits never blocks an event loop.

Every request is multipart/form-data (Stability answers 400 to anything else; httpx only sends
multipart when a file part is present, so text-to-audio carries an empty dummy file part, as
Stability's own examples do). The key goes in the authorization header to `base_url` only:
redirects are never followed, and the key is kept out of every repr, log line and error message.

Failures, in the order a user meets them (each a GeneratorFailed subclass with its exit code):
    401 -> KeyRejected        403 content_moderation -> ContentFlagged (not charged, no retry)
    402 -> OutOfCredits       400/422 -> RequestRejected (what was wrong, from the error body)
    429 -> wait (retry-after if given, else backoff) and retry; RateLimited once retries run out
    5xx, timeouts, dropped connections, undecodable audio -> retry with backoff; ServiceFailed after
"""

from __future__ import annotations

import base64
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from pipeline.backends.credits import credits_per_request
from pipeline.backends.kept_answers import KeptAnswers
from pipeline.errors import GeneratorFailed

log = logging.getLogger(__name__)

TEXT_TO_AUDIO = "/v2beta/audio/stable-audio-2/text-to-audio"
AUDIO_TO_AUDIO = "/v2beta/audio/stable-audio-2/audio-to-audio"
MODELS = ("stable-audio-2.5", "stable-audio-2")
MAX_PROMPT_CHARS = 10_000
MIN_DURATION_S, MAX_DURATION_S = 1.0, 190.0
MIN_INIT_AUDIO_S = 6.0
MAX_INIT_AUDIO_BYTES = 50_000_000
MAX_SEED = 4_294_967_294
STEPS = {"stable-audio-2.5": (4, 8, 8), "stable-audio-2": (30, 100, 50)}  # (min, max, default)
MAX_BACKOFF_S = 60.0
MAX_RETRY_AFTER_S = 300.0  # a longer wait than this fails the job rather than holding a worker


# ----------------------------------------------------------------------------------------- errors
class StabilityFailed(GeneratorFailed):
    reason = "stability_failed"
    exit_code = 20


class KeyRejected(StabilityFailed):
    reason, exit_code = "stability_key_rejected", 21


class OutOfCredits(StabilityFailed):
    reason, exit_code = "stability_out_of_credits", 22


class ContentFlagged(StabilityFailed):
    reason, exit_code = "stability_content_flagged", 23


class RequestRejected(StabilityFailed):
    reason, exit_code = "stability_request_rejected", 24


class RateLimited(StabilityFailed):
    reason, exit_code = "stability_rate_limited", 25


class ServiceFailed(StabilityFailed):
    reason, exit_code = "stability_unavailable", 26


# ---------------------------------------------------------------------------------------- request
@dataclass(frozen=True)
class StabilityRequest:
    prompt: str
    duration: float
    seed: int
    model: str = "stable-audio-2.5"
    steps: int | None = None
    cfg_scale: float | None = None
    output_format: str = "wav"
    init_audio: bytes | None = field(default=None, repr=False)  # WAV: makes it audio-to-audio
    init_seconds: float | None = None
    strength: float | None = None

    @property
    def endpoint(self) -> str:
        return AUDIO_TO_AUDIO if self.init_audio is not None else TEXT_TO_AUDIO

    @property
    def credits(self) -> float:
        return credits_per_request(self.model, self.steps)

    def validate(self) -> None:
        """The API's documented ranges, checked before anything is sent (and paid for)."""
        problems = []
        if not self.prompt.strip() or len(self.prompt) > MAX_PROMPT_CHARS:
            problems.append(f"the prompt must be 1–{MAX_PROMPT_CHARS} characters")
        if not MIN_DURATION_S <= self.duration <= MAX_DURATION_S:
            problems.append(f"duration must be {MIN_DURATION_S:g}–{MAX_DURATION_S:g} s (got {self.duration:g})")
        if not 0 <= self.seed <= MAX_SEED:
            problems.append(f"seed must be 0–{MAX_SEED}")
        if self.model not in MODELS:
            problems.append(f"model must be one of {', '.join(MODELS)}")
        elif self.steps is not None and not STEPS[self.model][0] <= self.steps <= STEPS[self.model][1]:
            low, high, _ = STEPS[self.model]
            problems.append(f"{self.model} takes {low}–{high} steps (got {self.steps})")
        if self.cfg_scale is not None and not 1 <= self.cfg_scale <= 25:
            problems.append("cfg_scale must be 1–25")
        if self.output_format not in ("mp3", "wav"):
            problems.append("output_format must be mp3 or wav")
        if self.init_audio is not None:
            if len(self.init_audio) > MAX_INIT_AUDIO_BYTES:
                problems.append("the init audio is over 50 MB")
            if self.init_seconds is not None and not MIN_INIT_AUDIO_S <= self.init_seconds <= MAX_DURATION_S:
                problems.append(f"the init audio must be {MIN_INIT_AUDIO_S:g}–{MAX_DURATION_S:g} s long")
            if self.strength is not None and not 0 <= self.strength <= 1:
                problems.append("strength must be 0–1")
        if problems:
            raise RequestRejected("ampa would send Stability an invalid request: " + "; ".join(problems) + ".")

    def form(self) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
        """(fields, files) of the multipart body."""
        fields = {
            "prompt": self.prompt,
            "duration": f"{self.duration:g}",
            "seed": str(self.seed),
            "model": self.model,
            "output_format": self.output_format,
        }
        if self.steps is not None:
            fields["steps"] = str(self.steps)
        if self.cfg_scale is not None:
            fields["cfg_scale"] = f"{self.cfg_scale:g}"
        if self.init_audio is None:
            return fields, {"none": ("none", b"", "application/octet-stream")}
        if self.strength is not None:
            fields["strength"] = f"{self.strength:g}"
        return fields, {"audio": ("init.wav", self.init_audio, "audio/wav")}


@dataclass(frozen=True)
class StabilityAnswer:
    audio: bytes = field(repr=False)
    content_type: str
    seed: int | None
    finish_reason: str | None
    credits: float


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP exchange, for report.json (no key, no prompt: the spec is there already)."""

    endpoint: str
    status: int | None  # None: no answer (timeout, dropped connection)
    outcome: str  # "ok", "retry: …", or the failure's reason
    seconds: float
    credits: float  # charged for this exchange: only a successful answer costs

    def to_dict(self) -> dict[str, object]:
        return {
            "endpoint": self.endpoint,
            "status": self.status,
            "outcome": self.outcome,
            "seconds": round(self.seconds, 3),
            "credits": self.credits,
        }


WaitCallback = Callable[[float, str], None]  # (seconds about to wait, why)


class StabilityClient:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout_s: float = 180.0,
        retries: int = 4,
        backoff_s: float = 2.0,
        on_wait: WaitCallback | None = None,
        decode: Callable[[bytes], object] | None = None,
        kept: KeptAnswers | None = None,
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        self.on_wait = on_wait or (lambda seconds, why: None)
        # What counts as "decodable audio" (the backend passes its decoder); an answer it refuses is retried.
        self.decode = decode
        self.records: list[RequestRecord] = []
        self.kept = kept  # answers already paid for by an earlier attempt at this job (kept_answers.py)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(30.0, timeout_s)),
            follow_redirects=False,  # the key goes to base_url and nowhere else
        )

    def __repr__(self) -> str:
        return f"StabilityClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> StabilityClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def credits_spent(self) -> float:
        return round(sum(r.credits for r in self.records), 2)

    def generate(self, request: StabilityRequest) -> StabilityAnswer:
        """One generation, retried as the failure allows; raises a StabilityFailed subclass."""
        request.validate()
        if self.kept is not None and (kept := self.kept.get(request)) is not None:
            self._record(request, 200, "reused: paid for by an earlier attempt", time.monotonic(), kept.credits)
            return kept
        fields, files = request.form()
        problem = "no answer yet"
        for attempt in range(self.retries + 1):
            started = time.monotonic()
            try:
                response = self._http.post(
                    request.endpoint,
                    data=fields,
                    files=files,
                    headers={"authorization": f"Bearer {self._api_key}", "accept": "audio/*"},
                )
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem = "it timed out" if isinstance(exc, httpx.TimeoutException) else "the connection dropped"
                self._record(request, None, f"retry: {problem}", started, 0.0)
                self._wait(attempt, None, "Stable Audio timed out" if problem == "it timed out" else "the connection to Stable Audio dropped")
                continue
            status = response.status_code
            if status == 200:
                answer = self._answer(response, request)
                if answer is not None:
                    self._record(request, status, "ok", started, request.credits)
                    if self.kept is not None:
                        self.kept.put(request, answer)
                    return answer
                # Stability charges for what it generated, even if it reached us broken.
                problem = "the audio it sent could not be decoded"
                self._record(request, status, f"retry: {problem}", started, request.credits)
                self._wait(attempt, None, "Stable Audio sent audio that could not be decoded")
                continue
            if status == 429:
                problem = "it is rate-limiting this key"
                self._record(request, status, f"retry: {problem}", started, 0.0)
                self._wait(attempt, _retry_after(response), "Stable Audio is rate-limiting this key")
                continue
            if status >= 500:
                problem = f"it answered HTTP {status}"
                self._record(request, status, f"retry: {problem}", started, 0.0)
                self._wait(attempt, None, f"Stable Audio answered HTTP {status}")
                continue
            failure = _failure(status, response)
            self._record(request, status, failure.reason, started, 0.0)
            raise failure
        error = RateLimited if problem.startswith("it is rate") else ServiceFailed
        raise error(
            f"Stable Audio did not deliver after {self.retries + 1} tries ({problem}). "
            "Try again in a few minutes, or use another backend (--backend symbolic)."
        )

    # ------------------------------------------------------------------------------------ helpers
    def _wait(self, attempt: int, retry_after: float | None, why: str) -> None:
        if attempt >= self.retries:
            return  # no try left: the caller raises
        if retry_after is not None:
            if retry_after > MAX_RETRY_AFTER_S:
                raise RateLimited(
                    f"Stable Audio asks to wait {retry_after:.0f} s before the next request (rate limit). "
                    "Try again later."
                )
            seconds = retry_after
        else:
            # Exponential backoff with jitter, bounded; a retry-after always wins over it.
            seconds = min(MAX_BACKOFF_S, self.backoff_s * 2**attempt) * random.uniform(0.8, 1.2)
        log.info("%s; retrying in %.1f s (try %d of %d)", why, seconds, attempt + 2, self.retries + 1)
        self.on_wait(seconds, why)
        time.sleep(seconds)

    def _record(self, request: StabilityRequest, status: int | None, outcome: str, started: float, credits: float) -> None:
        endpoint = request.endpoint.rsplit("/", 1)[-1]
        self.records.append(RequestRecord(endpoint, status, outcome, time.monotonic() - started, credits))

    def _answer(self, response: httpx.Response, request: StabilityRequest) -> StabilityAnswer | None:
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/json":
            try:
                body = response.json()
                audio = base64.b64decode(body["audio"], validate=True)
            except (ValueError, KeyError, TypeError):
                return None
            seed, finish = body.get("seed"), body.get("finish_reason")
        elif content_type.startswith("audio/"):
            audio = response.content
            seed, finish = response.headers.get("seed"), response.headers.get("finish-reason")
        else:
            return None
        if not audio:
            return None
        if finish is not None and str(finish).upper() == "CONTENT_FILTERED":
            raise ContentFlagged(_flagged_message())
        if self.decode is not None:
            try:
                self.decode(audio)
            except Exception:  # noqa: BLE001 - any decoder failure means the same thing: retry
                return None
        return StabilityAnswer(
            audio=audio,
            content_type=content_type,
            seed=int(seed) if seed not in (None, "") else None,
            finish_reason=str(finish) if finish is not None else None,
            credits=request.credits,
        )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare enough to treat as "no hint"


def _error_details(response: httpx.Response) -> tuple[str, list[str]]:
    """(name, errors) from Stability's error body {"id", "name", "errors": [...]}."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return "", []
    if not isinstance(body, dict):
        return "", []
    errors = body.get("errors") or []
    return str(body.get("name") or ""), [str(e) for e in errors] if isinstance(errors, list) else [str(errors)]


def _flagged_message() -> str:
    return (
        "Stable Audio's content moderation flagged this request, so it made nothing (and charged no credits). "
        "Reword the prompt and try again."
    )


def _failure(status: int, response: httpx.Response) -> StabilityFailed:
    name, errors = _error_details(response)
    said = "; ".join(errors)
    if status == 401:
        return KeyRejected(
            "Stability rejected the API key (HTTP 401). Check STABILITY_API_KEY: a key from "
            "https://platform.stability.ai/account/keys, copied whole."
        )
    if status == 402:
        return OutOfCredits(
            "The Stability account is out of credits (HTTP 402). Buy credits at "
            "https://platform.stability.ai/account/credits, or use another backend (--backend symbolic)."
        )
    if status == 403:
        if name == "content_moderation" or "moderation" in said.lower():
            return ContentFlagged(_flagged_message())
        return KeyRejected(f"Stability refused the request (HTTP 403{': ' + said if said else ''}).")
    if status in (400, 413, 422):
        return RequestRejected(f"Stable Audio rejected the request (HTTP {status}): {said or name or 'no reason given'}.")
    return StabilityFailed(f"Stable Audio answered HTTP {status}{': ' + said if said else ''}.")
