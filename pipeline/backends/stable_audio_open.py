"""The `stable-audio-open` backend: Stability's open-weights model through diffusers, on this machine.

AMPA_STABLE_AUDIO_OPEN_MODEL names the model: a hub id (stabilityai/stable-audio-open-1.0, whose
licence must be accepted on the hub first) or a local folder saved with save_pretrained. It is the
open counterpart of the `stable-audio` API backend: text to 44.1 kHz stereo, up to the model's
window (about 47 s for 1.0); longer tracks are whole-bar segments joined on bar lines, and every
take goes through pipeline.backends.control like any neural take. Its scheduler
(CosineDPMSolverMultistepScheduler) needs the torchsde package.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.backends import control
from pipeline.backends.base import Generated, StageCallback
from pipeline.backends.prompt_text import text_prompt
from pipeline.backends.torch_device import cached, dtype_for, model_error, pick_device
from pipeline.spec import Spec

SETTING = "AMPA_STABLE_AUDIO_OPEN_MODEL"
NEGATIVE_PROMPT = "low quality, distorted, vocals, speech"


@dataclass(frozen=True)
class LoadedPipeline:
    pipe: Any
    device: str
    sampling_rate: int
    max_seconds: float  # the longest take the model can make


def load_pipeline(model_id: str, device: str) -> LoadedPipeline:
    def load() -> LoadedPipeline:
        try:
            from diffusers import StableAudioPipeline

            pipe = StableAudioPipeline.from_pretrained(model_id, torch_dtype=dtype_for(device)).to(device)
        except Exception as exc:  # noqa: BLE001 - any loading failure is the operator's to fix: say which
            raise model_error(SETTING, model_id, exc) from exc
        pipe.set_progress_bar_config(disable=True)
        rate = int(pipe.vae.sampling_rate)
        hop = int(np.prod(pipe.vae.config.downsampling_ratios))
        return LoadedPipeline(pipe, device, rate, pipe.transformer.config.sample_size * hop / rate)

    return cached(("stable-audio-open", model_id, device), load)


@dataclass
class StableAudioOpenBackend:
    model_id: str
    device_setting: str | None = None
    steps: int = 100
    guidance_scale: float = 7.0
    sample_rate: int = 44100
    max_takes: int = 3
    scratch: Path | None = None
    name: str = "stable-audio-open"

    @classmethod
    def from_config(cls, config, *, scratch: Path | None = None) -> StableAudioOpenBackend:
        return cls(
            model_id=config.stable_audio_open_model,
            device_setting=config.device,
            steps=config.stable_audio_open_steps,
            sample_rate=config.sample_rate,
            max_takes=config.max_takes,
            scratch=scratch,
        )

    def generate(self, spec: Spec, *, on_stage: StageCallback) -> Generated:
        import torch

        device = pick_device(self.device_setting)
        on_stage("generating")
        loaded = load_pipeline(self.model_id, device)
        prompt = text_prompt(spec)
        runs: list[dict[str, Any]] = []
        started = time.perf_counter()

        def make_take(segment: control.Segment, seed: int) -> control.Take:
            generator = torch.Generator(device="cpu").manual_seed(seed)  # CPU generator: same take on any device
            with torch.inference_mode():
                audios = loaded.pipe(
                    prompt,
                    negative_prompt=NEGATIVE_PROMPT,
                    num_inference_steps=self.steps,
                    guidance_scale=self.guidance_scale,
                    audio_end_in_s=segment.request_s,
                    generator=generator,
                ).audios
            runs.append({"segment": segment.index + 1, "seconds": round(segment.request_s, 2), "steps": self.steps})
            return control.Take(audio=audios[0].float().cpu().numpy(), sample_rate=loaded.sampling_rate, seed=seed)

        track = control.controlled_track(
            spec,
            make_take,
            sample_rate=self.sample_rate,
            max_segment_s=(loaded.max_seconds - 1.0) / control.REQUEST_MARGIN,
            max_request_s=loaded.max_seconds,
            takes=self.max_takes,
            align=True,
            on_stage=on_stage,
        )
        report = {
            "backend": self.name,
            "model": self.model_id,
            "device": device,
            "dtype": str(dtype_for(device)).replace("torch.", ""),
            "steps": self.steps,
            "prompt": prompt,
            "negative_prompt": NEGATIVE_PROMPT,
            "credits": 0,
            "requests": runs,
            "compute_s": round(time.perf_counter() - started, 2),
        }
        return track.generated(self.sample_rate, report)
