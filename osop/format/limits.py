"""The bounds on every duration, count and weight a workflow may ask for.

A workflow is data that anybody can write; without bounds a single number makes a
run sleep for ever (``duration_ms: 1e12``), retry for ever (``max_attempts: 1e8``),
loop for ever (``max_iterations: 1e8``) or overflow (two ``weight: 1e308``).  The
validator reports values past these bounds (rules ``limits/duration``,
``limits/count``, ``limits/weight``) and the workflow model clamps them, so an
engine handed an unvalidated workflow stays bounded too.  docs/validation.md lists
them.
"""

from __future__ import annotations

import math
from typing import Final

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_CHILD_DEPTH",
    "MAX_IMPORT_DEPTH",
    "MAX_ITERATIONS",
    "MAX_MULTIPLIER",
    "MAX_RETRY_DELAY_SEC",
    "MAX_SIMULATED_MS",
    "MAX_TIMEOUT_SEC",
    "MAX_WEIGHT",
    "clamp",
]

#: Timeouts (``timeout``, ``timeout_sec``, waits): 31 days.
MAX_TIMEOUT_SEC: Final = 31 * 86_400.0
#: One retry delay (``initial_delay``, ``max_delay``, ``backoff_sec``): 1 day.
MAX_RETRY_DELAY_SEC: Final = 86_400.0
#: Backoff multiplier.
MAX_MULTIPLIER: Final = 10.0
#: Attempts of one node, the first included (hourly polling for a month fits).
MAX_ATTEMPTS: Final = 1_000
#: Iterations of one loop or ``for_each`` edge.
MAX_ITERATIONS: Final = 100_000
#: A simulated node's ``duration_ms`` (``x-simulate``): 1 hour.
MAX_SIMULATED_MS: Final = 3_600_000.0
#: One edge weight (weights are relative; their sum must stay finite).
MAX_WEIGHT: Final = 1e9
#: Sub-workflows inside sub-workflows (``workflow_ref``, ``spawn``) at run time.
MAX_CHILD_DEPTH: Final = 16
#: Imports of imports the validator follows.
MAX_IMPORT_DEPTH: Final = 16


def clamp(value: float, high: float, low: float = 0.0) -> float:
    """``value`` within ``[low, high]``; NaN reads as ``low``."""
    if isinstance(value, float) and math.isnan(value):
        return low
    return max(low, min(high, value))
