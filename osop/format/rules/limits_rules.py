"""Durations, counts and weights past the bounds of :mod:`osop.format.limits`.

The model clamps such values, so nothing runs for ever; the validator still says
so, because a clamped value is not what the author wrote.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from osop.diagnostics import Issue, join_pointer
from osop.format.durations import parse_duration
from osop.format.limits import (
    MAX_ATTEMPTS,
    MAX_ITERATIONS,
    MAX_MULTIPLIER,
    MAX_RETRY_DELAY_SEC,
    MAX_SIMULATED_MS,
    MAX_TIMEOUT_SEC,
    MAX_WEIGHT,
)
from osop.format.workflow import Workflow

__all__ = ["check_limits"]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _over(value: Any, high: float) -> bool:
    """A number (or duration) above ``high``, or one no float can hold."""
    if not _number(value):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return True
    return bool(value > high)


def _duration(
    container: Mapping[str, Any], key: str, high: float, pointer: str, what: str
) -> Iterator[Issue]:
    if key not in container:
        return
    raw = container[key]
    seconds = parse_duration(raw)
    if (seconds is None and _number(raw) and raw > 0) or (seconds is not None and seconds > high):
        yield Issue(
            "error",
            "limits/duration",
            f"{what} {raw!s:.40} is longer than the {high:,.0f} s OSOP allows",
            pointer=join_pointer(pointer, key),
        )


def _count(
    container: Mapping[str, Any], key: str, high: int, pointer: str, what: str
) -> Iterator[Issue]:
    raw = container.get(key)
    if raw is None or not _number(raw):
        return
    if _over(raw, high) or (isinstance(raw, float) and not raw.is_integer()):
        yield Issue(
            "error",
            "limits/count",
            f"{what} {raw!s:.40} is not a whole number of at most {high:,}",
            pointer=join_pointer(pointer, key),
        )
    elif isinstance(raw, float):
        yield Issue(
            "error",
            "limits/count",
            f"{what} {raw!s:.40} must be written as an integer",
            pointer=join_pointer(pointer, key),
        )


def _retry(container: Mapping[str, Any], pointer: str) -> Iterator[Issue]:
    retry = container.get("retry")
    if isinstance(retry, Mapping):
        at = join_pointer(pointer, "retry")
        yield from _count(retry, "max_attempts", MAX_ATTEMPTS, at, "max_attempts")
        yield from _count(retry, "max_retries", MAX_ATTEMPTS - 1, at, "max_retries")
        yield from _duration(retry, "backoff_sec", MAX_RETRY_DELAY_SEC, at, "backoff_sec")
        backoff = retry.get("backoff")
        if isinstance(backoff, Mapping):
            at = join_pointer(at, "backoff")
            for key in ("initial_delay", "max_delay"):
                yield from _duration(backoff, key, MAX_RETRY_DELAY_SEC, at, key)
            if _over(backoff.get("multiplier"), MAX_MULTIPLIER):
                yield Issue(
                    "error",
                    "limits/count",
                    f"backoff multiplier is over {MAX_MULTIPLIER:g}",
                    pointer=join_pointer(at, "multiplier"),
                )
    policy = container.get("retry_policy")
    if isinstance(policy, Mapping):
        at = join_pointer(pointer, "retry_policy")
        yield from _count(policy, "max_retries", MAX_ATTEMPTS - 1, at, "max_retries")
        yield from _duration(policy, "backoff_sec", MAX_RETRY_DELAY_SEC, at, "backoff_sec")
        yield from _duration(policy, "max_delay", MAX_RETRY_DELAY_SEC, at, "max_delay")


def check_limits(wf: Workflow) -> Iterator[Issue]:
    """Every value of ``wf`` past the documented bounds."""
    for container, pointer in [(wf.raw, ""), *((n.raw, n.pointer) for n in wf.nodes)]:
        for key in ("timeout_sec", "timeout"):
            yield from _duration(container, key, MAX_TIMEOUT_SEC, pointer, key)
        yield from _retry(container, pointer)
    for node in wf.nodes:
        simulate = node.raw.get("x-simulate")
        if isinstance(simulate, Mapping) and _over(simulate.get("duration_ms"), MAX_SIMULATED_MS):
            yield Issue(
                "error",
                "limits/duration",
                f"simulated duration_ms {simulate['duration_ms']!s:.40} is over "
                f"{MAX_SIMULATED_MS:,.0f} ms (1 hour)",
                pointer=join_pointer(node.pointer, "x-simulate", "duration_ms"),
            )
    for edge in wf.edges:
        weight = edge.raw.get("weight")
        if isinstance(weight, int | float) and _over(weight, MAX_WEIGHT):
            yield Issue(
                "error",
                "limits/weight",
                f"weight {weight!s:.40} is over {MAX_WEIGHT:g} (weights are relative)",
                pointer=join_pointer(edge.pointer, "weight"),
            )
        yield from _count(
            edge.raw, "max_iterations", MAX_ITERATIONS, edge.pointer, "max_iterations"
        )
