"""The agent loop: ask the model, run the tools it calls, give it the results, repeat.

The loop ends when the model answers without calling a tool.  It is bounded
by ``max_turns`` (model calls) and by ``max_cost_usd`` (checked after every
call against the price table): a model that keeps calling tools fails with
``MAX_TURNS``, one that costs too much with ``BUDGET_EXCEEDED`` — both carry
what was spent so far.  Tools are handlers by name; what they do (and which
gates they pass) is the caller's business.  A handler that raises stops the
loop (an approval the engine must ask for, a refusal that fails the node); a
handler that returns ``is_error`` lets the model hear the refusal and go on.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from osop.llm.base import ChatRequest, ChatResponse, Message, Provider, ToolCall, Usage
from osop.llm.errors import LLMError
from osop.llm.prices import cost_usd

__all__ = ["Conversation", "ToolHandler", "ToolOutcome", "converse"]

_SHOWN = 200


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    text: str
    is_error: bool = False
    #: ``ok``, ``error``, ``blocked``, ``unknown``.
    status: str = "ok"


ToolHandler = Callable[[Mapping[str, Any]], Awaitable[ToolOutcome]]


@dataclass(slots=True)
class Conversation:
    provider: str
    model: str
    text: str = ""
    usage: Usage = field(default_factory=Usage)
    #: None when some turn's model has no price.
    cost_usd: float | None = 0.0
    turns: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        """What ``ai_metadata`` says about this conversation."""
        out: dict[str, Any] = {
            "model": self.model,
            "provider": self.provider,
            "prompt_tokens": self.usage.input_tokens,
            "completion_tokens": self.usage.output_tokens,
            "cost_usd": self.cost_usd,
            "turns": list(self.turns),
        }
        if self.usage.cache_creation_tokens:
            out["cache_creation_tokens"] = self.usage.cache_creation_tokens
        if self.usage.cache_read_tokens:
            out["cache_read_tokens"] = self.usage.cache_read_tokens
        if self.tool_calls:
            out["tool_calls"] = list(self.tool_calls)
        return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _short(value: Any) -> Any:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _price(provider: str, model: str, usage: Usage) -> float | None:
    if provider == "offline":
        return 0.0
    return cost_usd(
        model,
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_creation_tokens,
        usage.cache_read_tokens,
    )


async def _run_tool(
    call: ToolCall, handlers: Mapping[str, ToolHandler], log: list[dict[str, Any]]
) -> Message:
    started, mono = _now(), time.monotonic()
    handler = handlers.get(call.name)
    entry: dict[str, Any] = {
        "id": call.id,
        "tool": call.name,
        "arguments": {k: _short(v) for k, v in call.arguments.items()},
        "started_at": started,
    }
    log.append(entry)
    if handler is None:
        outcome = ToolOutcome(
            f"no tool called {call.name!r}; available: {', '.join(sorted(handlers)) or 'none'}",
            is_error=True,
            status="unknown",
        )
    else:
        try:
            outcome = await handler(call.arguments)
        except BaseException as exc:
            entry.update(
                status="stopped",
                ended_at=_now(),
                duration_ms=round((time.monotonic() - mono) * 1000, 3),
                error=_short(str(exc)),
            )
            raise
    entry.update(
        status=outcome.status,
        ended_at=_now(),
        duration_ms=round((time.monotonic() - mono) * 1000, 3),
        result=_short(outcome.text),
    )
    return Message(
        "tool", outcome.text, tool_call_id=call.id, name=call.name, is_error=outcome.is_error
    )


async def converse(
    provider: Provider,
    request: ChatRequest,
    handlers: Mapping[str, ToolHandler],
    *,
    max_turns: int = 10,
    max_cost_usd: float | None = None,
) -> Conversation:
    """Run the conversation to a final answer (see the module doc)."""
    talk = Conversation(provider=provider.name, model=request.model)
    messages = list(request.messages)
    for turn in range(1, max_turns + 1):
        started, mono = _now(), time.monotonic()
        response: ChatResponse = await provider.chat(replace(request, messages=tuple(messages)))
        model = response.model or request.model
        talk.model = model
        talk.usage = talk.usage + response.usage
        cost = _price(provider.name, model, response.usage)
        talk.cost_usd = None if cost is None or talk.cost_usd is None else talk.cost_usd + cost
        talk.turns.append(
            {
                "turn": turn,
                "started_at": started,
                "ended_at": _now(),
                "duration_ms": round((time.monotonic() - mono) * 1000, 3),
                "input_tokens": response.usage.input_tokens,
                "output_tokens": response.usage.output_tokens,
                "cache_creation_tokens": response.usage.cache_creation_tokens,
                "cache_read_tokens": response.usage.cache_read_tokens,
                "finish_reason": response.stop_reason,
                "response_id": response.response_id,
                "tool_calls": len(response.tool_calls),
            }
        )
        messages.append(Message("assistant", response.text, tool_calls=response.tool_calls))
        if max_cost_usd is not None and talk.cost_usd is not None and talk.cost_usd > max_cost_usd:
            talk.messages = messages
            raise LLMError(
                "BUDGET_EXCEEDED",
                f"the conversation cost ${talk.cost_usd:.6f}, over the budget of "
                f"${max_cost_usd:g} (runtime.max_cost_usd)",
                retryable=False,
                details={"ai_metadata": talk.metadata()},
            )
        if not response.tool_calls:
            talk.text = response.text
            talk.messages = messages
            return talk
        for call in response.tool_calls:
            messages.append(await _run_tool(call, handlers, talk.tool_calls))
    talk.messages = messages
    raise LLMError(
        "MAX_TURNS",
        f"the model still called tools after {max_turns} turns (runtime.max_turns)",
        retryable=False,
        details={"ai_metadata": talk.metadata()},
    )
