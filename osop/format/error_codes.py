"""Which error codes a ``retryable_errors`` entry matches (seed 002 §9).

One function decides it for the engine (whether to retry) and for the
analysis (whether a recorded retry was allowed), so they never disagree.
The rules, in ``docs/semantics.md``:

* case-insensitive equality: ``timeout`` matches ``TIMEOUT``;
* a status class ``1xx`` … ``5xx`` (also written ``HTTP_5xx``) matches any HTTP
  status code of that class, as executors spell it (``HTTP_503``) or bare (``503``);
* a bare status ``503`` also matches ``HTTP_503``;
* a trailing ``*`` is a prefix: ``EXIT_*`` matches ``EXIT_1``; ``*`` matches everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

__all__ = ["error_code_matches", "matches_any"]

_STATUS_CLASS: Final = re.compile(r"^(?:HTTP_?)?([1-5])XX$")
_STATUS: Final = re.compile(r"^(?:HTTP_?)?([1-5][0-9][0-9])$")


def _http_status(code: str) -> str | None:
    match = _STATUS.match(code)
    return match.group(1) if match else None


def error_code_matches(pattern: str, code: str | None) -> bool:
    """Whether one ``retryable_errors`` entry matches an error code."""
    wanted = pattern.strip().upper()
    actual = (code or "").strip().upper()
    if not wanted:
        return False
    if wanted.endswith("*"):
        return actual.startswith(wanted[:-1])
    if wanted == actual:
        return True
    status = _http_status(actual)
    if status is None:
        return False
    status_class = _STATUS_CLASS.match(wanted)
    if status_class is not None:
        return status[0] == status_class.group(1)
    return _http_status(wanted) == status


def matches_any(patterns: Iterable[str], code: str | None) -> bool:
    """Whether any of ``patterns`` matches ``code``."""
    return any(error_code_matches(p, code) for p in patterns)
