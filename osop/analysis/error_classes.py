"""Which recorded errors look transient: worth a retry rather than a fix.

A timeout, a 5xx or 429 answer, a refused or reset connection, a name lookup that
failed, "temporarily unavailable", "try again": the same call often succeeds a
moment later.  Locks and conflicts are not counted: they recur until someone acts.
``add_retry`` proposes retries from these even where no retry was
ever made (no policy means no failed-then-succeeded attempt can exist).  The
spec's own ``retryable_errors`` example (``TIMEOUT``, ``CONNECTION_REFUSED``,
``5xx``) is covered by these patterns.
"""

from __future__ import annotations

import re

from osop.format.error_codes import matches_any

__all__ = ["TRANSIENT_CODES", "is_transient"]

#: ``retryable_errors`` patterns (matched as the engine matches them) that name
#: passing faults: the spec's own example list, and rate limiting.
TRANSIENT_CODES = ("TIMEOUT", "TIMED_OUT", "CONNECTION_REFUSED", "CONNECTION_RESET", "5xx", "429")

_TRANSIENT_CODE = re.compile(
    r"TIME[D_]?_?OUT|DEADLINE|HTTP_?(5\d\d|429)|^(5\d\d|429)$|5XX|RATE_?LIMIT|THROTTL"
    r"|CONN(ECTION)?_?(REFUSED|RESET|ABORTED|ERROR|CLOSED)|ECONN(RESET|REFUSED|ABORTED)"
    r"|ETIMEDOUT|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|UNAVAILABLE|TEMPORAR|TRY_?AGAIN"
    r"|NETWORK|TRANSIENT",
    re.IGNORECASE,
)
_TRANSIENT_TEXT = re.compile(
    r"timed? ?out|timeout|connection (reset|refused|aborted|closed)|temporar(il)?y"
    r"|unavailable|bad gateway|gateway time|too many requests|rate.?limit|try again"
    r"|\b(502|503|504|429)\b|name resolution|could not resolve host|network is unreachable",
    re.IGNORECASE,
)


def is_transient(code: str | None, message: str | None) -> bool:
    """Whether an error with this code and message looks like a passing fault."""
    if code and (matches_any(TRANSIENT_CODES, code) or _TRANSIENT_CODE.search(code)):
        return True
    return bool(message and _TRANSIENT_TEXT.search(message))
