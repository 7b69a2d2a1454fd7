"""An OpenAI-compatible chat-completions provider (OpenAI, Azure-style gateways, vLLM, Ollama ...).

``POST {base_url}/chat/completions`` with ``Authorization: Bearer <key>``.
The base URL is ``endpoint``/``base_url`` (node runtime), else
``OPENAI_BASE_URL``, else ``https://api.openai.com/v1``; the key is
``api_key`` (write ``${secrets.OPENAI_API_KEY}``), else the environment's
``OPENAI_API_KEY``.  The cost is computed only when the node gives
``pricing: {prompt_per_1k, completion_per_1k}`` (prices change; we do not guess).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import httpx

from osop.executors.base import NodeFailure
from osop.executors.llm.base import Completion

__all__ = ["DEFAULT_BASE_URL", "OpenAICompatibleProvider"]

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"


def _cost(pricing: Any, prompt_tokens: int, completion_tokens: int) -> float | None:
    if not isinstance(pricing, Mapping):
        return None
    p, c = pricing.get("prompt_per_1k"), pricing.get("completion_per_1k")
    if not isinstance(p, int | float) or not isinstance(c, int | float):
        return None
    return round(prompt_tokens / 1000 * p + completion_tokens / 1000 * c, 8)


def _instructions(opts: Mapping[str, Any]) -> str:
    options, fields = opts.get("options"), opts.get("fields")
    if isinstance(options, list) and options:
        return "\n\nAnswer with exactly one of: " + ", ".join(str(o) for o in options)
    if isinstance(fields, Mapping) and fields:
        return (
            "\n\nAnswer with only a JSON object with these keys (and value types): "
            + json.dumps({str(k): v if isinstance(v, str) else "any" for k, v in fields.items()})
        )
    return ""


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.api_key = api_key
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.transport = transport
        self.timeout = timeout

    async def complete(self, prompt: str, model: str, **opts: Any) -> Completion:
        if not self.api_key:
            raise NodeFailure(
                "NO_CREDENTIALS",
                "no API key for the openai provider: set runtime.api_key "
                "(e.g. ${secrets.OPENAI_API_KEY}) or the OPENAI_API_KEY environment variable",
                retryable=False,
            )
        messages: list[dict[str, str]] = []
        if opts.get("system"):
            messages.append({"role": "system", "content": str(opts["system"])})
        messages.append({"role": "user", "content": prompt + _instructions(opts)})
        body: dict[str, Any] = {"model": model, "messages": messages}
        for key in ("temperature", "max_tokens"):
            if isinstance(opts.get(key), int | float):
                body[key] = opts[key]
        if isinstance(opts.get("fields"), Mapping) and opts["fields"]:
            body["response_format"] = {"type": "json_object"}
        url = f"{self.base_url}/chat/completions"
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as client:
                response = await client.post(
                    url, json=body, headers={"Authorization": f"Bearer {self.api_key}"}
                )
        except httpx.TimeoutException as exc:
            raise NodeFailure("TIMEOUT", f"LLM request to {url} timed out") from exc
        except httpx.ConnectError as exc:
            code = "CONNECTION_REFUSED" if "refused" in str(exc).lower() else "CONNECTION_ERROR"
            raise NodeFailure(code, f"LLM request to {url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise NodeFailure("HTTP_ERROR", f"LLM request to {url}: {exc}") from exc
        status = response.status_code
        if status >= 400:
            retryable = status in (408, 409, 429) or status >= 500
            raise NodeFailure(
                f"HTTP_{status}",
                f"LLM provider returned {status}: {response.text[:300]}",
                retryable=retryable,
            )
        try:
            data = response.json()
            text = data["choices"][0]["message"]["content"] or ""
            usage = data.get("usage") or {}
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise NodeFailure("BAD_LLM_OUTPUT", f"unexpected LLM response: {exc}") from exc
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        return Completion(
            text=str(text),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=_cost(opts.get("pricing"), prompt_tokens, completion_tokens),
            model=str(data.get("model") or model),
        )
