"""Materialise a run's ``.osoplog`` from its state (itself rebuilt from the journal)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from osop.engine.state import RunState
from osop.engine.values import (
    RECORDED_UP_TO,
    classification_level,
    classified_summary,
    truncate_value,
)
from osop.record.model import NODE_RECORD_FIELDS, ErrorInfo, NodeRecord, RunRecord, parse_timestamp
from osop.record.writer import record_to_text

__all__ = ["RecordText", "build_record", "node_outputs", "result_summary"]

#: A run not yet ended is RUNNING, or PAUSED while it waits for a person or an
#: event with no process running it (docs/running.md, the record schema).
_RUN_STATUS_WHILE_OPEN = "RUNNING"
_RUN_STATUS_PAUSED = "PAUSED"


def open_status(state: RunState) -> str:
    """The record status of a run that has not ended."""
    return _RUN_STATUS_PAUSED if state.paused is not None else _RUN_STATUS_WHILE_OPEN


def result_summary(state: RunState, status: str) -> str:
    counts: dict[str, int] = {}
    for st in state.nodes.values():
        counts[st.status] = counts.get(st.status, 0) + 1
    parts = [f"{n} {s.lower().replace('_', ' ')}" for s, n in sorted(counts.items())]
    attempts = sum(1 for r in state.records if r["status"] != "SKIPPED")
    plural = "" if attempts == 1 else "s"
    text = f"{status}: " + ", ".join(parts) + f" ({attempts} attempt{plural})"
    if state.failure is not None:
        error = state.failure.get("error") or {}
        text += f"; failed at {state.failure.get('node')}: {error.get('message', '')}".rstrip(": ")
    if state.paused is not None:
        waits = ", ".join(
            f"{w.get('node')} ({w.get('kind')})" for w in state.paused.get("waiting", [])
        )
        text += f"; waiting for {waits}" if waits else ""
    return text


def node_outputs(state: RunState) -> dict[str, Any]:
    """Each node's latest outputs (classified ones summarised), for ``outputs.json``."""
    labels: dict[str, str] = {}
    for record in state.records:
        if record.get("x-classification"):
            labels[record["node_id"]] = str(record["x-classification"])
    out: dict[str, Any] = {}
    for nid, st in state.nodes.items():
        if not st.outputs:
            continue
        label = labels.get(nid)
        if label is not None and classification_level(label) > RECORDED_UP_TO:
            out[nid] = classified_summary(st.outputs, label)
        else:
            out[nid] = st.outputs
    return out


def _node_record(raw: dict[str, Any]) -> NodeRecord:
    error = raw.get("error")
    tools = raw.get("tools_used")
    return NodeRecord(
        node_id=str(raw["node_id"]),
        node_type=str(raw.get("node_type", "")),
        status=str(raw["status"]),
        attempt=int(raw.get("attempt", 1)),
        started_at=raw.get("started_at"),
        ended_at=raw.get("ended_at"),
        duration_ms=raw.get("duration_ms"),
        iteration=raw.get("iteration"),
        inputs=raw.get("inputs"),
        outputs=raw.get("outputs"),
        error=ErrorInfo(
            code=str(error["code"]) if error.get("code") is not None else None,
            message=str(error.get("message") or error.get("code") or "error"),
            details=error.get("details"),
        )
        if isinstance(error, dict)
        else None,
        ai_metadata=raw.get("ai_metadata"),
        human_metadata=raw.get("human_metadata"),
        tools_used=tuple(tools) if isinstance(tools, list) else (),
        extra={k: v for k, v in raw.items() if k not in NODE_RECORD_FIELDS},
    )


def _converted(raw: dict[str, Any]) -> tuple[NodeRecord, float | None]:
    """One attempt as the record holds it (values truncated or summarised), and its cost."""
    record = dict(raw)
    label = record.get("x-classification")
    classified = classification_level(label) > RECORDED_UP_TO
    for key in ("inputs", "outputs"):
        if key in record:
            value = record[key]
            record[key] = (
                classified_summary(value, str(label)) if classified else truncate_value(value)
            )
    cost = record.pop("cost_usd", None)
    ai = record.get("ai_metadata")
    if cost is None and isinstance(ai, dict):
        cost = ai.get("cost_usd")
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        if not isinstance(ai, dict) or "cost_usd" not in ai:
            record["x-cost_usd"] = cost
        return _node_record(record), cost
    return _node_record(record), None


def build_record(
    state: RunState,
    *,
    status: str | None = None,
    costs: dict[str, float] | None = None,
) -> RunRecord:
    """The record in the spec's form: one node record per attempt, values truncated.

    With ``costs`` (node → USD, already summed by :class:`RecordText`) the node
    records are left out: the caller has them.
    """
    meta = state.meta
    run_status = status or (state.status if state.finished else open_status(state))
    records: list[NodeRecord] = []
    cost_breakdown: dict[str, float] = {}
    if costs is not None:
        cost_breakdown = costs
    else:
        for raw in state.records:
            node_record, cost = _converted(raw)
            if cost is not None:
                node_id = node_record.node_id
                cost_breakdown[node_id] = cost_breakdown.get(node_id, 0.0) + cost
            records.append(node_record)
    if not records and costs is None:
        # The spec wants at least one record: before any node has started, the
        # run's entry nodes are listed as PENDING (ready, not started).
        records.extend(
            NodeRecord(
                node_id=str(node_id),
                node_type=str(node_type),
                status="PENDING",
                attempt=1,
                started_at=meta.get("started_at"),
            )
            for node_id, node_type in meta.get("entry") or ()
        )
    extra: dict[str, Any] = {}
    ended_at = (state.finished or {}).get("at")
    duration_ms = None
    if ended_at:
        start, end = parse_timestamp(meta.get("started_at")), parse_timestamp(ended_at)
        if start is not None and end is not None:
            duration_ms = round((end - start).total_seconds() * 1000.0, 3)
    variables = dict(meta.get("variables") or {})
    variables["inputs"] = meta.get("inputs") or {}
    if state.children:
        extra["x-child-runs"] = dict(state.children)
    if meta.get("parent_run_id"):
        extra["x-parent-run"] = {
            "run_id": meta["parent_run_id"],
            "node_id": meta.get("parent_node"),
        }
    if meta.get("trace_id"):
        extra["x-trace"] = {"trace_id": meta["trace_id"], "span_id": meta.get("span_id")}
    if state.messages:
        extra["x-messages"] = [truncate_value(m) for m in state.messages]
    if state.paused is not None:
        extra["x-waiting"] = state.paused.get("waiting", [])
    if state.failure is not None:
        extra["x-failure"] = state.failure
    if state.warnings:
        extra["x-warnings"] = list(state.warnings)
    return RunRecord(
        run_id=str(meta.get("run_id", "")),
        workflow_id=str(meta.get("workflow_id", "")),
        status=run_status,
        started_at=meta.get("started_at"),
        node_records=tuple(records),
        workflow_version=meta.get("workflow_version"),
        workflow_hash=meta.get("workflow_hash"),
        mode=meta.get("mode"),
        trigger=meta.get("trigger"),
        ended_at=ended_at,
        duration_ms=duration_ms,
        runtime=meta.get("runtime"),
        variables=truncate_value(variables),
        result_summary=result_summary(state, run_status),
        cost={
            "total_usd": round(sum(cost_breakdown.values()), 6),
            "breakdown": [
                {"node_id": nid, "cost_usd": round(value, 6)}
                for nid, value in sorted(cost_breakdown.items(), key=lambda kv: -kv[1])
            ],
        },
        extra=extra,
    )


#: Attempt statuses after which the engine no longer changes a node record.
_FINAL = frozenset({"COMPLETED", "FAILED", "SKIPPED", "TIMED_OUT", "CANCELLED"})
_SLOT = "\x00osop-node-records\x00"
_Done = tuple[dict[str, Any], tuple[Any, ...], str, str, float | None]


class RecordText:
    """The record's compact JSON, kept up to date one attempt at a time.

    A run of 100,000 nodes rewrites its record every few seconds while it runs.
    Converting and encoding every attempt again each time made long runs
    quadratic; here a finished attempt is converted and encoded once, and each
    write only joins the encoded attempts with the run-level fields, which are
    built afresh. The text is exactly ``record_to_text(build_record(state),
    "json", compact=True)``.
    """

    def __init__(self) -> None:
        # per attempt: (its raw record, what tells a change, its JSON, node id, cost);
        # None where the attempt was still open at the last write
        self._done: list[_Done | None] = []
        # per node: (its outputs object, its label, their JSON) for ``outputs.json``
        self._outputs: dict[str, tuple[Any, str | None, str]] = {}

    def outputs_text(self, state: RunState) -> str:
        """``json.dumps(node_outputs(state), ensure_ascii=False, default=str)``, each
        node's outputs encoded again only when they changed."""
        labels: dict[str, str] = {}
        for record in state.records:
            if record.get("x-classification"):
                labels[record["node_id"]] = str(record["x-classification"])
        cache = self._outputs
        items: list[str] = []
        for nid, st in state.nodes.items():
            outputs = st.outputs
            if not outputs:
                continue
            label = labels.get(nid)
            entry = cache.get(nid)
            if entry is None or entry[0] is not outputs or entry[1] != label:
                if label is not None and classification_level(label) > RECORDED_UP_TO:
                    value: Any = classified_summary(outputs, label)
                else:
                    value = outputs
                entry = cache[nid] = (
                    outputs,
                    label,
                    json.dumps(value, ensure_ascii=False, default=str),
                )
            items.append(json.dumps(nid, ensure_ascii=False) + ": " + entry[2])
        return "{" + ", ".join(items) + "}"

    def text(self, state: RunState, *, status: str | None = None) -> str:
        if not state.records:  # the PENDING placeholders: nothing to keep
            return record_to_text(build_record(state, status=status), "json", compact=True)
        done = self._done
        if len(done) > len(state.records):
            del done[len(state.records) :]
        else:
            done.extend([None] * (len(state.records) - len(done)))
        parts: list[str] = []
        costs: dict[str, float] = {}
        for index, raw in enumerate(state.records):
            mark = (raw.get("status"), raw.get("ended_at"), len(raw))
            entry = done[index]
            if entry is None or entry[0] is not raw or entry[1] != mark:
                node_record, cost = _converted(raw)
                entry = (raw, mark, _encode(node_record.to_dict()), node_record.node_id, cost)
                done[index] = entry if raw.get("status") in _FINAL else None
            parts.append(entry[2])
            if entry[4] is not None:
                costs[entry[3]] = costs.get(entry[3], 0.0) + entry[4]
        head = build_record(state, status=status, costs=costs).to_dict()
        return _joined(head, parts)

    def final_text(self, state: RunState, record: RunRecord) -> str:
        """The text of ``record`` (``build_record(state)``, the run paused or ended):
        the attempts encoded earlier are reused, the others encoded from ``record``;
        nothing is kept (no write follows in this session)."""
        if not state.records or len(record.node_records) != len(state.records):
            return record_to_text(record, "json", compact=True)
        done = self._done
        parts: list[str] = []
        for index, node_record in enumerate(record.node_records):
            entry = done[index] if index < len(done) else None
            raw = state.records[index]
            if (
                entry is None
                or entry[0] is not raw
                or entry[1] != (raw.get("status"), raw.get("ended_at"), len(raw))
            ):
                parts.append(_encode(node_record.to_dict()))
            else:
                parts.append(entry[2])
        self._done = []
        head = replace(record, node_records=()).to_dict()  # the run-level fields only
        return _joined(head, parts)


def _joined(head: dict[str, Any], parts: list[str]) -> str:
    """The record's text: its run-level fields with the node records already encoded."""
    head["node_records"] = _SLOT
    text = _encode(head)
    return text.replace(_encode(_SLOT), "[" + ",".join(parts) + "]", 1) + "\n"


def _encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
