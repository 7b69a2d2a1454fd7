"""How one node attempt becomes spans — shared by live tracing and ``export --to otlp``.

A node attempt is a span named ``<type> <node>`` (agent nodes:
``invoke_agent <node>``, per the GenAI semantic conventions) with ``osop.*``
attributes; its status is ERROR for FAILED/TIMED_OUT (``error.type`` = the
error code), OK for COMPLETED.  An agent attempt's ``ai_metadata`` adds
children with their own timestamps: one ``chat <model>`` span per model call
(``ai_metadata.turns``) and one ``execute_tool <tool>`` span per tool call
(``ai_metadata.tool_calls``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = [
    "agent_attributes",
    "emit_child_records",
    "emit_genai_children",
    "finish_node_span",
    "node_attributes",
    "node_span_name",
    "to_ns",
]

_ERROR_STATUSES = ("FAILED", "TIMED_OUT")


def to_ns(value: Any) -> int | None:
    """Nanoseconds since the epoch of an ISO-8601 timestamp (``Z`` accepted)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp() * 1_000_000) * 1000


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def agent_attributes(ai: Mapping[str, Any]) -> dict[str, Any]:
    """GenAI attributes of an agent attempt from its ``ai_metadata``."""
    provider = str(ai.get("provider") or "")
    cache_read, cache_write = (
        _int(ai.get("cache_read_tokens")),
        _int(ai.get("cache_creation_tokens")),
    )
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": provider,
        "gen_ai.system": provider,
        "gen_ai.request.model": str(ai.get("model") or ""),
        "gen_ai.response.model": str(ai.get("model") or ""),
        "gen_ai.usage.input_tokens": _int(ai.get("prompt_tokens", ai.get("input_tokens")))
        + cache_read
        + cache_write,
        "gen_ai.usage.output_tokens": _int(ai.get("completion_tokens", ai.get("output_tokens"))),
    }
    if cache_read:
        attrs["gen_ai.usage.cache_read.input_tokens"] = cache_read
    if cache_write:
        attrs["gen_ai.usage.cache_creation.input_tokens"] = cache_write
    if not provider:
        for key in ("gen_ai.provider.name", "gen_ai.system"):
            del attrs[key]
    if not ai.get("model"):
        for key in ("gen_ai.request.model", "gen_ai.response.model"):
            del attrs[key]
    if isinstance(ai.get("cost_usd"), int | float):
        attrs["osop.cost_usd"] = float(ai["cost_usd"])
    if isinstance(ai.get("confidence"), int | float):
        attrs["osop.confidence"] = float(ai["confidence"])
    return attrs


def emit_genai_children(tracer: Any, parent: Any, ai: Mapping[str, Any]) -> None:
    """``chat`` and ``execute_tool`` spans under ``parent`` (a span), with recorded times."""
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    ctx = trace.set_span_in_context(parent)
    provider = str(ai.get("provider") or "")
    model = str(ai.get("model") or "")
    for turn in ai.get("turns") or []:
        if not isinstance(turn, Mapping):
            continue
        cached = _int(turn.get("cache_read_tokens")) + _int(turn.get("cache_creation_tokens"))
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider,
            "gen_ai.system": provider,
            "gen_ai.request.model": model,
            "gen_ai.usage.input_tokens": _int(turn.get("input_tokens")) + cached,
            "gen_ai.usage.output_tokens": _int(turn.get("output_tokens")),
        }
        if turn.get("finish_reason"):
            attrs["gen_ai.response.finish_reasons"] = [str(turn["finish_reason"])]
        if turn.get("response_id"):
            attrs["gen_ai.response.id"] = str(turn["response_id"])
        span = tracer.start_span(
            f"chat {model}",
            context=ctx,
            kind=trace.SpanKind.CLIENT,
            attributes=attrs,
            start_time=to_ns(turn.get("started_at")),
        )
        span.end(end_time=to_ns(turn.get("ended_at")))
    for call in ai.get("tool_calls") or []:
        if not isinstance(call, Mapping):
            continue
        attrs = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": str(call.get("tool") or ""),
            "gen_ai.tool.call.id": str(call.get("id") or ""),
            "gen_ai.tool.type": "function",
            "osop.tool.status": str(call.get("status") or ""),
        }
        span = tracer.start_span(
            f"execute_tool {call.get('tool')}",
            context=ctx,
            kind=trace.SpanKind.INTERNAL,
            attributes=attrs,
            start_time=to_ns(call.get("started_at")),
        )
        if call.get("status") not in (None, "ok"):
            span.set_attribute("error.type", str(call.get("status")))
            span.set_status(
                Status(StatusCode.ERROR, str(call.get("result") or call.get("error") or ""))
            )
        span.end(end_time=to_ns(call.get("ended_at")))


def finish_node_span(tracer: Any, span: Any, fields: Mapping[str, Any], end_ns: int | None) -> None:
    """Attributes, status and GenAI children of an attempt from its end entry or record."""
    from opentelemetry.trace import Status, StatusCode

    status = str(fields.get("status") or "")
    attrs: dict[str, Any] = {"osop.status": status}
    if isinstance(fields.get("duration_ms"), int | float):
        attrs["osop.duration_ms"] = float(fields["duration_ms"])
    error = fields.get("error")
    if isinstance(error, str):
        error = {"message": error}
    ai = fields.get("ai_metadata")
    if isinstance(ai, Mapping) and ai:
        attrs.update(agent_attributes(ai))
        emit_genai_children(tracer, span, ai)
    if fields.get("children"):
        emit_child_records(tracer, span, fields["children"])
    cost = fields.get("cost_usd", fields.get("x-cost_usd"))
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        attrs["osop.cost_usd"] = float(cost)
    if status in _ERROR_STATUSES or status == "CANCELLED":
        code = str((error or {}).get("code") or status)
        attrs["error.type"] = code
        span.set_status(Status(StatusCode.ERROR, f"{code}: {(error or {}).get('message', '')}"))
    elif status == "COMPLETED":
        span.set_status(Status(StatusCode.OK))
    span.set_attributes(attrs)
    span.end(end_time=end_ns)


def emit_child_records(tracer: Any, parent: Any, children: Any) -> None:
    """Spans of the agents a multi-agent attempt ran (its child records), under ``parent``."""
    from opentelemetry import trace

    ctx = trace.set_span_in_context(parent)
    for child in children or ():
        if not isinstance(child, Mapping):
            continue
        start = to_ns(child.get("started_at"))
        span = tracer.start_span(
            node_span_name("agent", str(child.get("node_id"))),
            context=ctx,
            attributes=node_attributes(
                str(child.get("node_id")), "agent", child.get("attempt"), child.get("iteration")
            ),
            start_time=start,
        )
        finish_node_span(tracer, span, child, to_ns(child.get("ended_at")))


def node_span_name(node_type: str, node_id: str) -> str:
    return f"invoke_agent {node_id}" if node_type == "agent" else f"{node_type} {node_id}"


def node_attributes(node_id: str, node_type: str, attempt: Any, iteration: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "osop.node.id": node_id,
        "osop.node.type": node_type,
        "osop.attempt": _int(attempt) or 1,
    }
    if node_type == "agent":
        attrs["gen_ai.operation.name"] = "invoke_agent"
        attrs["gen_ai.agent.name"] = node_id
    if isinstance(iteration, int):
        attrs["osop.iteration"] = iteration
    return attrs
