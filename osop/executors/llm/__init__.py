"""LLM providers behind one interface (:class:`Provider`), and how a node picks one.

Built in: ``offline`` (deterministic, no network — tests and demos) and
``openai`` (any OpenAI-compatible chat-completions endpoint).  The engine may
add or replace providers through ``ctx.services["llm_providers"]``
(name → provider).
"""

from __future__ import annotations

from osop.executors.llm.base import Completion, Provider
from osop.executors.llm.offline import OfflineProvider, estimate_tokens
from osop.executors.llm.openai import DEFAULT_BASE_URL, OpenAICompatibleProvider

__all__ = [
    "DEFAULT_BASE_URL",
    "Completion",
    "OfflineProvider",
    "OpenAICompatibleProvider",
    "Provider",
    "estimate_tokens",
]
