"""Past records as traces (``osop export --to otlp``), with their original timestamps.

Each record becomes one trace: a run span from ``started_at`` to ``ended_at``
and, under it, one span per node record (attempts and iterations apart), built
exactly as live tracing builds them (:mod:`osop.telemetry.spans`) — so an
imported agent session (``runtime.agent``) shows its model calls and tools the
same way.  A record that lacks an end time ends at its last node; a node
record without ``ended_at`` ends after ``duration_ms`` (else at its start).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from osop.record.model import NodeRecord, RunRecord
from osop.telemetry.setup import Telemetry
from osop.telemetry.spans import finish_node_span, node_attributes, node_span_name, to_ns

__all__ = ["export_records"]


def _node_fields(record: NodeRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {"status": record.status, "duration_ms": record.duration_ms}
    if record.error is not None:
        fields["error"] = {"code": record.error.code, "message": record.error.message}
    if record.ai_metadata:
        fields["ai_metadata"] = record.ai_metadata
    cost = record.extra.get("x-cost_usd", record.extra.get("cost_usd"))
    if cost is not None:
        fields["cost_usd"] = cost
    return fields


def _end_ns(record: NodeRecord, start: int | None) -> int | None:
    end = to_ns(record.ended_at)
    if end is None and start is not None:
        end = start + int((record.duration_ms or 0) * 1_000_000)
    return end


def _export_one(telemetry: Telemetry, run: RunRecord) -> None:
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    tracer = telemetry.tracer
    nodes = [(r, to_ns(r.started_at)) for r in run.node_records if r.node_id]
    starts = [s for _, s in nodes if s is not None]
    ends = [e for r, s in nodes if (e := _end_ns(r, s)) is not None]
    run_start = to_ns(run.started_at) or (min(starts) if starts else None)
    run_end = to_ns(run.ended_at) or (max(ends) if ends else run_start)
    agent = (run.runtime or {}).get("agent") if isinstance(run.runtime, dict) else None
    attrs: dict[str, Any] = {
        "osop.run_id": run.run_id,
        "osop.workflow.id": run.workflow_id,
        "osop.mode": run.mode or "",
        "osop.status": run.status,
        "osop.exported": True,
    }
    if agent:
        attrs["osop.agent"] = str(agent if isinstance(agent, str) else agent.get("name", agent))
    if run.cost:
        attrs["osop.cost_usd"] = run.total_cost_usd
    span = tracer.start_span(f"osop.run {run.workflow_id}", attributes=attrs, start_time=run_start)
    ctx = trace.set_span_in_context(span)
    opened: dict[str, Any] = {}
    for record, start in nodes:
        parent_id = record.extra.get("x-parent_node")
        parent = opened.get(str(parent_id)) if parent_id else None
        child = tracer.start_span(
            node_span_name(record.node_type, record.node_id),
            context=trace.set_span_in_context(parent) if parent is not None else ctx,
            attributes=node_attributes(
                record.node_id, record.node_type, record.attempt, record.iteration
            ),
            start_time=start,
        )
        opened[record.node_id] = child
        finish_node_span(tracer, child, _node_fields(record), _end_ns(record, start))
    if run.status in ("FAILED", "TIMED_OUT", "CANCELLED"):
        span.set_status(Status(StatusCode.ERROR, run.status))
    elif run.status == "COMPLETED":
        span.set_status(Status(StatusCode.OK))
    span.end(end_time=run_end)


def export_records(records: Iterable[RunRecord], telemetry: Telemetry) -> int:
    """Send each record as a trace through ``telemetry``; returns how many were sent."""
    count = 0
    for run in records:
        _export_one(telemetry, run)
        count += 1
    telemetry.flush()
    return count
