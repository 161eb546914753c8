"""The QA report: one Check per measurement, plain-language failures, JSON-safe."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Check:
    name: str  # loudness, true_peak, clipping, dc_offset, phase, silence_start, silence_end, gaps, duration, tempo, key, stems
    measured: Any  # a number, a string (key) or a small dict/list
    target: Any  # what was asked: a number, a (low, high) range, a string
    unit: str  # "LUFS", "dBTP", "samples", "s", "BPM", "" ...
    passed: bool
    detail: str = ""  # why it failed or extra measurements (top key candidates...)
    advisory: bool = False  # measured and reported, but not counted toward pass/fail
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": _json_safe(self.measured),
            "target": _json_safe(self.target),
            "unit": self.unit,
            "passed": bool(self.passed),
            "advisory": bool(self.advisory),
            "detail": self.detail,
            **({"extra": _json_safe(self.extra)} if self.extra else {}),
        }


@dataclass(frozen=True)
class QAReport:
    checks: tuple[Check, ...]
    attempt: int = 1
    seconds: float = 0.0  # how long the measurements took

    @property
    def passed(self) -> bool:
        return bool(all(c.passed for c in self.checks if not c.advisory))

    @property
    def failures(self) -> list[str]:
        """Plain-language reasons for every failed (non-advisory) check."""
        return [c.detail for c in self.checks if not c.passed and not c.advisory]

    @property
    def warnings(self) -> list[str]:
        return [c.detail for c in self.checks if not c.passed and c.advisory]

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def failed(self, name: str) -> bool:
        found = self.check(name)
        return found is not None and not found.passed and not found.advisory

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "passed": self.passed,
            "failures": self.failures,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
            "checks": [c.to_dict() for c in self.checks],
        }


def _json_safe(value: Any) -> Any:
    """Floats rounded and finite, tuples as lists, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return -999.0 if value < 0 else 999.0
        return round(value, 4)
    return str(value)
