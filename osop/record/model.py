"""The typed model of an ``.osoplog`` execution record (binding §6).

Records written by other tools differ: ``error`` may be a plain string,
``TIMEOUT`` may stand for ``TIMED_OUT``, ``attempt`` may be missing.  They are
read leniently (with notes the validator reports) and always written exactly
in the spec's form by :meth:`RunRecord.to_dict`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from osop.diagnostics import Issue, join_pointer
from osop.format.workflow import extensions_of

__all__ = [
    "NODE_RECORD_FIELDS",
    "OSOPLOG_VERSION",
    "ErrorInfo",
    "NodeRecord",
    "RunRecord",
    "normalise_status",
    "parse_timestamp",
    "record_from_dict",
]

OSOPLOG_VERSION = "1.0"

_STATUS_ALIASES = {
    "TIMEOUT": "TIMED_OUT",
    "TIMEDOUT": "TIMED_OUT",
    "SUCCESS": "COMPLETED",
    "SUCCEEDED": "COMPLETED",
    "DONE": "COMPLETED",
    "FAILURE": "FAILED",
    "ERROR": "FAILED",
    "CANCELED": "CANCELLED",
    "SKIP": "SKIPPED",
}


def normalise_status(value: Any) -> str:
    """Upper-case status with the aliases other tools write mapped to the spec's names."""
    if not isinstance(value, str):
        return ""  # a number, a mapping ...: no status at all
    text = value.strip().upper().replace("-", "_").replace(" ", "_")
    return _STATUS_ALIASES.get(text, text)


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 (``Z`` accepted) to an aware datetime; ``None`` when absent or unreadable."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    code: str | None
    message: str
    details: Any = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            out["details"] = self.details
        return out


def _error_from(value: Any) -> ErrorInfo | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        message = value.get("message")
        return ErrorInfo(
            code=str(value["code"]) if value.get("code") is not None else None,
            message=str(message) if message is not None else str(value.get("code") or "error"),
            details=value.get("details"),
        )
    return ErrorInfo(code=None, message=str(value))


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """One attempt of one node (retries and loop iterations each get their own)."""

    node_id: str
    node_type: str
    status: str
    attempt: int = 1
    started_at: str | None = None
    ended_at: str | None = None
    duration_ms: float | None = None
    iteration: int | None = None
    inputs: Any = None
    outputs: Any = None
    error: ErrorInfo | None = None
    ai_metadata: dict[str, Any] | None = None
    human_metadata: dict[str, Any] | None = None
    tools_used: tuple[Any, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cost_usd(self) -> float:
        ai = self.ai_metadata or {}
        value = ai.get("cost_usd")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        value = self.extra.get("cost_usd")
        return float(value) if isinstance(value, int | float) else 0.0

    @property
    def duration_seconds(self) -> float | None:
        if self.duration_ms is not None:
            return self.duration_ms / 1000.0
        start, end = parse_timestamp(self.started_at), parse_timestamp(self.ended_at)
        if start is not None and end is not None:
            return (end - start).total_seconds()
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "node_id": self.node_id,
            "node_type": self.node_type,
            "attempt": self.attempt,
            "status": self.status,
            "started_at": self.started_at,
        }
        if self.ended_at is not None:
            out["ended_at"] = self.ended_at
        if self.duration_ms is not None:
            out["duration_ms"] = self.duration_ms
        if self.iteration is not None:
            out["iteration"] = self.iteration
        if self.inputs is not None:
            out["inputs"] = self.inputs
        if self.outputs is not None:
            out["outputs"] = self.outputs
        if self.error is not None:
            out["error"] = self.error.to_dict()
        if self.ai_metadata is not None:
            out["ai_metadata"] = self.ai_metadata
        if self.human_metadata is not None:
            out["human_metadata"] = self.human_metadata
        if self.tools_used:
            out["tools_used"] = list(self.tools_used)
        out.update(self.extra)
        return out


#: The spec's node-record fields in the order the record writes its optional ones;
#: anything else is kept in ``NodeRecord.extra``.
NODE_RECORD_FIELD_ORDER = (
    "node_id",
    "node_type",
    "status",
    "attempt",
    "started_at",
    "ended_at",
    "duration_ms",
    "iteration",
    "inputs",
    "outputs",
    "error",
    "ai_metadata",
    "human_metadata",
    "tools_used",
)
NODE_RECORD_FIELDS = frozenset(NODE_RECORD_FIELD_ORDER)


@dataclass(frozen=True)
class RunRecord:
    """A whole ``.osoplog``: one execution of one workflow."""

    run_id: str
    workflow_id: str
    status: str
    started_at: str | None
    node_records: tuple[NodeRecord, ...]
    osoplog_version: str = OSOPLOG_VERSION
    workflow_version: str | None = None
    workflow_hash: str | None = None
    mode: str | None = None
    trigger: dict[str, Any] | None = None
    ended_at: str | None = None
    duration_ms: float | None = None
    runtime: dict[str, Any] | None = None
    variables: dict[str, Any] | None = None
    result_summary: str | None = None
    cost: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    notes: tuple[Issue, ...] = ()

    @property
    def total_cost_usd(self) -> float:
        if self.cost and isinstance(self.cost.get("total_usd"), int | float):
            return float(self.cost["total_usd"])
        return sum(r.cost_usd for r in self.node_records)

    @property
    def duration_seconds(self) -> float | None:
        if self.duration_ms is not None:
            return self.duration_ms / 1000.0
        start, end = parse_timestamp(self.started_at), parse_timestamp(self.ended_at)
        if start is not None and end is not None:
            return (end - start).total_seconds()
        return None

    def records_for(self, node_id: str) -> tuple[NodeRecord, ...]:
        return tuple(r for r in self.node_records if r.node_id == node_id)

    def to_dict(self) -> dict[str, Any]:
        """The record in the spec's exact form (what we write)."""
        out: dict[str, Any] = {
            "osoplog_version": self.osoplog_version,
            "run_id": self.run_id,
            "workflow_id": self.workflow_id,
        }
        for key in ("workflow_version", "workflow_hash", "mode"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["status"] = self.status
        if self.trigger is not None:
            out["trigger"] = self.trigger
        out["started_at"] = self.started_at
        if self.ended_at is not None:
            out["ended_at"] = self.ended_at
        if self.duration_ms is not None:
            out["duration_ms"] = self.duration_ms
        if self.runtime is not None:
            out["runtime"] = self.runtime
        out["node_records"] = [r.to_dict() for r in self.node_records]
        if self.variables is not None:
            out["variables"] = self.variables
        if self.result_summary is not None:
            out["result_summary"] = self.result_summary
        if self.cost is not None:
            out["cost"] = self.cost
        out.update(self.extra)
        return out


_RUN_FIELDS = {
    "osoplog_version",
    "run_id",
    "workflow_id",
    "workflow_version",
    "workflow_hash",
    "mode",
    "status",
    "trigger",
    "started_at",
    "ended_at",
    "duration_ms",
    "runtime",
    "node_records",
    "variables",
    "result_summary",
    "cost",
}


#: Larger magnitudes are not durations or costs but damage: read as absent.
_MAX_MAGNITUDE = 1e300


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int):
        return value if abs(value) < _MAX_MAGNITUDE else None
    return value if math.isfinite(value) and abs(value) < _MAX_MAGNITUDE else None


def _node_record_from(data: Mapping[str, Any], index: int, notes: list[Issue]) -> NodeRecord:
    pointer = join_pointer("/node_records", index)
    status_raw = data.get("status")
    status = normalise_status(status_raw)
    if isinstance(status_raw, str) and status_raw != status:
        notes.append(
            Issue(
                "warning",
                "log/legacy-status",
                f"status {status_raw!r} read as {status!r}",
                pointer=join_pointer(pointer, "status"),
            )
        )
    attempt = data.get("attempt")
    if not isinstance(attempt, int) or isinstance(attempt, bool):
        notes.append(
            Issue(
                "warning",
                "log/missing-attempt",
                "node record has no `attempt`; treated as 1",
                pointer=pointer,
            )
        )
        attempt = 1
    error = data.get("error")
    if isinstance(error, str):
        notes.append(
            Issue(
                "warning",
                "log/string-error",
                "`error` is a plain string; read as {message: ...}",
                pointer=join_pointer(pointer, "error"),
            )
        )
    iteration = data.get("iteration")
    tools = data.get("tools_used")
    return NodeRecord(
        node_id=str(data.get("node_id", "")),
        node_type=str(data.get("node_type", "")),
        status=status,
        attempt=attempt,
        started_at=_text_or_none(data.get("started_at")),
        ended_at=_text_or_none(data.get("ended_at")),
        duration_ms=_number(data.get("duration_ms")),
        iteration=iteration if isinstance(iteration, int) else None,
        inputs=data.get("inputs"),
        outputs=data.get("outputs"),
        error=_error_from(error),
        ai_metadata=dict(data["ai_metadata"])
        if isinstance(data.get("ai_metadata"), Mapping)
        else None,
        human_metadata=dict(data["human_metadata"])
        if isinstance(data.get("human_metadata"), Mapping)
        else None,
        tools_used=tuple(tools) if isinstance(tools, list) else (),
        extra={k: v for k, v in data.items() if k not in NODE_RECORD_FIELDS},
    )


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def record_from_dict(data: Mapping[str, Any]) -> RunRecord:
    """Build the model from plain data leniently; never raises on odd shapes."""
    notes: list[Issue] = []
    raw_records = data.get("node_records")
    records = tuple(
        _node_record_from(r, i, notes)
        for i, r in enumerate(raw_records if isinstance(raw_records, list) else [])
        if isinstance(r, Mapping)
    )
    status_raw = data.get("status")
    status = normalise_status(status_raw)
    if isinstance(status_raw, str) and status_raw != status:
        notes.append(
            Issue(
                "warning",
                "log/legacy-status",
                f"status {status_raw!r} read as {status!r}",
                pointer="/status",
            )
        )

    def mapping(key: str) -> dict[str, Any] | None:
        value = data.get(key)
        return dict(value) if isinstance(value, Mapping) else None

    return RunRecord(
        run_id=str(data.get("run_id", "")),
        workflow_id=str(data.get("workflow_id", "")),
        status=status,
        started_at=_text_or_none(data.get("started_at")),
        node_records=records,
        osoplog_version=str(data.get("osoplog_version", OSOPLOG_VERSION)),
        workflow_version=_text_or_none(data.get("workflow_version")),
        workflow_hash=_text_or_none(data.get("workflow_hash")),
        mode=_text_or_none(data.get("mode")),
        trigger=mapping("trigger"),
        ended_at=_text_or_none(data.get("ended_at")),
        duration_ms=_number(data.get("duration_ms")),
        runtime=mapping("runtime"),
        variables=mapping("variables"),
        result_summary=_text_or_none(data.get("result_summary")),
        cost=mapping("cost"),
        extra={k: v for k, v in data.items() if k not in _RUN_FIELDS} | extensions_of(data),
        notes=tuple(notes),
    )
