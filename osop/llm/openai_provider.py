"""OpenAI's Chat Completions API through the official ``openai`` SDK (extra ``openai``).

Serves OpenAI and every OpenAI-compatible endpoint (vLLM, Ollama, LM Studio,
gateways): ``runtime.base_url`` (or ``endpoint``) points the SDK elsewhere,
else the SDK's own ``OPENAI_BASE_URL``.  Key: ``runtime.api_key``, else
``OPENAI_API_KEY`` from the run's environment, then the process's; a local
server that needs none is reached by setting ``base_url`` (the key is then
``"none"``).  Structured answers use ``response_format: json_schema``; tools
are ``function`` tools.  Cached prompt tokens
(``prompt_tokens_details.cached_tokens``) are counted as cache reads and taken
out of the input tokens, so each token is priced once.
"""

from __future__ import annotations

import json
from typing import Any

from osop.llm._sdk import SdkProvider, import_sdk, map_sdk_error
from osop.llm.base import ChatRequest, ChatResponse, Message, ToolCall, Usage
from osop.llm.errors import LLMError

__all__ = ["OpenAIProvider"]


def _messages(request: ChatRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if request.system:
        out.append({"role": "system", "content": request.system})
    m: Message
    for m in request.messages:
        if m.role == "user":
            out.append({"role": "user", "content": m.text})
        elif m.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": m.text or None}
            if m.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                    }
                    for c in m.tool_calls
                ]
            out.append(entry)
        else:
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.text})
    return out


def _arguments(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {"_unparsed": text}
    return value if isinstance(value, dict) else {"value": value}


class OpenAIProvider(SdkProvider):
    name = "openai"

    async def chat(self, request: ChatRequest) -> ChatResponse:
        sdk = import_sdk("openai", "openai", "openai", "openai")
        kwargs: dict[str, Any] = {"model": request.model, "messages": _messages(request)}
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        if request.tools:
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": dict(t.parameters),
                    },
                }
                for t in request.tools
            ]
        if request.output_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": dict(request.output_schema)},
            }
        client = sdk.AsyncOpenAI(
            api_key=self.api_key, base_url=self.base_url or None, timeout=self.timeout
        )
        try:
            async with client:
                completion = await client.chat.completions.create(**kwargs)
        except sdk.OpenAIError as exc:
            raise map_sdk_error(exc, "openai") from exc
        if not completion.choices:
            raise LLMError("BAD_LLM_OUTPUT", "the openai response has no choices")
        choice = completion.choices[0]
        calls = tuple(
            ToolCall(c.id, c.function.name, _arguments(c.function.arguments))
            for c in (choice.message.tool_calls or [])
            if getattr(c, "function", None) is not None
        )
        usage = completion.usage
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        details = getattr(usage, "prompt_tokens_details", None)
        cached = int(getattr(details, "cached_tokens", 0) or 0)
        return ChatResponse(
            text=choice.message.content or "",
            tool_calls=calls,
            usage=Usage(
                input_tokens=prompt - cached,
                output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                cache_read_tokens=cached,
            ),
            model=str(completion.model or request.model),
            stop_reason=choice.finish_reason,
            response_id=completion.id,
        )
