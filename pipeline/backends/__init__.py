"""Generator backends: one module each, one interface (`base`), one registry of what is ready."""

from pipeline.backends.base import Generated, GeneratorBackend, StageCallback
from pipeline.backends.registry import (
    BACKEND_NAMES,
    BackendConfig,
    Readiness,
    backend_for,
    readiness,
    ready_backends,
)
from pipeline.backends.symbolic import SymbolicBackend

__all__ = [
    "BACKEND_NAMES",
    "BackendConfig",
    "Generated",
    "GeneratorBackend",
    "Readiness",
    "StageCallback",
    "SymbolicBackend",
    "backend_for",
    "readiness",
    "ready_backends",
]
