"""Errors of the LLM layer (providers, credentials, model answers).

Each carries a ``code`` — the same one a failed ``agent`` node records — and
whether trying again could help.  The agent executor turns them into
``NodeFailure`` at its boundary; other callers (``osop synthesize --llm``) see
an :class:`~osop.errors.OsopError` with a message that says what to set.
"""

from __future__ import annotations

from typing import Any

from osop.errors import OsopError

__all__ = [
    "LLMError",
    "MissingExtraError",
    "NoCredentialsError",
    "NoProviderError",
]


class LLMError(OsopError):
    """A provider call that failed (``HTTP_429``, ``TIMEOUT``, ``BAD_LLM_OUTPUT`` ...)."""

    def __init__(
        self, code: str, message: str, *, retryable: bool = True, details: Any = None
    ) -> None:
        self.code = code
        self.message = message
        self.retryable = retryable
        self.details = details
        super().__init__(f"{code}: {message}")


class NoProviderError(LLMError):
    """No provider is named and none can be inferred, or the named one does not exist."""

    def __init__(self, message: str) -> None:
        super().__init__("NO_PROVIDER", message, retryable=False)


class NoCredentialsError(LLMError):
    """The provider is known but nothing says which key to use."""

    def __init__(self, message: str) -> None:
        super().__init__("NO_CREDENTIALS", message, retryable=False)


class MissingExtraError(LLMError):
    """The vendor SDK of a provider is not installed."""

    def __init__(self, provider: str, package: str, extra: str) -> None:
        super().__init__(
            "NO_PROVIDER",
            f"the {provider} provider needs the {package!r} package: "
            f"pip install 'osop-toolkit[{extra}]'",
            retryable=False,
        )
