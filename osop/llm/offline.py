"""The offline provider: deterministic answers without a model, for tests and rehearsals.

It never runs in a live run unless a node (or ``OSOP_LLM_PROVIDER``) names it;
simulated and dry runs use it, and the record says ``provider: offline``.

The same conversation always gives the same answer (a SHA-256 digest of model
+ the last user message drives every choice):

* with ``options``: one of the options, picked by the digest;
* with an ``output_schema``: a JSON object with one value per property — an
  enum value picked by the digest, ``false``/``true`` for booleans, a number
  from the digest for numbers, ``[]``/``{}`` for arrays/objects, else
  ``"<field> (offline <digest>)"``;
* otherwise a short text echoing the start of the prompt.

It calls no tools.  Tokens are estimated as characters / 4 (at least 1); the
cost is 0.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from osop.llm.base import ChatRequest, ChatResponse, Usage

__all__ = ["OfflineProvider", "estimate_tokens"]

_ECHO_CHARS: Final = 120


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _value(name: str, schema: Mapping[str, Any], digest: int) -> Any:
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[digest % len(enum)]
    kind = schema.get("type", "string")
    if kind == "boolean":
        return digest % 2 == 1
    if kind == "integer":
        return digest % 100
    if kind == "number":
        return round((digest % 10000) / 100, 2)
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return f"{name} (offline {digest:08x})"


class OfflineProvider:
    name = "offline"

    async def chat(self, request: ChatRequest) -> ChatResponse:
        prompt = next((m.text for m in reversed(request.messages) if m.role == "user"), "")
        seed = hashlib.sha256(f"{request.model}\0{prompt}".encode()).digest()
        digest = int.from_bytes(seed[:4], "big")
        properties = (request.output_schema or {}).get("properties")
        if request.options:
            text = str(request.options[digest % len(request.options)])
        elif isinstance(properties, Mapping) and properties:
            values = {
                str(name): _value(str(name), schema, digest >> (i % 16))
                for i, (name, schema) in enumerate(properties.items())
            }
            text = json.dumps(values, sort_keys=True)
        else:
            head = " ".join(prompt.split())[:_ECHO_CHARS]
            text = f"Offline answer ({digest:08x}) to: {head}"
        seen = "".join(m.text for m in request.messages) + (request.system or "")
        return ChatResponse(
            text=text,
            usage=Usage(input_tokens=estimate_tokens(seen), output_tokens=estimate_tokens(text)),
            model=request.model or "offline",
            stop_reason="end_turn",
        )
