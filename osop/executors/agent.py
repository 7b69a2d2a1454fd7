"""The ``agent`` executor: one LLM call, its answer turned into outputs.

Provider: ``OSOP_LLM_PROVIDER`` (run environment, then process environment)
when set — so a whole workflow can be rehearsed with ``offline`` — else
``runtime.provider``, else ``offline``.  Providers come from
``ctx.services["llm_providers"]`` first, then the built-ins (``offline``,
``openai``/``openai-compatible``); any other name fails with ``NO_PROVIDER``.

Prompt: ``runtime.prompt`` (or ``user_prompt``/``instruction``), else the
node's ``purpose``/``description``/label, then ``explain.what`` and the
node's inputs as JSON.  ``runtime.system_prompt``, ``temperature``,
``max_tokens`` and ``pricing`` are passed on.

Outputs: with ``runtime.options``, the chosen option under ``runtime.output``
(else the first declared output, else ``decision``); with declared outputs
or ``runtime.output_schema``, the JSON object the model returns (every
declared name must be present); otherwise ``{text}``.  An answer that does not
fit fails with ``BAD_LLM_OUTPUT`` (retryable).  ``ai_metadata`` carries
model, provider, tokens and cost.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.executors.llm import Completion, OfflineProvider, OpenAICompatibleProvider, Provider

__all__ = ["AgentExecutor", "agent_prompt", "output_fields"]

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def _env(ctx: NodeContext, name: str) -> str | None:
    return ctx.env.get(name) or os.environ.get(name) or None


def agent_prompt(ctx: NodeContext) -> str:
    rt, node = ctx.runtime, ctx.node
    text = rt.get("prompt") or rt.get("user_prompt") or rt.get("instruction")
    parts = [str(text or node.purpose or node.description or node.label)]
    if isinstance(node.explain, Mapping) and node.explain.get("what"):
        parts.append(f"Details: {node.explain['what']}")
    if ctx.inputs:
        parts.append("Inputs:\n" + json.dumps(ctx.inputs, sort_keys=True, default=str))
    return "\n\n".join(parts)


def output_fields(ctx: NodeContext) -> dict[str, Any]:
    """Field name → schema the answer must provide (empty: free text)."""
    schema = ctx.runtime.get("output_schema")
    if isinstance(schema, Mapping):
        props = schema.get("properties")
        if isinstance(props, Mapping):
            return {str(k): v for k, v in props.items()}
        return {str(k): v for k, v in schema.items()}
    spec = ctx.node.outputs
    if isinstance(spec, list):
        fields: dict[str, Any] = {}
        for item in spec:
            if isinstance(item, str):
                fields[item] = "string"
            elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
                fields[item["name"]] = item.get("schema", item.get("type", "string"))
        return fields
    if isinstance(spec, Mapping):
        props = spec.get("properties")
        if spec.get("type") == "object" and isinstance(props, Mapping):
            return {str(k): v for k, v in props.items()}
        return {str(k): v for k, v in spec.items() if not str(k).startswith("x-")}
    return {}


def _provider(ctx: NodeContext, name: str) -> Provider:
    custom = ctx.services.get("llm_providers")
    if isinstance(custom, Mapping) and name in custom:
        provider: Provider = custom[name]
        return provider
    if name == "offline":
        return OfflineProvider()
    if name in ("openai", "openai-compatible", "openai_compatible"):
        rt = ctx.runtime
        return OpenAICompatibleProvider(
            api_key=str(rt["api_key"]) if rt.get("api_key") else _env(ctx, "OPENAI_API_KEY"),
            base_url=str(rt.get("endpoint") or rt.get("base_url") or "")
            or _env(ctx, "OPENAI_BASE_URL"),
            transport=ctx.services.get("http_transport"),
        )
    raise NodeFailure(
        "NO_PROVIDER",
        f"LLM provider {name!r} is not available; use provider 'openai' (any OpenAI-compatible "
        "endpoint) or 'offline', set OSOP_LLM_PROVIDER, or install a plug-in",
        retryable=False,
    )


def _choice(text: str, options: list[str]) -> str | None:
    answer = text.strip().strip(".\"'").lower()
    for option in options:
        if answer == option.lower():
            return option
    found = [o for o in options if re.search(rf"\b{re.escape(o.lower())}\b", answer)]
    return found[0] if len(found) == 1 else None


def _parse_object(text: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(_FENCE.sub("", text.strip()))
    except ValueError as exc:
        raise NodeFailure("BAD_LLM_OUTPUT", f"the model did not answer with JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise NodeFailure("BAD_LLM_OUTPUT", "the model's JSON answer is not an object")
    missing = [name for name in fields if name not in data]
    if missing:
        raise NodeFailure("BAD_LLM_OUTPUT", f"the model's answer lacks {', '.join(missing)}")
    return data


class AgentExecutor:
    node_type = "agent"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        rt = ctx.runtime
        name = str(_env(ctx, "OSOP_LLM_PROVIDER") or rt.get("provider") or "offline").lower()
        provider = _provider(ctx, name)
        model = str(rt.get("model") or ("offline" if name == "offline" else ""))
        if not model:
            raise NodeFailure(
                "NO_MODEL", "runtime.model is required for this provider", retryable=False
            )
        options = [str(o) for o in rt["options"]] if isinstance(rt.get("options"), list) else []
        fields = {} if options else output_fields(ctx)
        completion = await provider.complete(
            agent_prompt(ctx),
            model,
            system=rt.get("system_prompt"),
            temperature=rt.get("temperature"),
            max_tokens=rt.get("max_tokens"),
            options=options or None,
            fields=fields or None,
            pricing=rt.get("pricing"),
        )
        outputs = self._outputs(ctx, completion, options, fields)
        return NodeResult(
            outputs=outputs,
            ai_metadata={
                "model": completion.model,
                "provider": name,
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
                "cost_usd": completion.cost_usd,
            },
            cost_usd=completion.cost_usd,
            log=[
                f"{name}/{completion.model}: {completion.prompt_tokens} prompt + "
                f"{completion.completion_tokens} completion tokens"
            ],
        )

    def _outputs(
        self,
        ctx: NodeContext,
        completion: Completion,
        options: list[str],
        fields: Mapping[str, Any],
    ) -> dict[str, Any]:
        if options:
            choice = _choice(completion.text, options)
            if choice is None:
                raise NodeFailure(
                    "BAD_LLM_OUTPUT",
                    f"the model answered {completion.text[:80]!r}, not one of {', '.join(options)}",
                )
            declared = ctx.node.declared_outputs
            key = str(ctx.runtime.get("output") or (declared[0] if declared else "decision"))
            return {key: choice}
        if fields:
            return _parse_object(completion.text, fields)
        return {str(ctx.runtime.get("output") or "text"): completion.text}
