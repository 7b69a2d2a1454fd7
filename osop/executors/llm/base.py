"""The interface every LLM provider implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Completion", "Provider"]


@dataclass(frozen=True, slots=True)
class Completion:
    """One model answer with its accounting (``cost_usd`` None when the price is unknown)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    model: str


class Provider(Protocol):
    #: The name nodes select it by (``runtime.provider``).
    name: str

    async def complete(self, prompt: str, model: str, **opts: Any) -> Completion:
        """Answer ``prompt``.

        Options every provider understands: ``system`` (system prompt),
        ``temperature``, ``max_tokens``, ``options`` (answer with exactly one of
        these strings), ``fields`` (answer with a JSON object with these keys:
        ``{name: schema}``).  Raise ``NodeFailure`` on failure.
        """
        ...
