"""Materialise a run's ``.osoplog`` from its state (itself rebuilt from the journal)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import orjson

from osop.engine.state import RunState
from osop.engine.values import (
    RECORDED_UP_TO,
    classification_level,
    classified_summary,
    truncate_value,
)
from osop.record.model import (
    NODE_RECORD_FIELD_ORDER,
    NODE_RECORD_FIELDS,
    ErrorInfo,
    NodeRecord,
    RunRecord,
    parse_timestamp,
)
from osop.record.writer import record_to_text

__all__ = ["RecordText", "build_record", "node_outputs", "result_summary"]

#: A run not yet ended is RUNNING, or PAUSED while it waits for a person or an
#: event with no process running it (docs/running.md, the record schema).
_RUN_STATUS_WHILE_OPEN = "RUNNING"
_RUN_STATUS_PAUSED = "PAUSED"


def open_status(state: RunState) -> str:
    """The record status of a run that has not ended."""
    return _RUN_STATUS_PAUSED if state.paused is not None else _RUN_STATUS_WHILE_OPEN


def run_status(state: RunState) -> str:
    """The record status of a run as it stands (``build_record``'s)."""
    return state.status if state.finished else open_status(state)


def result_summary(state: RunState, status: str) -> str:
    counts: dict[str, int] = {}
    for st in state.nodes.values():
        counts[st.status] = counts.get(st.status, 0) + 1
    parts = [f"{n} {s.lower().replace('_', ' ')}" for s, n in sorted(counts.items())]
    attempts = sum(1 for r in state.records if r.status != "SKIPPED")
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
    return dict(_node_outputs(state))


def _node_outputs(state: RunState) -> Iterator[tuple[str, Any]]:
    """``node_outputs(state)``'s items, in order, one at a time."""
    labels: dict[str, str] = {}
    for record in state.records:
        # An Attempt's keys other than the usual ones are in its ``more``.
        if record.more is not None and record.more.get("x-classification"):
            labels[record["node_id"]] = str(record.more["x-classification"])
    for nid, st in state.nodes.items():
        if not st.outputs:
            continue
        label = labels.get(nid) if labels else None
        if label is not None and classification_level(label) > RECORDED_UP_TO:
            yield nid, classified_summary(st.outputs, label)
        else:
            yield nid, st.outputs


#: The ``extra`` of every node record that has none (shared: nothing changes a
#: record's ``extra`` in place; one empty dict per attempt was 64 bytes a node).
_NO_EXTRA: dict[str, Any] = {}


def _extra_and_cost(raw: Mapping[str, Any]) -> tuple[dict[str, Any] | None, float | None]:
    """An attempt's keys outside the spec's node-record fields, in order, then
    ``x-cost_usd`` when ``ai_metadata`` does not carry the cost; and that cost."""
    extra: dict[str, Any] | None = None
    cost = None
    for key, value in raw.items():
        if key == "cost_usd":
            cost = value
        elif key not in NODE_RECORD_FIELDS:
            if extra is None:
                extra = {}
            extra[key] = value
    ai = raw.get("ai_metadata")
    if cost is None and isinstance(ai, dict):
        cost = ai.get("cost_usd")
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        if not isinstance(ai, dict) or "cost_usd" not in ai:
            if extra is None:
                extra = {}
            extra["x-cost_usd"] = cost
    else:
        cost = None
    return extra, cost


def _converted(raw: Mapping[str, Any]) -> tuple[NodeRecord, float | None]:
    """One attempt as the record holds it (values truncated or summarised), and its cost.

    Its fields straight from the attempt (no copy of it first); ``extra`` holds
    the attempt's other keys in order, then ``x-cost_usd`` when ``ai_metadata``
    does not carry the cost.
    """
    label = raw.get("x-classification")
    classified = label is not None and classification_level(label) > RECORDED_UP_TO
    inputs = raw.get("inputs")
    if "inputs" in raw:
        inputs = classified_summary(inputs, str(label)) if classified else truncate_value(inputs)
    outputs = raw.get("outputs")
    if "outputs" in raw:
        outputs = classified_summary(outputs, str(label)) if classified else truncate_value(outputs)
    extra, cost = _extra_and_cost(raw)
    ai = raw.get("ai_metadata")
    error = raw.get("error")
    tools = raw.get("tools_used")
    node_record = NodeRecord(
        node_id=str(raw["node_id"]),
        node_type=str(raw.get("node_type", "")),
        status=str(raw["status"]),
        attempt=int(raw.get("attempt", 1)),
        started_at=raw.get("started_at"),
        ended_at=raw.get("ended_at"),
        duration_ms=raw.get("duration_ms"),
        iteration=raw.get("iteration"),
        inputs=inputs,
        outputs=outputs,
        error=ErrorInfo(
            code=str(error["code"]) if error.get("code") is not None else None,
            message=str(error.get("message") or error.get("code") or "error"),
            details=error.get("details"),
        )
        if isinstance(error, dict)
        else None,
        ai_metadata=ai,
        human_metadata=raw.get("human_metadata"),
        tools_used=tuple(tools) if isinstance(tools, list) else (),
        extra=extra or _NO_EXTRA,
    )
    return node_record, cost


def _row(raw: dict[str, Any]) -> tuple[dict[str, Any], float | None]:
    """``_converted(raw)``'s node record as ``NodeRecord.to_dict()`` gives it, and its
    cost, built straight from the attempt (no ``NodeRecord`` on the way: its frozen
    fields cost more than the rest of the conversion).  The record text is encoded
    from these rows; tests/engine/test_record_text.py holds them to the model's.
    """
    label = raw.get("x-classification")
    classified = label is not None and classification_level(label) > RECORDED_UP_TO
    out: dict[str, Any] = {
        "node_id": str(raw["node_id"]),
        "node_type": str(raw.get("node_type", "")),
        "attempt": int(raw.get("attempt", 1)),
        "status": str(raw["status"]),
        "started_at": raw.get("started_at"),
    }
    for key in _ROW_OPTIONAL:
        value = raw.get(key)
        if key == "inputs" or key == "outputs":
            if key not in raw:
                continue
            value = classified_summary(value, str(label)) if classified else truncate_value(value)
        if value is None:
            continue
        if key == "error":
            if not isinstance(value, dict):
                continue
            value = _error_dict(value)
        elif key == "tools_used":
            if not isinstance(value, list) or not value:
                continue
            value = list(value)
        out[key] = value
    extra, cost = _extra_and_cost(raw)
    if extra:
        out.update(extra)
    return out, cost


#: The row's first fields (always there), then the spec's optional ones in the
#: model's order; the rest of an attempt's keys follow as they come.
_ROW_OPTIONAL = NODE_RECORD_FIELD_ORDER[NODE_RECORD_FIELD_ORDER.index("ended_at") :]
_ROW_HEAD = ("node_id", "node_type", "attempt", "status", "started_at")
_OPTIONAL_RANK = {key: rank for rank, key in enumerate(_ROW_OPTIONAL)}


def _own_row_checks(keys: tuple[str, ...]) -> tuple[str, ...] | None:
    """For an attempt with these keys, in this order: the keys whose values
    :func:`_is_own_row` checks, or None when such an attempt is never its own row
    (a key the row drops, moves or rewrites, or keys out of the row's order)."""
    if keys[:5] != _ROW_HEAD:
        return None
    rank = -1
    for key in keys[5:]:
        here = _OPTIONAL_RANK.get(key)
        if here is None or here <= rank or key == "error":
            return None
        rank = here
    return keys[5:]


#: :func:`_own_row_checks` by an attempt's keys (a run has a few shapes of attempts).
_OWN_ROW_SHAPES: dict[tuple[str, ...], tuple[str, ...] | None] = {}
_UNSEEN: tuple[str, ...] = ("not seen yet",)
#: Node records encoded together in one part of the final record (one encoder call).
_ROWS_PER_PART = 256


def _is_own_row(raw: dict[str, Any]) -> bool:
    """Whether ``_row(raw)[0] == raw``, key order included: an attempt of plain
    values (the usual one) is its own row, which is not built again.

    Its first keys are the row's first ones, in order, of the types the row casts
    to; every other key is an optional field of the row, in the model's order,
    not None, its value as the row would hold it (inputs/outputs not truncated,
    tools a non-empty list; no error, which the row rewrites, and no key outside
    the spec's, which the row moves to its end).  Building the row was ~2 µs of
    the ~5 µs each node record cost at the end of a run (bench/bench_engine.py).
    """
    keys = tuple(raw)
    checks = _OWN_ROW_SHAPES.get(keys, _UNSEEN)
    if checks is _UNSEEN:
        checks = _own_row_checks(keys)
        if len(_OWN_ROW_SHAPES) < 256:
            _OWN_ROW_SHAPES[keys] = checks
    if checks is None:
        return False
    if (
        type(raw["node_id"]) is not str
        or type(raw["node_type"]) is not str
        or type(raw["attempt"]) is not int
        or type(raw["status"]) is not str
    ):
        return False
    for key in checks:
        value = raw[key]
        if value is None:
            return False
        if key == "outputs" or key == "inputs":
            if truncate_value(value) is not value:
                return False
        elif key == "tools_used" and (type(value) is not list or not value):
            return False
    return True


def _cost(raw: Mapping[str, Any]) -> float | None:
    """The cost ``_row(raw)`` gives, without making the row."""
    cost = raw.get("cost_usd")
    if cost is None:
        ai = raw.get("ai_metadata")
        if isinstance(ai, dict):
            cost = ai.get("cost_usd")
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        return cost
    return None


def _error_dict(error: dict[str, Any]) -> dict[str, Any]:
    """``ErrorInfo(...).to_dict()`` of an attempt's error, as ``_converted`` makes it."""
    out: dict[str, Any] = {
        "code": str(error["code"]) if error.get("code") is not None else None,
        "message": str(error.get("message") or error.get("code") or "error"),
    }
    details = error.get("details")
    if details is not None:
        out["details"] = details
    return out


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
    record_status = status or run_status(state)
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
        status=record_status,
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
        result_summary=result_summary(state, record_status),
        cost={
            "total_usd": round(sum(cost_breakdown.values()), 6),
            "breakdown": [
                {"node_id": nid, "cost_usd": round(value, 6)}
                for nid, value in sorted(cost_breakdown.items(), key=lambda kv: -kv[1])
            ],
        },
        extra=extra,
    )


_SLOT = "\x00osop-node-records\x00"


class RecordText:
    """The record's compact JSON while a run goes on and when it ends, as parts to
    write one after the other (never joined into one string).

    The parts are exactly ``record_to_text(build_record(state), "json",
    compact=True)``.  Nothing is kept between writes: a finished attempt's encoded
    record held for the next write cost more memory than the run's own state, and
    the writes are spaced by their cost instead (see ``_Session``), which keeps a
    long run linear.
    """

    def parts(self, state: RunState, *, status: str | None = None) -> list[str]:
        """The record of the run as it stands (encoded now: the state may change next)."""
        if not state.records:  # the PENDING placeholders
            return [record_to_text(build_record(state, status=status), "json", compact=True)]
        # Encoded _ROWS_PER_PART rows at a time, as in final_parts_of: a string per
        # row, held until the write, was ~55 B/node more (its header and pointer).
        encoded: list[str] = []
        costs: dict[str, float] = {}
        rows: list[dict[str, Any]] = []
        for attempt in state.records:
            raw = attempt.as_dict()  # an Attempt is not a dict: orjson encodes dicts
            if _is_own_row(raw):
                row, cost = raw, _cost(raw)
            else:
                row, cost = _row(raw)
            rows.append(row)
            if cost is not None:
                costs[row["node_id"]] = costs.get(row["node_id"], 0.0) + cost
            if len(rows) == _ROWS_PER_PART:
                encoded.append(("," if encoded else "") + _encode(rows)[1:-1])
                rows.clear()
        if rows:
            encoded.append(("," if encoded else "") + _encode(rows)[1:-1])
        head = build_record(state, status=status, costs=costs).to_dict()
        prefix, suffix = _around_node_records(head)
        encoded[0] = prefix + encoded[0]
        encoded[-1] += suffix
        return encoded

    def text(self, state: RunState, *, status: str | None = None) -> str:
        return "".join(self.parts(state, status=status))

    def outputs_text(self, state: RunState) -> str:
        """``json.dumps(node_outputs(state), ensure_ascii=False, default=str)``:
        :meth:`outputs_parts` joined."""
        return "".join(self.outputs_parts(state))

    def outputs_parts(self, state: RunState) -> list[str]:
        """:meth:`outputs_text` as parts to write one after the other, encoded
        :data:`_OUTPUTS_PER_PART` nodes at a time.

        A dict's JSON is its items' joined by ``", "``, in braces: so the text of
        a few nodes at a time, joined, is the same text.  The whole dict and the
        encoder's pieces for it were the run's memory peak, ~180 B/node over the
        state at its end (a 50k chain, tracemalloc); the joined text, and its
        copies on the way to the file, ~33 B/node more (a 100k chain, RSS).
        """
        parts: list[str] = []
        batch: dict[str, Any] = {}
        for nid, outputs in _node_outputs(state):
            batch[nid] = outputs
            if len(batch) == _OUTPUTS_PER_PART:
                parts.append((", " if parts else "{") + _OUTPUTS_JSON.encode(batch)[1:-1])
                batch = {}
        if batch:
            parts.append((", " if parts else "{") + _OUTPUTS_JSON.encode(batch)[1:-1])
        if not parts:
            return ["{}"]
        parts.append("}")
        return parts

    @staticmethod
    def final_parts_of(state: RunState) -> Iterator[str]:
        """The text of ``build_record(state)`` (the run paused or ended: its state no
        longer changes), encoded one node record at a time as the parts are
        written, straight from the attempts (no ``NodeRecord`` is made)."""
        if not state.records:  # the PENDING placeholders
            yield record_to_text(build_record(state), "json", compact=True)
            return
        costs: dict[str, float] = {}
        for raw in state.records:
            # An attempt's cost is in its ``more`` keys (``cost_usd``, ``ai_metadata``).
            cost = None if raw.more is None else _cost(raw.more)
            if cost is not None:
                node_id = str(raw["node_id"])
                costs[node_id] = costs.get(node_id, 0.0) + cost
        prefix, suffix = _around_node_records(build_record(state, costs=costs).to_dict())
        yield prefix
        # Encoded _ROWS_PER_PART rows at a time: a list's compact JSON is its items'
        # joined by commas, in brackets (one call of the encoder, one part to write).
        rows: list[dict[str, Any]] = []
        comma = ""
        for attempt in state.records:
            row = attempt.as_dict()  # an Attempt is not a dict: orjson encodes dicts
            rows.append(row if _is_own_row(row) else _row(row)[0])
            if len(rows) == _ROWS_PER_PART:
                yield comma + _encode(rows)[1:-1]
                rows.clear()
                comma = ","
        if rows:
            yield comma + _encode(rows)[1:-1]
        yield suffix

    @staticmethod
    def final_parts(record: RunRecord) -> Iterator[str]:
        """The text of ``record`` (the run paused or ended: its state no longer
        changes), encoded one node record at a time as the parts are written."""
        prefix, suffix = _around_node_records(replace(record, node_records=()).to_dict())
        if not record.node_records:
            yield prefix + suffix
            return
        yield prefix
        for index, node_record in enumerate(record.node_records):
            yield ("," if index else "") + _encode(node_record.to_dict())
        yield suffix


def _around_node_records(head: dict[str, Any]) -> tuple[str, str]:
    """The record's text before and after its node records (``head``: the run-level fields)."""
    head["node_records"] = _SLOT
    prefix, suffix = _encode(head).split(_encode(_SLOT), 1)
    return prefix + "[", "]" + suffix + "\n"


#: ``json.dumps(value, ensure_ascii=False, default=str)`` (``outputs.json``), built once.
_OUTPUTS_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
#: Nodes whose outputs are encoded together in :meth:`RecordText.outputs_parts`.
_OUTPUTS_PER_PART = 256
#: ``json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))``, built once
#: (``json.dumps`` with arguments builds a new encoder per call).
_JSON = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))
_INF = float("inf")
#: Containers :func:`_orjson_writes_alike` looks into before it gives up.
_WALK_LIMIT = 1 << 20
#: Every type a value must have for orjson to write it as ``_JSON`` does: subclasses,
#: datetimes and dataclasses are refused (they reach ``default`` there), and only
#: plain values get this far (:func:`_orjson_writes_alike`).
_ORJSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _orjson_writes_alike(value: Any) -> bool:
    """Whether orjson writes ``value`` byte for byte as the standard encoder does.

    True for dicts with string keys, lists, tuples, strings, integers, booleans,
    ``None`` and floats that both write the same way (not ``NaN``/``Infinity``,
    which orjson writes as ``null``, nor 0 < |x| < 1e-4, where Python writes
    ``1e-05`` and orjson ``0.00001``).  Anything else (a subclass, an enum, a
    datetime, an object written through ``default=str``) is False, and so is a
    value with more than :data:`_WALK_LIMIT` containers (a cycle never ends).
    """
    stack = [value]
    pop, push = stack.pop, stack.append
    budget = _WALK_LIMIT
    while stack:
        budget -= 1
        if budget < 0:
            return False
        item = pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is float:
            if 1e-4 <= abs(item) < _INF or item == 0.0:
                continue
            return False
        if kind is dict:
            for key, inner in item.items():
                if type(key) is not str:
                    return False
                inner_kind = type(inner)
                if inner_kind is not str and inner_kind is not int and inner is not None:
                    push(inner)
            continue
        if kind is list or kind is tuple:
            stack.extend(item)
            continue
        return False
    return True


def _encode(value: Any) -> str:
    """Compact JSON, as ``json.dumps(value, ensure_ascii=False, default=str,
    separators=(",", ":"))`` writes it: by orjson (several times faster) when it
    writes the very same bytes (:func:`_orjson_writes_alike`)."""
    if _orjson_writes_alike(value):
        try:
            return orjson.dumps(value, option=_ORJSON_OPTIONS).decode()
        except orjson.JSONEncodeError:  # nested deeper than orjson goes, a lone surrogate ...
            pass
    return _JSON.encode(value)
