"""The offline provider: deterministic answers without a model, for tests and demos.

The same prompt always gives the same answer (a SHA-256 digest of model +
prompt drives every choice):

* with ``options``: one of the options, picked by the digest;
* with ``fields``: a JSON object with one value per field — the first
  alternative of ``"a | b | c"`` schemas picked by the digest, ``false``/``true``
  for booleans, a number from the digest for numbers, ``[]``/``{}`` for
  arrays/objects, else ``"<field> (offline <digest>)"``;
* otherwise a short text echoing the start of the prompt.

Tokens are estimated as characters / 4 (at least 1); the cost is 0.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from osop.executors.llm.base import Completion

__all__ = ["OfflineProvider", "estimate_tokens"]

_ECHO_CHARS: Final = 120


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _value(name: str, schema: Any, digest: int) -> Any:
    if isinstance(schema, Mapping):
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[digest % len(enum)]
        schema = schema.get("type", schema.get("schema", "string"))
    text = str(schema).strip().lower() if schema is not None else "string"
    if "|" in text:
        choices = [c.strip().strip("'\"") for c in str(schema).split("|")]
        return choices[digest % len(choices)]
    if text in ("boolean", "bool"):
        return digest % 2 == 1
    if text in ("integer", "int"):
        return digest % 100
    if text in ("number", "float", "double"):
        return round((digest % 10000) / 100, 2)
    if text in ("array", "list") or text.endswith("[]"):
        return []
    if text in ("object", "dict", "map"):
        return {}
    return f"{name} (offline {digest:08x})"


class OfflineProvider:
    name = "offline"

    async def complete(self, prompt: str, model: str, **opts: Any) -> Completion:
        seed = hashlib.sha256(f"{model}\0{prompt}".encode()).digest()
        digest = int.from_bytes(seed[:4], "big")
        options = opts.get("options")
        fields = opts.get("fields")
        if isinstance(options, list) and options:
            text = str(options[digest % len(options)])
        elif isinstance(fields, Mapping) and fields:
            values = {
                str(name): _value(str(name), schema, digest >> (i % 16))
                for i, (name, schema) in enumerate(fields.items())
            }
            text = json.dumps(values, sort_keys=True)
        else:
            head = " ".join(prompt.split())[:_ECHO_CHARS]
            text = f"Offline answer ({digest:08x}) to: {head}"
        return Completion(
            text=text,
            prompt_tokens=estimate_tokens(prompt + str(opts.get("system") or "")),
            completion_tokens=estimate_tokens(text),
            cost_usd=0.0,
            model=model or "offline",
        )
