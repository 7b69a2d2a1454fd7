"""Tracing a run as it happens: an engine observer that turns journal entries into spans.

One trace per run: the run span (``osop.run <workflow>``) is the root — or the
child of the spawning node's span for a child run (W3C context through
:mod:`osop.telemetry.context`); every node attempt is a span under it, started
when the attempt starts and ended when it ends, with the journal's own
timestamps.  Waits, retries, answers (approvals) and delivered events are span
events.  The trace and run-span ids go into the run's first journal entry, so
the record carries them (``x-trace``), and a resumed run continues the same
trace.  Metrics: ``osop.node.duration`` (s), ``osop.node.attempts``,
``osop.cost`` (USD) and ``gen_ai.client.token.usage``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from osop.telemetry.context import current_traceparent, set_traceparent
from osop.telemetry.setup import Telemetry
from osop.telemetry.spans import finish_node_span, node_attributes, node_span_name, to_ns

__all__ = ["RunTracer", "tracing_observer"]

Observer = Callable[[dict[str, Any]], None]


class RunTracer:
    """Spans of one run (one per run; child runs get their own)."""

    def __init__(self, telemetry: Telemetry, run_id: str, state: Any) -> None:
        from opentelemetry import trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._trace = trace
        self._propagator = TraceContextTextMapPropagator()
        self.tel = telemetry
        self.tracer = telemetry.tracer
        self.run_id = run_id
        self.state = state
        self.run_span: Any = None
        self._run_context: Any = None
        self.spans: dict[tuple[Any, ...], Any] = {}
        self.last_error: dict[str, Any] = {}
        self.broken = False
        self.parent_traceparent = current_traceparent()
        self._metrics = self._instruments()

    def _instruments(self) -> dict[str, Any] | None:
        meter = self.tel.meter
        if meter is None:
            return None
        return {
            "duration": meter.create_histogram(
                "osop.node.duration", unit="s", description="Duration of node attempts"
            ),
            "attempts": meter.create_counter(
                "osop.node.attempts", unit="{attempt}", description="Node attempts"
            ),
            "cost": meter.create_counter("osop.cost", unit="USD", description="Cost of nodes"),
            "tokens": meter.create_histogram(
                "gen_ai.client.token.usage", unit="{token}", description="Tokens per attempt"
            ),
        }

    # -- entries ----------------------------------------------------------------------

    def __call__(self, entry: dict[str, Any]) -> None:
        handler = getattr(self, f"_on_{entry.get('t')}", None)
        if handler is None or self.broken:
            return
        try:
            handler(entry)
        except Exception:  # tracing must never break a run: stop tracing it, say so once
            self.broken = True
            logging.getLogger("osop.telemetry").warning(
                "tracing of run %s stopped after an error", self.run_id, exc_info=True
            )

    def _start_run(self, entry: dict[str, Any], parent: Any, name_suffix: str = "") -> None:
        meta = self.state.meta if self.state.meta else entry
        workflow = str(meta.get("workflow_id") or entry.get("workflow_id") or "")
        self.run_span = self.tracer.start_span(
            f"osop.run {workflow}{name_suffix}",
            context=parent,
            attributes={
                "osop.run_id": self.run_id,
                "osop.workflow.id": workflow,
                "osop.mode": str(meta.get("mode") or ""),
            },
            start_time=to_ns(entry.get("started_at") or entry.get("at")),
        )
        self._run_context = self._trace.set_span_in_context(self.run_span)
        ctx = self.run_span.get_span_context()
        if not self.state.meta.get("trace_id"):
            entry["trace_id"] = format(ctx.trace_id, "032x")
            entry["span_id"] = format(ctx.span_id, "016x")

    def _on_run(self, entry: dict[str, Any]) -> None:
        parent = None
        if self.parent_traceparent:
            parent = self._propagator.extract({"traceparent": self.parent_traceparent})
        self._start_run(entry, parent)

    def _on_resumed(self, entry: dict[str, Any]) -> None:
        from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

        meta = self.state.meta
        parent = None
        if meta.get("trace_id") and meta.get("span_id"):
            origin = SpanContext(
                trace_id=int(meta["trace_id"], 16),
                span_id=int(meta["span_id"], 16),
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
            parent = self._trace.set_span_in_context(NonRecordingSpan(origin))
        self._start_run(entry, parent, " (resumed)")

    def _key(self, entry: dict[str, Any]) -> tuple[Any, ...]:
        return (entry.get("node"), entry.get("attempt"), entry.get("iteration"))

    def _on_start(self, entry: dict[str, Any]) -> None:
        if self.run_span is None:
            return
        node_id, node_type = str(entry.get("node")), str(entry.get("node_type") or "")
        span = self.tracer.start_span(
            node_span_name(node_type, node_id),
            context=self._run_context,
            attributes=node_attributes(
                node_id, node_type, entry.get("attempt"), entry.get("iteration")
            ),
            start_time=to_ns(entry.get("at")),
        )
        attempt = entry.get("attempt")
        if isinstance(attempt, int) and attempt > 1:
            previous = self.last_error.get(node_id) or {}
            span.add_event(
                "retry",
                {"osop.attempt": attempt, "osop.previous_error": str(previous.get("code") or "")},
                timestamp=to_ns(entry.get("at")),
            )
        self.spans[self._key(entry)] = span
        # W3C traceparent of this attempt, for its api calls and child runs (written
        # directly: the propagator's generic path costs more than the span itself).
        sc = span.get_span_context()
        set_traceparent(f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{int(sc.trace_flags):02x}")

    def _on_wait(self, entry: dict[str, Any]) -> None:
        span = self.spans.pop(self._key(entry), None)
        if span is None:
            return
        attrs = {
            "osop.wait.kind": str(entry.get("kind") or ""),
            "osop.wait.name": str(entry.get("name") or ""),
        }
        if entry.get("prompt"):
            attrs["osop.wait.prompt"] = str(entry["prompt"])[:500]
        event = "approval_requested" if entry.get("kind") == "approval" else "wait"
        span.add_event(event, attrs, timestamp=to_ns(entry.get("at")))
        span.set_attribute("osop.status", "WAITING")
        span.end(end_time=to_ns(entry.get("at")))
        set_traceparent(None)

    def _on_answer(self, entry: dict[str, Any]) -> None:
        if self.run_span is not None:
            raw = entry.get("answer")
            answer: dict[str, Any] = raw if isinstance(raw, dict) else {}
            self.run_span.add_event(
                "approval" if "approved" in answer or "decision" in answer else "answer",
                {
                    "osop.node.id": str(entry.get("node") or ""),
                    "osop.decision": str(answer.get("decision", answer.get("approved", ""))),
                },
            )

    def _on_event(self, entry: dict[str, Any]) -> None:
        if self.run_span is not None:
            self.run_span.add_event("event", {"osop.event.name": str(entry.get("name") or "")})

    def _on_end(self, entry: dict[str, Any]) -> None:
        span = self.spans.pop(self._key(entry), None)
        if span is None:
            return
        node_id = str(entry.get("node"))
        if entry.get("error"):
            self.last_error[node_id] = entry["error"]
        end_ns = to_ns(entry.get("at"))
        finish_node_span(self.tracer, span, entry, end_ns)
        set_traceparent(None)
        self._measure(entry, span)

    def _measure(self, entry: dict[str, Any], span: Any) -> None:
        if self._metrics is None:
            return
        attrs = {
            "osop.workflow.id": str(self.state.meta.get("workflow_id") or ""),
            "osop.node.type": str(span.attributes.get("osop.node.type", "")),
            "osop.status": str(entry.get("status") or ""),
        }
        self._metrics["attempts"].add(1, attrs)
        if isinstance(entry.get("duration_ms"), int | float):
            self._metrics["duration"].record(entry["duration_ms"] / 1000.0, attrs)
        ai = entry.get("ai_metadata") or {}
        cost = entry.get("cost_usd", ai.get("cost_usd"))
        if isinstance(cost, int | float) and cost > 0:
            self._metrics["cost"].add(float(cost), attrs)
        model_attrs = {
            "gen_ai.provider.name": str(ai.get("provider") or ""),
            "gen_ai.request.model": str(ai.get("model") or ""),
        }
        for kind, key in (("input", "prompt_tokens"), ("output", "completion_tokens")):
            if isinstance(ai.get(key), int):
                self._metrics["tokens"].record(ai[key], {**model_attrs, "gen_ai.token.type": kind})

    def _close_run(self, entry: dict[str, Any], status: str) -> None:
        from opentelemetry.trace import Status, StatusCode

        if self.run_span is None:
            return
        for span in self.spans.values():  # attempts cut short (cancel): end them with the run
            span.end(end_time=to_ns(entry.get("at")))
        self.spans.clear()
        self.run_span.set_attribute("osop.status", status)
        if status in ("FAILED", "TIMED_OUT", "CANCELLED"):
            failure = self.state.failure or {}
            code = str((failure.get("error") or {}).get("code") or status)
            self.run_span.set_attribute("error.type", code)
            self.run_span.set_status(Status(StatusCode.ERROR, status))
        elif status == "COMPLETED":
            self.run_span.set_status(Status(StatusCode.OK))
        self.run_span.end(end_time=to_ns(entry.get("at")))
        self.run_span = None
        if not self.parent_traceparent:
            self.tel.flush()

    def _on_finished(self, entry: dict[str, Any]) -> None:
        self._close_run(entry, str(entry.get("status") or ""))

    def _on_paused(self, entry: dict[str, Any]) -> None:
        if self.run_span is not None:
            self.run_span.add_event("paused", {"osop.waiting": len(entry.get("waiting") or [])})
        self._close_run(entry, "PAUSED")


def tracing_observer(telemetry: Telemetry) -> Callable[[str, Any], Observer]:
    """A ``RunOptions.observers`` factory that traces every run (and child run)."""

    def factory(run_id: str, state: Any) -> Observer:
        return RunTracer(telemetry, run_id, state)

    return factory
