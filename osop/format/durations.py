"""Duration strings (``"10m"``, ``"1h30m"``, ``"500ms"``) and plain seconds."""

from __future__ import annotations

import math
import re

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+$", re.IGNORECASE)
_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")


def parse_duration(value: object) -> float | None:
    """Seconds for a duration string or number; ``None`` when it is not one.

    A bare number (or numeric string) counts as seconds, which is how ``timeout_sec``
    and ``backoff_sec`` are written.
    """
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            seconds = float(value)
        elif not isinstance(value, str) or len(value) > 200:
            return None
        elif _NUMBER.match(value):
            seconds = float(value)
        elif _WHOLE.match(value):
            seconds = sum(float(n) * _UNITS[u.lower()] for n, u in _PART.findall(value))
        else:
            return None
    except OverflowError:  # an integer no float can hold: no duration at all
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def format_duration(seconds: float) -> str:
    """Short human form: ``0.25s``, ``12s``, ``3m 5s``, ``2h 0m``."""
    if seconds < 10:
        return f"{seconds:.3g}s"
    if round(seconds) < 60:  # 59.7 s is "1m 0s", not "60s"
        return f"{round(seconds)}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"
