"""Node records built from plain data without ``NodeRecord.__init__`` (records._node_record)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from osop.analysis.records import (
    _NODE_RECORD_SLOTS,
    NodeExecution,
    _node_record,
    executions_of,
    is_plain_node,
)
from osop.record.model import NodeRecord, record_from_dict


def test_every_field_of_node_execution_is_set() -> None:
    # executions_of sets these three by their slots' setters
    assert tuple(f.name for f in dataclasses.fields(NodeExecution)) == (
        "node_id",
        "occurrence",
        "attempts",
    )
    data = {**_BASE, "attempt": 1}
    record = record_from_dict({"run_id": "r", "workflow_id": "w", "node_records": [data]})
    (execution,) = executions_of(record)
    assert execution == NodeExecution("build", 1, record.node_records)
    assert repr(execution) == repr(NodeExecution("build", 1, record.node_records))


def test_every_field_of_node_record_is_set() -> None:
    assert tuple(f.name for f in dataclasses.fields(NodeRecord)) == _NODE_RECORD_SLOTS


_BASE = {
    "node_id": "build",
    "node_type": "cli",
    "attempt": 2,
    "status": "FAILED",
    "started_at": "2026-01-01T00:00:00.000Z",
}


@pytest.mark.parametrize(
    "more",
    [
        {},
        {"ended_at": "2026-01-01T00:00:01.000Z", "duration_ms": 1000},
        {"ended_at": None, "duration_ms": 12.5, "iteration": 3},
        {"error": {"code": 7, "message": "m", "details": {"a": 1}}},
        {"error": {"code": None}},
        {"error": {"message": None, "code": "E"}},
        {"inputs": {"x": 1}, "outputs": [1, 2]},
        {"ai_metadata": {"cost_usd": 0.1}, "human_metadata": {"who": "me"}},
        {"tools_used": []},
        {"tools_used": ["grep", {"name": "x"}]},
        {"custom": 1, "another": [None]},
    ],
)
def test_a_plain_node_record_is_the_record_read_leniently(more: dict[str, Any]) -> None:
    data = {**_BASE, **more}
    assert is_plain_node(data)
    built = _node_record(data)
    expected = record_from_dict({"run_id": "r", "workflow_id": "w", "node_records": [data]})
    assert built == expected.node_records[0]
    assert repr(built) == repr(expected.node_records[0])
    assert built.extra == {k: v for k, v in more.items() if k in ("custom", "another")}
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.status = "COMPLETED"  # type: ignore[misc]
