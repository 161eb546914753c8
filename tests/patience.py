"""How long a test waits for something that is supposed to happen.

A wait returns the moment its condition holds, so a long limit costs nothing when all is well: it only
has to be long enough that a 2-core CI machine, running the whole suite beside other work, never
misses it. Every waiting helper of the suite therefore waits at least PATIENCE_S; the limit a caller
writes says how long the thing takes on an idle machine and only counts where it is longer. Nothing in
the suite asserts that something does *not* happen within a time, and speed is measured by the scripts
under benchmarks/, not here.
"""

from __future__ import annotations

import os

PATIENCE_S = float(os.environ.get("AMPA_TEST_PATIENCE_S", "180"))


def patience(expected_s: float = 0.0) -> float:
    """The limit for a wait on something expected within `expected_s` on an idle machine."""
    return max(float(expected_s), PATIENCE_S)
