"""LLM providers behind one interface, the price table, and the agent loop.

Providers: ``anthropic``, ``openai`` (and any OpenAI-compatible server),
``google`` — each through its vendor's official SDK, an optional extra
imported only when a node uses it — and ``offline`` (deterministic, no
network: rehearsals and tests).  :func:`choose_provider` /
:func:`make_provider` pick one for a node; :func:`converse` runs a tool-using
conversation to its answer; :mod:`osop.llm.prices` is the one price table (per
model, dated, overridable) shared by agent nodes, session import and stats.
"""

from __future__ import annotations

from osop.llm.base import (
    ChatRequest,
    ChatResponse,
    Completion,
    Message,
    Provider,
    ToolCall,
    ToolSpec,
    Usage,
    complete,
)
from osop.llm.errors import LLMError, MissingExtraError, NoCredentialsError, NoProviderError
from osop.llm.loop import Conversation, ToolHandler, ToolOutcome, converse
from osop.llm.offline import OfflineProvider, estimate_tokens
from osop.llm.prices import ModelPrice, cost_usd, price_for
from osop.llm.select import PROVIDERS, choose_provider, infer_provider, make_provider

__all__ = [
    "PROVIDERS",
    "ChatRequest",
    "ChatResponse",
    "Completion",
    "Conversation",
    "LLMError",
    "Message",
    "MissingExtraError",
    "ModelPrice",
    "NoCredentialsError",
    "NoProviderError",
    "OfflineProvider",
    "Provider",
    "ToolCall",
    "ToolHandler",
    "ToolOutcome",
    "ToolSpec",
    "Usage",
    "choose_provider",
    "complete",
    "converse",
    "cost_usd",
    "estimate_tokens",
    "infer_provider",
    "make_provider",
    "price_for",
]
