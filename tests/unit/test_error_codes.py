"""retryable_errors matching: one function for the engine and the analysis."""

from __future__ import annotations

import pytest

from osop.format.error_codes import error_code_matches, matches_any
from osop.format.workflow import RetryPolicy


@pytest.mark.parametrize(
    ("pattern", "code", "expected"),
    [
        ("TIMEOUT", "TIMEOUT", True),
        ("timeout", "TIMEOUT", True),
        ("TIMEOUT", "TIMEOUTS", False),
        ("5xx", "HTTP_503", True),
        ("5XX", "HTTP_500", True),
        ("5xx", "503", True),
        ("HTTP_5xx", "HTTP_599", True),
        ("5xx", "HTTP_404", False),
        ("4xx", "HTTP_404", True),
        ("5xx", "EXIT_5", False),
        ("5xx", "CONNECTION_ERROR", False),
        ("5xx", None, False),
        ("503", "HTTP_503", True),
        ("HTTP_503", "503", True),
        ("503", "HTTP_502", False),
        ("EXIT_*", "EXIT_1", True),
        ("EXIT_*", "SIGNAL_9", False),
        ("*", "ANYTHING", True),
        ("", "", False),
    ],
)
def test_error_code_matches(pattern: str, code: str | None, expected: bool) -> None:
    assert error_code_matches(pattern, code) is expected


def test_policy_uses_the_matcher() -> None:
    policy = RetryPolicy(max_attempts=3, retryable_errors=("TIMEOUT", "CONNECTION_REFUSED", "5xx"))
    assert policy.retries("HTTP_503")
    assert not policy.retries("HTTP_400")
    assert RetryPolicy().retries("ANY")  # no list: every error may be retried
    assert matches_any(["4xx", "5xx"], "HTTP_429")
