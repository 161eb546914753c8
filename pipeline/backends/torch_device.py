"""Where and in what precision the local neural models run, decided in one place; and the one cache
that keeps a loaded model for the life of the process (a worker loads each model once)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pipeline.errors import GeneratorFailed

_MODELS: dict[tuple[str, ...], Any] = {}
_LOCK = threading.Lock()


class ModelUnavailable(GeneratorFailed):
    reason, exit_code = "model_unavailable", 30


class DeviceUnavailable(GeneratorFailed):
    reason, exit_code = "device_unavailable", 31


def pick_device(setting: str | None) -> str:
    """AMPA_DEVICE if set (cuda, cuda:N, mps, cpu); otherwise CUDA, then Apple's MPS, then the CPU."""
    import torch

    if setting:
        kind = setting.split(":")[0]
        available = {
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
            "cpu": True,
        }
        if kind not in available:
            raise DeviceUnavailable(f"AMPA_DEVICE={setting!r} is not a device ampa knows: use cuda, cuda:N, mps or cpu.")
        if not available[kind]:
            raise DeviceUnavailable(f"AMPA_DEVICE={setting!r}, but this machine has no {kind.upper()} device that torch can use.")
        return setting
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def dtype_for(device: str):
    """Half precision on a GPU (half the memory, and the speed of its tensor cores); full on the CPU,
    where float16 matmuls are slower, not faster."""
    import torch

    return torch.float32 if device == "cpu" else torch.float16


def cached(key: tuple[str, ...], load: Callable[[], Any]) -> Any:
    """The object loaded under `key`, loading it the first time (once, even from several threads)."""
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = load()
        return _MODELS[key]


def model_error(setting: str, model: str, exc: Exception) -> ModelUnavailable:
    """A model that would not load, in words an operator can act on."""
    return ModelUnavailable(
        f"The model {model!r} ({setting}) could not be loaded: {type(exc).__name__}: {str(exc)[:300]}. "
        f"Point {setting} at a local folder saved with save_pretrained, or at a hub id this machine can download."
    )
