"""Anthropic's Messages API through the official ``anthropic`` SDK (extra ``anthropic``).

Key: ``runtime.api_key`` (write ``${secrets.ANTHROPIC_API_KEY}``), else
``ANTHROPIC_API_KEY`` from the run's environment, then the process's.  Base
URL: ``runtime.base_url``, else the SDK's own ``ANTHROPIC_BASE_URL``.
Structured answers use the API's JSON-schema output format
(``output_config.format``); tools are ``tool_use`` / ``tool_result`` blocks.
Usage keeps cache writes and reads apart, as the API reports them.
"""

from __future__ import annotations

from typing import Any, Final

from osop.llm._sdk import SdkProvider, import_sdk, map_sdk_error
from osop.llm.base import ChatRequest, ChatResponse, Message, ToolCall, Usage

__all__ = ["AnthropicProvider"]

_DEFAULT_MAX_TOKENS: Final = 4096


def _messages(messages: list[Message] | tuple[Message, ...] | Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "user":
            out.append({"role": "user", "content": m.text})
        elif m.role == "assistant":
            blocks: list[dict[str, Any]] = []
            if m.text:
                blocks.append({"type": "text", "text": m.text})
            blocks += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": dict(c.arguments)}
                for c in m.tool_calls
            ]
            out.append({"role": "assistant", "content": blocks})
        else:
            block = {
                "type": "tool_result",
                "tool_use_id": m.tool_call_id,
                "content": m.text,
                "is_error": m.is_error,
            }
            # Results of one turn's calls travel together in one user message.
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
    return out


class AnthropicProvider(SdkProvider):
    name = "anthropic"

    async def chat(self, request: ChatRequest) -> ChatResponse:
        sdk = import_sdk("anthropic", "anthropic", "anthropic", "anthropic")
        kwargs: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or _DEFAULT_MAX_TOKENS,
            "messages": _messages(request.messages),
        }
        if request.system:
            kwargs["system"] = request.system
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.tools:
            kwargs["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": dict(t.parameters)}
                for t in request.tools
            ]
        if request.output_schema is not None:
            kwargs["output_config"] = {
                "format": {"type": "json_schema", "schema": dict(request.output_schema)}
            }
        client = sdk.AsyncAnthropic(
            api_key=self.api_key, base_url=self.base_url or None, timeout=self.timeout
        )
        try:
            async with client:
                message = await client.messages.create(**kwargs)
        except sdk.AnthropicError as exc:
            raise map_sdk_error(exc, "anthropic") from exc
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in message.content:
            if block.type == "text":
                texts.append(block.text)
            elif block.type == "tool_use":
                calls.append(ToolCall(block.id, block.name, dict(block.input or {})))
        usage = message.usage
        return ChatResponse(
            text="".join(texts),
            tool_calls=tuple(calls),
            usage=Usage(
                input_tokens=int(usage.input_tokens or 0),
                output_tokens=int(usage.output_tokens or 0),
                cache_creation_tokens=int(getattr(usage, "cache_creation_input_tokens", 0) or 0),
                cache_read_tokens=int(getattr(usage, "cache_read_input_tokens", 0) or 0),
            ),
            model=str(message.model or request.model),
            stop_reason=message.stop_reason,
            response_id=message.id,
        )
