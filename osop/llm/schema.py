"""Declared outputs as a JSON schema, and answers checked against it.

Nodes declare outputs loosely (``schema: "critical | high | low"``,
``type: boolean``, a JSON schema mapping); the model is asked for an object
that fits :func:`object_schema` and its answer is checked by
:func:`check_answer` — every declared name present, enums and types honoured.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from osop.llm.errors import LLMError

__all__ = ["check_answer", "field_schema", "object_schema", "parse_json_answer"]

_SIMPLE: Final = {
    "string": "string",
    "str": "string",
    "text": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "integer": "integer",
    "int": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "array": "array",
    "list": "array",
    "object": "object",
    "dict": "object",
    "map": "object",
}
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def field_schema(spec: Any) -> dict[str, Any]:
    """A JSON schema for one declared output (``"a | b"`` is an enum)."""
    if isinstance(spec, Mapping):
        if "type" in spec or "enum" in spec or "properties" in spec or "items" in spec:
            schema = {k: v for k, v in spec.items() if not str(k).startswith("x-")}
            if isinstance(schema.get("type"), str) and schema["type"] not in _SIMPLE.values():
                schema["type"] = _SIMPLE.get(schema["type"].lower(), "string")
            return schema
        inner = spec.get("schema")
        return field_schema(inner) if inner is not None else {}
    text = str(spec).strip() if spec is not None else ""
    if "|" in text:
        return {"type": "string", "enum": [c.strip().strip("'\"") for c in text.split("|")]}
    lowered = text.lower()
    if lowered.endswith("[]"):
        return {"type": "array"}
    kind = _SIMPLE.get(lowered)
    return {"type": kind} if kind else {"type": "string"}


def object_schema(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The object schema an answer with these fields must follow."""
    return {
        "type": "object",
        "properties": {str(name): field_schema(spec) for name, spec in fields.items()},
        "required": [str(name) for name in fields],
        "additionalProperties": False,
    }


def parse_json_answer(text: str) -> dict[str, Any]:
    try:
        data = json.loads(_FENCE.sub("", text.strip()))
    except ValueError as exc:
        raise LLMError("BAD_LLM_OUTPUT", f"the model did not answer with JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise LLMError("BAD_LLM_OUTPUT", "the model's JSON answer is not an object")
    return data


def check_answer(data: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Raise ``BAD_LLM_OUTPUT`` (retryable) naming every way ``data`` misses ``schema``."""
    import jsonschema

    loose = {k: v for k, v in schema.items() if k != "additionalProperties"}
    validator = jsonschema.Draft202012Validator(loose)
    problems = sorted(
        f"{'/'.join(str(p) for p in error.absolute_path) or 'answer'}: {error.message}"
        for error in validator.iter_errors(dict(data))
    )
    if problems:
        raise LLMError("BAD_LLM_OUTPUT", "the model's answer does not fit: " + "; ".join(problems))
