"""Records as an OCEL 2.0 JSON object-centric event log.

Objects: ``run`` (one per record), ``node`` (one per workflow node), ``human``
(one per actor), ``model`` (one per LLM model), ``artifact`` (one per output
value of a node execution).  Events: one per attempt, typed by the node id (the
activity), at the attempt's end (its start when the end is unknown), with
status, attempt, start, duration and cost attributes, and qualified
relationships to the objects it touched: ``run``, ``node``, ``performed by``,
``uses model``, ``produces``.  Artifacts relate to their run (``part of``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from osop.analysis.export_common import attempt_times, format_time
from osop.record.model import RunRecord

__all__ = ["build_ocel", "write_ocel"]

MAX_VALUE = 200

_EVENT_ATTRIBUTES = [
    {"name": "status", "type": "string"},
    {"name": "attempt", "type": "integer"},
    {"name": "started_at", "type": "time"},
    {"name": "duration_ms", "type": "float"},
    {"name": "cost_usd", "type": "float"},
    {"name": "error", "type": "string"},
]
_OBJECT_TYPES = [
    {
        "name": "run",
        "attributes": [
            {"name": "workflow_id", "type": "string"},
            {"name": "workflow_version", "type": "string"},
            {"name": "status", "type": "string"},
            {"name": "mode", "type": "string"},
        ],
    },
    {
        "name": "node",
        "attributes": [
            {"name": "workflow_id", "type": "string"},
            {"name": "node_type", "type": "string"},
        ],
    },
    {"name": "human", "attributes": []},
    {"name": "model", "attributes": [{"name": "provider", "type": "string"}]},
    {
        "name": "artifact",
        "attributes": [{"name": "name", "type": "string"}, {"name": "value", "type": "string"}],
    },
]


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _attrs(time: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": k, "time": time, "value": v} for k, v in values.items() if v is not None]


def build_ocel(runs: Iterable[RunRecord]) -> dict[str, Any]:
    """The OCEL 2.0 document (plain data) for ``runs``."""
    objects: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    activities: dict[str, None] = {}
    epoch = "1970-01-01T00:00:00.000+00:00"

    def add_object(oid: str, otype: str, values: dict[str, Any]) -> None:
        if oid not in objects:
            objects[oid] = {"id": oid, "type": otype, "attributes": _attrs(epoch, values)}

    for run in runs:
        run_oid = f"run:{run.run_id}"
        add_object(
            run_oid,
            "run",
            {
                "workflow_id": run.workflow_id,
                "workflow_version": run.workflow_version,
                "status": run.status,
                "mode": run.mode,
            },
        )
        for index, record in enumerate(run.node_records):
            if record.status == "SKIPPED":
                continue
            times = attempt_times(record)
            moment = times.end or times.start
            if moment is None:
                continue
            activities[record.node_id] = None
            node_oid = f"node:{run.workflow_id}/{record.node_id}"
            add_object(
                node_oid, "node", {"workflow_id": run.workflow_id, "node_type": record.node_type}
            )
            relationships = [
                {"objectId": run_oid, "qualifier": "run"},
                {"objectId": node_oid, "qualifier": "node"},
            ]
            actor = (record.human_metadata or {}).get("actor")
            if actor:
                add_object(f"human:{actor}", "human", {})
                relationships.append({"objectId": f"human:{actor}", "qualifier": "performed by"})
            ai = record.ai_metadata or {}
            if ai.get("model"):
                model_oid = f"model:{ai['model']}"
                add_object(model_oid, "model", {"provider": ai.get("provider")})
                relationships.append({"objectId": model_oid, "qualifier": "uses model"})
            if isinstance(record.outputs, dict) and record.status == "COMPLETED":
                for key, value in record.outputs.items():
                    art = f"artifact:{run.run_id}/{record.node_id}#{record.attempt}/{key}"
                    add_object(art, "artifact", {"name": str(key), "value": _value(value)})
                    objects[art]["relationships"] = [{"objectId": run_oid, "qualifier": "part of"}]
                    relationships.append({"objectId": art, "qualifier": "produces"})
            error = None
            if record.error is not None:
                error = _value(
                    f"{record.error.code}: {record.error.message}"
                    if record.error.code
                    else record.error.message
                )
            values = {
                "status": record.status,
                "attempt": record.attempt,
                "started_at": format_time(times.start) if times.start else None,
                "duration_ms": float(record.duration_ms)
                if record.duration_ms is not None
                else None,
                "cost_usd": record.cost_usd,
                "error": error,
            }
            events.append(
                {
                    "id": f"{run.run_id}:{index}",
                    "type": record.node_id,
                    "time": format_time(moment),
                    "attributes": [
                        {"name": k, "value": v} for k, v in values.items() if v is not None
                    ],
                    "relationships": relationships,
                }
            )
    return {
        "objectTypes": _OBJECT_TYPES,
        "eventTypes": [{"name": a, "attributes": _EVENT_ATTRIBUTES} for a in activities],
        "objects": list(objects.values()),
        "events": events,
    }


def write_ocel(runs: Iterable[RunRecord], stream: TextIO) -> int:
    """Write the OCEL 2.0 JSON of ``runs``; returns the number of events."""
    document = build_ocel(runs)
    json.dump(document, stream, ensure_ascii=False)
    stream.write("\n")
    return len(document["events"])
