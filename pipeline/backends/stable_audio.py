"""The `stable-audio` backend: Stability AI's Stable Audio API, inside ampa's control.

Two modes (AMPA_STABILITY_MODE):
- guided (the default): ampa composes and renders its own arrangement first (exact tempo, key,
  form and length) and sends it as the init audio of audio-to-audio; the model re-imagines the
  sound over ampa's structure. Why the default: the take then starts on ampa's bar 1 at ampa's
  tempo and key, so far fewer takes need correcting or re-requesting (each costs credits), the
  form is the one ampa planned, and the job can deliver the MIDI the track follows. It costs the
  same credits and a few seconds of local rendering (3.4 s for 45 s).
- text: the spec becomes a caption (pipeline.backends.prompt_text) for text-to-audio; the model
  chooses the structure. Closer to what Stable Audio alone would make; no MIDI.

Either way the answer goes through pipeline.backends.control (tempo and key measured, corrected or
re-requested; cut to whole bars), and produce() masters and checks it like any track. Tracks longer
than one request allows (190 s) are made of segments of whole bars joined on bar lines: in guided
mode each segment follows its own stretch of ampa's arrangement, so the form carries across the
joins; in text mode each is its own take of the same caption (the joins are musically plain cuts).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.backends import control
from pipeline.backends.base import Generated, StageCallback
from pipeline.backends.credits import MAX_REQUEST_S, MAX_SEGMENT_S, credits_per_request
from pipeline.backends.guide import Guide, render_guide, wav_bytes
from pipeline.backends.kept_answers import KeptAnswers
from pipeline.backends.prompt_text import text_prompt
from pipeline.backends.stability import MAX_SEED, MIN_INIT_AUDIO_S, StabilityClient, StabilityFailed, StabilityRequest
from pipeline.spec import Spec

DEFAULT_STRENGTH = 0.6  # 0 = keep the init audio, 1 = as if there were none (Stability's scale)
MODES = ("guided", "text")


@dataclass
class StableAudioBackend:
    api_key: str = field(repr=False)
    base_url: str = "https://api.stability.ai"
    model: str = "stable-audio-2.5"
    steps: int | None = None
    cfg_scale: float | None = None
    strength: float | None = None
    mode: str = "guided"
    timeout_s: float = 180.0
    retries: int = 4
    backoff_s: float = 2.0
    sample_rate: int = 44100
    max_takes: int = 3
    config: Any = field(default=None, repr=False)  # the BackendConfig: the guide renders with its symbolic settings
    scratch: Path | None = None
    name: str = "stable-audio"

    @classmethod
    def from_config(cls, config, *, scratch: Path | None = None) -> StableAudioBackend:
        return cls(
            api_key=config.stability_api_key,
            base_url=config.stability_api_url,
            model=config.stability_model,
            steps=config.stability_steps,
            cfg_scale=config.stability_cfg_scale,
            strength=config.stability_strength,
            mode=config.stability_mode,
            timeout_s=config.stability_timeout_s,
            retries=config.stability_retries,
            backoff_s=config.stability_backoff_s,
            sample_rate=config.sample_rate,
            max_takes=config.max_takes,
            config=config,
            scratch=scratch,
        )

    def generate(self, spec: Spec, *, on_stage: StageCallback) -> Generated:
        guide: Guide | None = None
        if self.mode == "guided":
            guide = render_guide(spec, self.config, scratch=self.scratch, on_stage=on_stage)
        prompt = text_prompt(spec)

        def waiting(seconds: float, why: str) -> None:
            on_stage(f"waiting {seconds:.0f}s")  # the job's status shows it is waiting, and for how long

        client = StabilityClient(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout_s=self.timeout_s,
            retries=self.retries,
            backoff_s=self.backoff_s,
            on_wait=waiting,
            decode=control.decode_audio,
            kept=KeptAnswers(answers) if (answers := self.config and self.config.answer_dir) else None,
        )
        answers: list[dict[str, Any]] = []

        def make_take(segment: control.Segment, seed: int) -> control.Take:
            request = self._request(prompt, segment, seed, guide)
            tries_before = len(client.records)
            answer = client.generate(request)
            if len(client.records) - tries_before > 1:
                on_stage("generating")  # it waited and tried again: the wait is over
            audio, rate = control.decode_audio(answer.audio)
            answers.append({"segment": segment.index + 1, "seed": answer.seed or seed, "finish_reason": answer.finish_reason})
            return control.Take(audio=audio, sample_rate=rate, seed=answer.seed or seed)

        with client, _charges_on_failure(client):
            track = control.controlled_track(
                spec,
                make_take,
                sample_rate=self.sample_rate,
                max_segment_s=MAX_SEGMENT_S,
                max_request_s=MAX_REQUEST_S,
                takes=self.max_takes,
                align=guide is None,  # a guided take already starts on ampa's bar 1
                on_stage=on_stage,
                seed_modulo=MAX_SEED,
            )
        report = {
            "backend": self.name,
            "model": self.model,
            "mode": self.mode,
            "steps": self.steps,
            "cfg_scale": self.cfg_scale,
            "strength": self._strength() if guide is not None else None,
            "prompt": prompt,
            "answers": answers,
            "credits": client.credits_spent,
            "credits_per_request": credits_per_request(self.model, self.steps),
            "requests": [r.to_dict() for r in client.records],
        }
        return track.generated(self.sample_rate, report, guide.arrangement if guide is not None else None)

    def _strength(self) -> float:
        return self.strength if self.strength is not None else DEFAULT_STRENGTH

    def _request(self, prompt: str, segment: control.Segment, seed: int, guide: Guide | None) -> StabilityRequest:
        common = dict(prompt=prompt, seed=seed, model=self.model, steps=self.steps, cfg_scale=self.cfg_scale)
        if guide is None:
            return StabilityRequest(duration=round(segment.request_s, 1), **common)
        # The init audio covers the segment's bars plus the same margin; the API wants 6 s at least.
        seconds = max(MIN_INIT_AUDIO_S, round(segment.request_s, 1))
        init = guide.chunk(segment.start_s, seconds)
        return StabilityRequest(
            duration=seconds,
            init_audio=wav_bytes(init, guide.sample_rate),
            init_seconds=seconds,
            strength=self._strength(),
            **common,
        )


@contextmanager
def _charges_on_failure(client: StabilityClient) -> Iterator[None]:
    """A failure after some paid requests (segment 2 of 3 out of credits) still says what was spent."""
    try:
        yield
    except StabilityFailed as exc:
        exc.credits_spent = client.credits_spent
        raise
