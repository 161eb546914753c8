"""The `musicgen` backend: Meta's MusicGen through transformers, on this machine, inside ampa's control.

AMPA_MUSICGEN_MODEL names the model: a hub id (facebook/musicgen-small, -medium, -large,
-stereo-*, or facebook/musicgen-melody) or a local folder saved with save_pretrained. The folder's
config says which kind it is:
- MusicGen (text): the spec's caption is the prompt. MusicGen was trained on 30-second clips, so a
  longer track is made by continuation: each further window is prompted with the last
  CONTEXT_S seconds of what came before and only its new part is kept.
- MusicGen-Melody (the local counterpart of Stable Audio's guided mode): ampa composes and renders its
  own arrangement first and each window is conditioned on the chroma of that render's stretch, so the
  take follows ampa's harmony and melody in time. The melody model takes no audio prompt, so its
  windows are whole-bar segments joined on bar lines (pipeline.backends.control).

The model is loaded once per process (torch_device.cached) on CUDA, MPS or the CPU, in half
precision on a GPU. Every take goes through pipeline.backends.control like any neural take.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.backends import control
from pipeline.backends.base import Generated, StageCallback
from pipeline.backends.prompt_text import text_prompt
from pipeline.backends.torch_device import cached, dtype_for, model_error, pick_device
from pipeline.spec import MAX_DURATION_S, Spec

WINDOW_S = 30.0  # what MusicGen was trained on; its position embeddings reach a little further
CONTEXT_S = 10.0  # audio prompt for each continuation window
MIN_CONTINUATION_S = 1.0
SETTING = "AMPA_MUSICGEN_MODEL"


@dataclass(frozen=True)
class LoadedMusicgen:
    model: Any
    processor: Any  # MusicgenProcessor (text model) or the tokenizer alone (melody model, see melody_chroma)
    melody: bool
    device: str
    sampling_rate: int
    frame_rate: int
    channels: int
    chroma: dict[str, int] = field(default_factory=dict)  # the melody model's chroma settings


def load_musicgen(model_id: str, device: str) -> LoadedMusicgen:
    """The model and its processor, loaded once per process and device."""

    def load() -> LoadedMusicgen:
        try:
            from transformers import (
                AutoConfig,
                AutoProcessor,
                AutoTokenizer,
                MusicgenForConditionalGeneration,
                MusicgenMelodyForConditionalGeneration,
            )

            config = AutoConfig.from_pretrained(model_id)
            melody = config.model_type == "musicgen_melody"
            cls = MusicgenMelodyForConditionalGeneration if melody else MusicgenForConditionalGeneration
            model = cls.from_pretrained(model_id, dtype=dtype_for(device)).to(device).eval()
            if melody:
                processor, chroma = AutoTokenizer.from_pretrained(model_id), _chroma_settings(model_id)
            else:
                processor, chroma = AutoProcessor.from_pretrained(model_id), {}
        except Exception as exc:  # noqa: BLE001 - any loading failure is the operator's to fix: say which
            raise model_error(SETTING, model_id, exc) from exc
        audio = model.config.audio_encoder
        return LoadedMusicgen(
            model=model,
            processor=processor,
            melody=melody,
            device=device,
            sampling_rate=int(audio.sampling_rate),
            frame_rate=int(audio.frame_rate),
            channels=int(model.config.decoder.audio_channels),
            chroma=chroma,
        )

    return cached(("musicgen", model_id, device), load)


def _chroma_settings(model_id: str) -> dict[str, int]:
    """The melody model's feature-extractor settings, read from its preprocessor_config.json."""
    import json

    from transformers.utils import cached_file

    with open(cached_file(model_id, "preprocessor_config.json"), encoding="utf-8") as f:
        data = json.load(f)
    return {name: int(data[name]) for name in ("sampling_rate", "n_fft", "hop_length", "chunk_length", "num_chroma")}


def melody_chroma(mono: np.ndarray, settings: dict[str, int]) -> np.ndarray:
    """MusicGen-Melody's conditioning: for each STFT frame, a one-hot of its strongest pitch class.

    The same recipe as transformers' MusicgenMelodyFeatureExtractor (a centred power STFT, librosa's
    chroma filters, the largest class per frame), in numpy: that extractor needs torchaudio, which
    has no build for the torch ampa pins. Returns (1, frames, num_chroma) float32.
    """
    from transformers.audio_utils import chroma_filter_bank

    n_fft, hop = settings["n_fft"], settings["hop_length"]
    mono = np.asarray(mono, np.float32)[: settings["chunk_length"] * settings["sampling_rate"]]
    if mono.size < n_fft:
        mono = np.pad(mono, ((n_fft - mono.size) // 2, (n_fft - mono.size + 1) // 2))
    padded = np.pad(mono, n_fft // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    power = np.abs(np.fft.rfft(frames * np.hanning(n_fft + 1)[:-1].astype(np.float32), axis=1)) ** 2
    filters = chroma_filter_bank(
        num_frequency_bins=n_fft, num_chroma=settings["num_chroma"], sampling_rate=settings["sampling_rate"], tuning=0
    )
    chroma = power @ filters.T.astype(np.float32)
    one_hot = np.zeros_like(chroma, dtype=np.float32)
    one_hot[np.arange(chroma.shape[0]), np.argmax(chroma, axis=1)] = 1.0
    return one_hot[None]


@dataclass
class MusicgenBackend:
    model_id: str
    device_setting: str | None = None
    sample_rate: int = 44100
    window_s: float = WINDOW_S
    context_s: float = CONTEXT_S
    max_takes: int = 3
    config: Any = field(default=None, repr=False)  # the BackendConfig: the melody guide renders with it
    scratch: Path | None = None
    name: str = "musicgen"

    @classmethod
    def from_config(cls, config, *, scratch: Path | None = None) -> MusicgenBackend:
        return cls(
            model_id=config.musicgen_model,
            device_setting=config.device,
            sample_rate=config.sample_rate,
            max_takes=config.max_takes,
            config=config,
            scratch=scratch,
        )

    def generate(self, spec: Spec, *, on_stage: StageCallback) -> Generated:
        import torch

        device = pick_device(self.device_setting)
        on_stage("generating")
        loaded = load_musicgen(self.model_id, device)
        guide = None
        if loaded.melody:
            from pipeline.backends.guide import render_guide

            guide = render_guide(spec, self.config, scratch=self.scratch, on_stage=on_stage)
        prompt = text_prompt(spec)
        windows: list[dict[str, Any]] = []
        started = time.perf_counter()

        def make_take(segment: control.Segment, seed: int) -> control.Take:
            torch.manual_seed(seed)  # sampling is the only randomness: the job's seed fixes the take
            if guide is not None:
                audio = self._melody_window(loaded, prompt, guide.chunk(segment.start_s, segment.request_s), guide.sample_rate, segment.request_s)
                windows.append({"segment": segment.index + 1, "seconds": round(segment.request_s, 2), "continuations": 0})
            else:
                audio, continuations = self._continued(loaded, prompt, segment.request_s)
                windows.append({"segment": segment.index + 1, "seconds": round(segment.request_s, 2), "continuations": continuations})
            return control.Take(audio=audio, sample_rate=loaded.sampling_rate, seed=seed)

        track = control.controlled_track(
            spec,
            make_take,
            sample_rate=self.sample_rate,
            # The melody model's windows are the segments; the text model continues inside one take.
            max_segment_s=(self.window_s - 2.0) / control.REQUEST_MARGIN if loaded.melody else MAX_DURATION_S,
            max_request_s=self.window_s if loaded.melody else MAX_DURATION_S * 1.2,
            takes=self.max_takes,
            align=guide is None,
            on_stage=on_stage,
        )
        report = {
            "backend": self.name,
            "model": self.model_id,
            "melody_guided": loaded.melody,
            "device": device,
            "dtype": str(dtype_for(device)).replace("torch.", ""),
            "prompt": prompt,
            "credits": 0,
            "requests": windows,
            "compute_s": round(time.perf_counter() - started, 2),
        }
        return track.generated(self.sample_rate, report, guide.arrangement if guide is not None else None)

    # -------------------------------------------------------------------------------- windows
    def _tokens(self, loaded: LoadedMusicgen, seconds: float) -> int:
        # Two frames over: the codebook delay pattern costs the output a frame against what was asked.
        return max(1, int(np.ceil(seconds * loaded.frame_rate)) + 2)

    def _run(self, loaded: LoadedMusicgen, inputs: Any, seconds: float) -> np.ndarray:
        """(channels, n) float32 from one generate() call."""
        import torch

        inputs = inputs.to(loaded.device)
        for name, value in inputs.items():
            if torch.is_floating_point(value):
                inputs[name] = value.to(loaded.model.dtype)
        with torch.inference_mode():
            out = loaded.model.generate(**inputs, do_sample=True, max_new_tokens=self._tokens(loaded, seconds))
        return out[0].float().cpu().numpy()

    def _continued(self, loaded: LoadedMusicgen, prompt: str, seconds: float) -> tuple[np.ndarray, int]:
        """`seconds` of audio: one window, then continuations prompted with the last CONTEXT_S."""
        rate = loaded.sampling_rate
        first = min(seconds, self.window_s)
        audio = self._run(loaded, loaded.processor(text=[prompt], padding=True, return_tensors="pt"), first)
        continuations = 0
        while audio.shape[1] < seconds * rate:
            context = audio[:, -int(self.context_s * rate) :]
            # At least MIN_CONTINUATION_S per window, so every window makes real progress.
            new_s = min(self.window_s - self.context_s, max(MIN_CONTINUATION_S, seconds - audio.shape[1] / rate))
            inputs = loaded.processor(
                audio=context[0] if loaded.channels == 1 else context,
                sampling_rate=rate,
                text=[prompt],
                padding=True,
                return_tensors="pt",
            )
            out = self._run(loaded, inputs, new_s)
            if out.shape[1] <= context.shape[1]:
                break  # the model added nothing (it stopped early): keep what there is; control says so
            audio = np.concatenate([audio, out[:, context.shape[1] :]], axis=1)  # only what is new
            continuations += 1
        return audio, continuations

    def _melody_window(self, loaded: LoadedMusicgen, prompt: str, guide: np.ndarray, guide_rate: int, seconds: float) -> np.ndarray:
        """One window conditioned on the chroma of ampa's render (mono, at the melody model's rate)."""
        from math import gcd

        import torch
        from scipy.signal import resample_poly

        rate = loaded.chroma["sampling_rate"]
        g = gcd(guide_rate, rate)
        mono = resample_poly(guide.mean(axis=0), rate // g, guide_rate // g).astype(np.float32)
        inputs = loaded.processor([prompt], padding=True, return_tensors="pt")
        inputs["input_features"] = torch.from_numpy(melody_chroma(mono, loaded.chroma))
        return self._run(loaded, inputs, seconds)
