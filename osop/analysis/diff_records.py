"""Run-vs-run diff of two ``.osoplog`` records.

Rows are node *executions* matched by (node id, occurrence): a node that looped
three times has three rows, and its retries stay inside the row as an attempt
count and the status of each attempt — nothing is collapsed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from osop.analysis.records import NodeExecution, executions_of
from osop.record.model import RunRecord

__all__ = ["Delta", "ExecutionDelta", "RecordDiff", "diff_records"]


@dataclass(frozen=True, slots=True)
class Delta:
    """A number in A and in B, with the absolute and relative change.

    Values that are not finite numbers (a record saying ``.inf``) count as absent.
    """

    a: float | None
    b: float | None

    def __post_init__(self) -> None:
        for name in ("a", "b"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                object.__setattr__(self, name, None)

    @property
    def absolute(self) -> float | None:
        if self.a is None or self.b is None:
            return None
        return self.b - self.a

    @property
    def percent(self) -> float | None:
        if self.a is None or self.b is None or self.a == 0:
            return None
        pct = (self.b - self.a) / self.a * 100.0
        # A base near zero (a cost of 1e-308) overflows: no percentage, not Infinity.
        return pct if math.isfinite(pct) else None

    @property
    def changed(self) -> bool:
        return self.a != self.b

    def to_dict(self) -> dict[str, Any]:
        pct = self.percent
        absolute = self.absolute
        return {
            "a": self.a,
            "b": self.b,
            "delta": None if absolute is None else round(absolute, 6),
            "delta_pct": None if pct is None else round(pct, 2),
        }


@dataclass(frozen=True, slots=True)
class ExecutionDelta:
    """One node execution compared across the two runs."""

    node_id: str
    occurrence: int
    status_a: str | None
    status_b: str | None
    attempts_a: tuple[str, ...]  # the status of each attempt
    attempts_b: tuple[str, ...]
    duration_ms: Delta
    cost_usd: Delta
    looped: bool

    @property
    def key(self) -> str:
        return (
            self.node_id
            if self.occurrence == 1 and not self.looped
            else (f"{self.node_id}#{self.occurrence}")
        )

    @property
    def retried(self) -> bool:
        return len(self.attempts_a) > 1 or len(self.attempts_b) > 1

    @property
    def only_in(self) -> str | None:
        if self.status_a is None:
            return "b"
        if self.status_b is None:
            return "a"
        return None

    @property
    def changed(self) -> bool:
        return (
            self.status_a != self.status_b
            or self.attempts_a != self.attempts_b
            or self.duration_ms.changed
            or self.cost_usd.changed
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "occurrence": self.occurrence,
            "looped": self.looped,
            "retried": self.retried,
            "only_in": self.only_in,
            "status": {"a": self.status_a, "b": self.status_b},
            "attempts": {"a": len(self.attempts_a), "b": len(self.attempts_b)},
            "attempt_statuses": {"a": list(self.attempts_a), "b": list(self.attempts_b)},
            "duration_ms": self.duration_ms.to_dict(),
            "cost_usd": self.cost_usd.to_dict(),
        }


@dataclass
class RecordDiff:
    """Two runs side by side: totals, per-execution rows, and warnings."""

    name_a: str
    name_b: str
    run_a: str
    run_b: str
    status: tuple[str, str]
    duration_ms: Delta
    cost_usd: Delta
    attempts: Delta
    rows: list[ExecutionDelta] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return (
            self.status[0] == self.status[1]
            and not self.duration_ms.changed
            and not self.cost_usd.changed
            and not any(r.changed for r in self.rows)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "record",
            "a": self.name_a,
            "b": self.name_b,
            "run_id": {"a": self.run_a, "b": self.run_b},
            "identical": self.identical,
            "warnings": self.warnings,
            "totals": {
                "status": {"a": self.status[0], "b": self.status[1]},
                "duration_ms": self.duration_ms.to_dict(),
                "cost_usd": self.cost_usd.to_dict(),
                "attempts": self.attempts.to_dict(),
            },
            "nodes": [r.to_dict() for r in self.rows],
        }


def _index(record: RunRecord) -> dict[tuple[str, int], NodeExecution]:
    return {(e.node_id, e.occurrence): e for e in executions_of(record)}


def _warnings(a: RunRecord, b: RunRecord) -> list[str]:
    out: list[str] = []
    if a.workflow_id != b.workflow_id:
        out.append(f"runs of different workflows: {a.workflow_id!r} vs {b.workflow_id!r}")
    if a.workflow_version != b.workflow_version:
        out.append(f"different workflow versions: {a.workflow_version!r} vs {b.workflow_version!r}")
    if a.workflow_hash and b.workflow_hash and a.workflow_hash != b.workflow_hash:
        out.append(
            f"different workflow_hash: the definition changed between the runs "
            f"({a.workflow_hash[:19]}… vs {b.workflow_hash[:19]}…)"
        )
    return out


def diff_records(a: RunRecord, b: RunRecord, name_a: str = "A", name_b: str = "B") -> RecordDiff:
    """Compare two runs execution by execution, plus totals."""
    index_a, index_b = _index(a), _index(b)
    looped = {k[0] for k in (*index_a, *index_b) if k[1] > 1}
    keys = list(index_a) + [k for k in index_b if k not in index_a]
    rows: list[ExecutionDelta] = []
    for key in keys:
        ea, eb = index_a.get(key), index_b.get(key)
        rows.append(
            ExecutionDelta(
                node_id=key[0],
                occurrence=key[1],
                status_a=ea.status if ea else None,
                status_b=eb.status if eb else None,
                attempts_a=tuple(r.status for r in ea.attempts) if ea else (),
                attempts_b=tuple(r.status for r in eb.attempts) if eb else (),
                duration_ms=Delta(ea.duration_ms if ea else None, eb.duration_ms if eb else None),
                cost_usd=Delta(ea.cost_usd if ea else None, eb.cost_usd if eb else None),
                looped=key[0] in looped,
            )
        )
    da, db = a.duration_seconds, b.duration_seconds
    return RecordDiff(
        name_a=name_a,
        name_b=name_b,
        run_a=a.run_id,
        run_b=b.run_id,
        status=(a.status, b.status),
        duration_ms=Delta(None if da is None else da * 1000.0, None if db is None else db * 1000.0),
        cost_usd=Delta(a.total_cost_usd, b.total_cost_usd),
        attempts=Delta(float(len(a.node_records)), float(len(b.node_records))),
        rows=rows,
        warnings=_warnings(a, b),
    )
