from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from osop.executors.base import NodeFailure
from osop.executors.data import DataExecutor

from .helpers import make_ctx, run

ORDERS = [
    {"id": 1, "total": 10, "status": "paid"},
    {"id": 2, "total": 25, "status": "open"},
    {"id": 3, "total": 5, "status": "paid"},
]


def transform(runtime: dict[str, Any], tmp_path: Path, **kw: Any) -> dict[str, Any]:
    node = {"id": "t", "type": "data", "runtime": runtime}
    kw.setdefault("outputs", {"fetch": {"orders": ORDERS}})
    return run(DataExecutor().execute(make_ctx(node, tmp_path, **kw))).outputs


def test_mapping_over_inputs_and_upstream_outputs(tmp_path: Path) -> None:
    outputs = transform(
        {
            "mapping": {
                "count": "size(outputs.fetch.orders)",
                "label": "inputs.prefix + '-' + string(qty)",
                "big": "outputs.fetch.orders.filter(o, o.total > 8).map(o, o.id)",
            }
        },
        tmp_path,
        inputs={"prefix": "batch", "qty": 3},
    )
    assert outputs == {"count": 3, "label": "batch-3", "big": [1, 2]}


def test_filter(tmp_path: Path) -> None:
    outputs = transform(
        {"operation": "filter", "source": "outputs.fetch.orders", "where": "item.status == 'paid'"},
        tmp_path,
    )
    assert [o["id"] for o in outputs["result"]] == [1, 3]


def test_map_with_output_name(tmp_path: Path) -> None:
    outputs = transform(
        {
            "operation": "map",
            "source": "outputs.fetch.orders",
            "expression": "item.total * 2",
            "output": "doubled",
        },
        tmp_path,
    )
    assert outputs == {"doubled": [20, 50, 10]}


@pytest.mark.parametrize(
    ("function", "expected"),
    [("count", 3), ("sum", 40), ("avg", 40 / 3), ("min", 5), ("max", 25)],
)
def test_aggregate_field(tmp_path: Path, function: str, expected: float) -> None:
    outputs = transform(
        {
            "operation": "aggregate",
            "source": "outputs.fetch.orders",
            "function": function,
            "field": "total",
        },
        tmp_path,
    )
    assert outputs["result"] == pytest.approx(expected)


def test_aggregate_expression_and_literal_list(tmp_path: Path) -> None:
    outputs = transform(
        {
            "operation": "aggregate",
            "source": [1, 2, 3],
            "function": "sum",
            "expression": "item * item",
        },
        tmp_path,
    )
    assert outputs["result"] == 14


def test_aggregate_empty_avg_is_null(tmp_path: Path) -> None:
    outputs = transform({"operation": "aggregate", "source": [], "function": "avg"}, tmp_path)
    assert outputs["result"] is None


def test_pick_and_merge(tmp_path: Path) -> None:
    picked = transform(
        {"operation": "pick", "source": "outputs.fetch.orders", "fields": ["id"]}, tmp_path
    )
    assert picked["result"] == [{"id": 1}, {"id": 2}, {"id": 3}]
    merged = transform(
        {"operation": "merge", "sources": ["inputs.a", "inputs.b"]},
        tmp_path,
        inputs={"a": {"x": 1, "y": 1}, "b": {"y": 2}},
    )
    assert merged["result"] == {"x": 1, "y": 2}


def test_mapping_sees_operation_result(tmp_path: Path) -> None:
    outputs = transform(
        {
            "operation": "filter",
            "source": "outputs.fetch.orders",
            "where": "item.total > 8",
            "mapping": {"n": "size(result)"},
        },
        tmp_path,
    )
    assert outputs["n"] == 2


@pytest.mark.parametrize(
    ("runtime", "code"),
    [
        ({"engine": "spark"}, "NO_TRANSFORM"),
        ({"operation": "explode", "source": []}, "BAD_RUNTIME"),
        ({"operation": "filter", "source": "inputs", "where": "true"}, "BAD_RUNTIME"),
        ({"mapping": {"x": "inputs.nope"}}, "EXPRESSION_ERROR"),
        ({"mapping": {"x": "1 +"}}, "EXPRESSION_ERROR"),
        ({"operation": "aggregate", "source": ["a"], "function": "sum"}, "BAD_DATA"),
    ],
)
def test_failures(tmp_path: Path, runtime: dict[str, Any], code: str) -> None:
    with pytest.raises(NodeFailure) as info:
        transform(runtime, tmp_path)
    assert info.value.code == code
    assert info.value.retryable is False
