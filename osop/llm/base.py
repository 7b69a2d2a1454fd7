"""The interface every LLM provider implements, and the values it exchanges.

A provider answers one *turn* of a conversation (:meth:`Provider.chat`): the
messages so far, the tools the model may call, optionally a JSON schema the
final answer must follow.  The answer is text, tool calls, or both, with the
token usage of that turn.  The agent loop (:mod:`osop.llm.agent_loop`) runs
the tools and calls again until the model answers without calling one.

``complete(prompt, model, ...)`` is the one-shot form older callers use; it is
a thin wrapper over ``chat`` (see :func:`complete`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "Completion",
    "Message",
    "Provider",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "complete",
]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call: its name, what it does, its JSON-schema parameters."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The model asks for ``name(arguments)``; ``id`` pairs the call with its result."""

    id: str
    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    """One message of the conversation.

    ``user``: ``text``.  ``assistant``: ``text`` and/or ``tool_calls``.
    ``tool``: the result of the call ``tool_call_id`` (``name``) in ``text``,
    ``is_error`` when the tool refused or failed.
    """

    role: Literal["user", "assistant", "tool"]
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_tokens + other.cache_creation_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
        )


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: Sequence[Message]
    system: str | None = None
    tools: Sequence[ToolSpec] = ()
    temperature: float | None = None
    max_tokens: int | None = None
    #: JSON schema (an object schema) the final answer must be: the SDK's
    #: structured-output mode when it has one.
    output_schema: Mapping[str, Any] | None = None
    #: Answer with exactly one of these strings.
    options: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class ChatResponse:
    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    #: The model that answered, as the provider reports it.
    model: str = ""
    stop_reason: str | None = None
    response_id: str | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """One model answer with its accounting (``cost_usd`` None when the price is unknown)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    model: str


class Provider(Protocol):
    #: The name nodes select it by (``runtime.provider``); recorded in ``ai_metadata``.
    name: str

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """Answer one turn; raise :class:`~osop.llm.errors.LLMError` on failure."""
        ...


async def complete(
    provider: Provider,
    prompt: str,
    model: str,
    *,
    system: str | None = None,
    fields: Mapping[str, Any] | None = None,
    options: Sequence[str] | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> Completion:
    """One question, one answer (no tools); cost from the price table."""
    from osop.llm.prices import cost_usd
    from osop.llm.schema import object_schema

    response = await provider.chat(
        ChatRequest(
            model=model,
            messages=(Message("user", prompt),),
            system=system,
            temperature=temperature,
            max_tokens=max_tokens,
            output_schema=object_schema(fields) if fields else None,
            options=options,
        )
    )
    usage = response.usage
    cost = (
        0.0
        if provider.name == "offline"
        else cost_usd(
            response.model or model,
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_creation_tokens,
            usage.cache_read_tokens,
        )
    )
    return Completion(
        text=response.text,
        prompt_tokens=usage.input_tokens,
        completion_tokens=usage.output_tokens,
        cost_usd=cost,
        model=response.model or model,
    )
