"""What a job will cost on Stability's API, known before any request is made.

Stability's published prices: stable-audio-2.5 = 20 credits a request; stable-audio-2 =
17 + 0.06 × steps. Only a request that returns audio is charged (a 403 from content moderation,
a 4xx, a 5xx or a dropped connection costs nothing). A job makes one request per segment
(a track over MAX_SEGMENT_S is made of several, joined on bar lines) and, for a segment whose
tempo or key is too far off to correct, up to BackendConfig.max_takes - 1 more with new seeds.

Kept free of httpx and numpy so the job system can call `predict_credits` at submit time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.backends.registry import STABLE_AUDIO, BackendConfig
from pipeline.spec import Spec

MAX_REQUEST_S = 190.0  # the API's longest duration
# Each request asks for more than its segment: room to stretch a slow take (see control.MAX_STRETCH),
# to start on the beat grid, and to crossfade into the next segment.
REQUEST_MARGIN = 1.08
MAX_SEGMENT_S = 170.0  # (MAX_REQUEST_S - a beat - the crossfade) / REQUEST_MARGIN, rounded down
STEPS_DEFAULT = {"stable-audio-2.5": 8, "stable-audio-2": 50}


def credits_per_request(model: str, steps: int | None) -> float:
    """Stability's published price of one successful request."""
    if model == "stable-audio-2":
        return round(17 + 0.06 * (steps or STEPS_DEFAULT[model]), 2)
    return 20.0


@dataclass(frozen=True)
class CreditEstimate:
    requests: int  # requests when every take lands (the usual case)
    credits: float  # what those cost
    max_credits: float  # if every segment needs all its re-requests

    def to_dict(self) -> dict[str, float | int]:
        return {"requests": self.requests, "credits": self.credits, "max_credits": self.max_credits}


def segment_count(duration_s: float) -> int:
    return max(1, math.ceil(duration_s / MAX_SEGMENT_S))


def predict_credits(spec: Spec, config: BackendConfig, *, backend: str | None = None) -> CreditEstimate:
    """Credits the job will spend on Stability's API; zero for every other backend.

    Works on an unresolved spec (the length then comes from the genre's default, as it will in
    the job), so the job system can refuse a job over a daily cap before anything is sent.
    """
    if (backend or spec.backend) != STABLE_AUDIO:
        return CreditEstimate(0, 0.0, 0.0)
    if spec.duration_s is None:
        from pipeline.defaults import resolve

        spec = resolve(spec)
    segments = segment_count(spec.duration_s.value if spec.duration_s else 60.0)
    each = credits_per_request(config.stability_model, config.stability_steps)
    return CreditEstimate(segments, round(segments * each, 2), round(segments * config.max_takes * each, 2))
