"""Which generator backends exist, which of them this installation can run, and why not.

Every backend is named here once. Each one lives in its own module and is imported only when it
is used (the neural ones pull in httpx, torch or diffusers), so `readiness` answers cheaply: from
the configuration and from whether a package can be found, never by loading a model.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.backends.base import GeneratorBackend
from pipeline.errors import BadInput

SYMBOLIC = "symbolic"
STABLE_AUDIO = "stable-audio"
MUSICGEN = "musicgen"
STABLE_AUDIO_OPEN = "stable-audio-open"
BACKEND_NAMES: tuple[str, ...] = (SYMBOLIC, STABLE_AUDIO, MUSICGEN, STABLE_AUDIO_OPEN)

# name -> "module:class"; each class has `from_config(config, *, scratch) -> GeneratorBackend`.
_IMPLEMENTATIONS: dict[str, str] = {
    SYMBOLIC: "pipeline.backends.symbolic:SymbolicBackend",
    STABLE_AUDIO: "pipeline.backends.stable_audio:StableAudioBackend",
    MUSICGEN: "pipeline.backends.musicgen:MusicgenBackend",
    STABLE_AUDIO_OPEN: "pipeline.backends.stable_audio_open:StableAudioOpenBackend",
}


@dataclass(frozen=True)
class BackendConfig:
    """Everything any backend needs from the operator's settings (built by the worker or the CLI)."""

    soundfont: Path | None = None
    render_workers: int = 2
    keep_soundfont: bool = True
    sample_rate: int = 44100
    # Stability's Stable Audio API. The key is a secret: kept out of repr, never logged.
    stability_api_key: str | None = field(default=None, repr=False)
    stability_api_url: str = "https://api.stability.ai"
    stability_model: str = "stable-audio-2.5"
    stability_steps: int | None = None  # None: the model's default
    stability_cfg_scale: float | None = None
    stability_strength: float | None = None
    stability_mode: str = "guided"  # "guided" (ampa's arrangement as init audio) or "text"
    stability_timeout_s: float = 180.0  # one request, connect to last byte
    stability_retries: int = 4  # after the first try, for 429, 5xx, timeouts, dropped connections, bad audio
    stability_backoff_s: float = 2.0  # first wait; doubles each retry (a 429's retry-after wins)
    # Takes per segment of a neural track: the first and up to max_takes - 1 re-requests with new
    # seeds when its tempo or key is too far off to correct (each costs credits on Stability).
    max_takes: int = 3
    # Local models: a hub id or a local folder.
    musicgen_model: str | None = None
    stable_audio_open_model: str | None = None
    stable_audio_open_steps: int = 100  # diffusion steps per take
    device: str | None = None  # None: CUDA, then MPS, then CPU
    # Where a paid backend keeps the answers it was given for this job (set per job by the worker,
    # on the volume all workers share), so a worker that takes over reuses them instead of paying again.
    answer_dir: Path | None = None


@dataclass(frozen=True)
class Readiness:
    name: str
    ready: bool
    reason: str  # why not, or what it will use ("stable-audio-2.5 at https://api.stability.ai")


def _importable(*modules: str) -> str | None:
    """The first module that cannot be imported, or None."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return module
    return None


def _missing_folder(setting: str, model: str) -> str | None:
    """A model setting that names a local folder (a path, not a hub id) which is not there."""
    path = Path(model).expanduser()
    looks_local = model.startswith(("/", ".", "~")) or path.exists()
    if looks_local and not (path / "config.json").exists() and not (path / "model_index.json").exists():
        return f"{setting} points at {model}, which is not a model folder (no config.json)"
    return None


def readiness(config: BackendConfig) -> list[Readiness]:
    """One line per backend: can this installation run it, and if not, what to set or install."""
    out = [Readiness(SYMBOLIC, True, "offline symbolic composer (always available)")]

    if not config.stability_api_key:
        out.append(Readiness(STABLE_AUDIO, False, "STABILITY_API_KEY is not set"))
    elif missing := _importable("httpx"):
        out.append(Readiness(STABLE_AUDIO, False, f"the Python package {missing!r} is not installed"))
    else:
        out.append(
            Readiness(
                STABLE_AUDIO, True, f"{config.stability_model} at {config.stability_api_url}, {config.stability_mode} mode"
            )
        )

    if not config.musicgen_model:
        out.append(Readiness(MUSICGEN, False, "AMPA_MUSICGEN_MODEL is not set (a hub id or a local folder)"))
    elif missing := _importable("torch", "transformers"):
        out.append(Readiness(MUSICGEN, False, f"the Python package {missing!r} is not installed"))
    elif problem := _missing_folder("AMPA_MUSICGEN_MODEL", config.musicgen_model):
        out.append(Readiness(MUSICGEN, False, problem))
    else:
        out.append(Readiness(MUSICGEN, True, config.musicgen_model))

    if not config.stable_audio_open_model:
        out.append(
            Readiness(STABLE_AUDIO_OPEN, False, "AMPA_STABLE_AUDIO_OPEN_MODEL is not set (a hub id or a local folder)")
        )
    elif missing := _importable("torch", "diffusers", "torchsde"):
        out.append(Readiness(STABLE_AUDIO_OPEN, False, f"the Python package {missing!r} is not installed"))
    elif problem := _missing_folder("AMPA_STABLE_AUDIO_OPEN_MODEL", config.stable_audio_open_model):
        out.append(Readiness(STABLE_AUDIO_OPEN, False, problem))
    else:
        out.append(Readiness(STABLE_AUDIO_OPEN, True, config.stable_audio_open_model))
    return out


def ready_backends(config: BackendConfig) -> list[str]:
    return [r.name for r in readiness(config) if r.ready]


def backend_for(name: str, config: BackendConfig, *, scratch: Path | None = None) -> GeneratorBackend:
    """The backend called `name`, built from the configuration; BadInput when it cannot run here."""
    if name not in _IMPLEMENTATIONS:
        raise BadInput(f"unknown generator backend {name!r}; ampa has: {', '.join(BACKEND_NAMES)}")
    state = next(r for r in readiness(config) if r.name == name)
    if not state.ready:
        ready = ", ".join(ready_backends(config))
        raise BadInput(f"the {name} backend is not available here: {state.reason}. Available: {ready}.")
    module_name, class_name = _IMPLEMENTATIONS[name].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls.from_config(config, scratch=scratch)
