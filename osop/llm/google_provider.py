"""Google's Gemini API through the official ``google-genai`` SDK (extra ``google``).

Key: ``runtime.api_key``, else ``GEMINI_API_KEY`` or ``GOOGLE_API_KEY`` from
the run's environment, then the process's.  Base URL: ``runtime.base_url``,
else the SDK's own ``GOOGLE_GEMINI_BASE_URL``.  Structured answers use
``response_json_schema``; tools are function declarations, and the SDK's
automatic function calling is off (the agent loop runs tools itself, through
the same gates as a ``cli`` node).
"""

from __future__ import annotations

from typing import Any

from osop.llm._sdk import SdkProvider, import_sdk, map_sdk_error
from osop.llm.base import ChatRequest, ChatResponse, ToolCall, Usage
from osop.llm.errors import LLMError

__all__ = ["GoogleProvider"]


class GoogleProvider(SdkProvider):
    name = "google"

    def _contents(self, types: Any, request: ChatRequest) -> list[Any]:
        contents: list[Any] = []
        for m in request.messages:
            if m.role == "user":
                contents.append(types.Content(role="user", parts=[types.Part(text=m.text)]))
            elif m.role == "assistant":
                parts = [types.Part(text=m.text)] if m.text else []
                parts += [
                    types.Part(
                        function_call=types.FunctionCall(
                            id=c.id, name=c.name, args=dict(c.arguments)
                        )
                    )
                    for c in m.tool_calls
                ]
                contents.append(types.Content(role="model", parts=parts))
            else:
                key = "error" if m.is_error else "result"
                part = types.Part(
                    function_response=types.FunctionResponse(
                        id=m.tool_call_id, name=m.name, response={key: m.text}
                    )
                )
                last = contents[-1] if contents else None
                if last is not None and last.role == "user" and last.parts[0].function_response:
                    last.parts.append(part)
                else:
                    contents.append(types.Content(role="user", parts=[part]))
        return contents

    async def chat(self, request: ChatRequest) -> ChatResponse:
        genai = import_sdk("google.genai", "google", "google-genai", "google")
        types = import_sdk("google.genai.types", "google", "google-genai", "google")
        errors = import_sdk("google.genai.errors", "google", "google-genai", "google")
        config: dict[str, Any] = {
            "automatic_function_calling": types.AutomaticFunctionCallingConfig(disable=True)
        }
        if request.system:
            config["system_instruction"] = request.system
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if request.max_tokens is not None:
            config["max_output_tokens"] = request.max_tokens
        if request.tools:
            config["tools"] = [
                types.Tool(
                    function_declarations=[
                        types.FunctionDeclaration(
                            name=t.name,
                            description=t.description,
                            parameters_json_schema=dict(t.parameters),
                        )
                        for t in request.tools
                    ]
                )
            ]
        if request.output_schema is not None:
            config["response_mime_type"] = "application/json"
            config["response_json_schema"] = dict(request.output_schema)
        options: dict[str, Any] = {"timeout": int(self.timeout * 1000)}
        if self.base_url:
            options["base_url"] = self.base_url
        client = genai.Client(api_key=self.api_key, http_options=types.HttpOptions(**options))
        try:
            response = await client.aio.models.generate_content(
                model=request.model,
                contents=self._contents(types, request),
                config=types.GenerateContentConfig(**config),
            )
        except errors.APIError as exc:
            raise map_sdk_error(exc, "google") from exc
        except Exception as exc:  # the SDK lets transport errors through unwrapped
            if "Timeout" in type(exc).__name__ or "Connect" in type(exc).__name__:
                raise map_sdk_error(exc, "google") from exc
            raise
        finally:
            await client.aio.aclose()
        candidates = response.candidates or []
        if not candidates or candidates[0].content is None:
            raise LLMError("BAD_LLM_OUTPUT", "the google response has no candidate")
        texts: list[str] = []
        calls: list[ToolCall] = []
        for i, part in enumerate(candidates[0].content.parts or []):
            if part.function_call is not None:
                call = part.function_call
                calls.append(
                    ToolCall(call.id or f"call_{i}", call.name or "", dict(call.args or {}))
                )
            elif part.text and not part.thought:
                texts.append(part.text)
        meta = response.usage_metadata
        prompt = int(getattr(meta, "prompt_token_count", 0) or 0)
        cached = int(getattr(meta, "cached_content_token_count", 0) or 0)
        output = int(getattr(meta, "candidates_token_count", 0) or 0)
        output += int(getattr(meta, "thoughts_token_count", 0) or 0)
        reason = candidates[0].finish_reason
        return ChatResponse(
            text="".join(texts),
            tool_calls=tuple(calls),
            usage=Usage(
                input_tokens=prompt - cached, output_tokens=output, cache_read_tokens=cached
            ),
            model=str(response.model_version or request.model),
            stop_reason=str(getattr(reason, "value", reason)) if reason is not None else None,
            response_id=response.response_id,
        )
