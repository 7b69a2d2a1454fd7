"""`osop stats` adds records of a known shape (each node once, one attempt each) by
C loops over their columns, with counts once per shape: the figures must be those of
the object path (`compute_stats`) byte for byte, for every odd record that takes
that way or leaves it."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from osop.analysis import stats
from osop.analysis.records import plain_record
from osop.analysis.stats import StatsAccumulator, compute_stats
from osop.record.model import record_from_dict

from .generator import generate
from .processes import REVIEW_STEPS, REVIEW_TREE, SYNTH_STEPS, SYNTH_TREE

#: a duration whose / 1000.0 * 1000.0 is another float (kept twice, not once)
ODD_FLOAT = next(x for x in (i / 8 for i in range(1, 100_000)) if x / 1000.0 * 1000.0 != x)


def _stamp(ms: float, suffix: str = "Z") -> str:
    seconds, milli = divmod(round(ms), 1000)
    minutes, seconds = divmod(seconds, 60)
    return f"2026-01-01T00:{minutes:02}:{seconds:02}.{milli:03}{suffix}"


def _record(rng: random.Random, number: int) -> dict[str, Any]:
    """Five nodes one after the other, each once, durations agreeing with the wall."""
    nodes = []
    at = 0.0
    for node_id, node_type in (
        ("a", "api"),
        ("b", "agent"),
        ("c", "human"),
        ("d", "cli"),
        ("e", "db"),
    ):
        wall = float(rng.randint(1, 900))
        nodes.append(
            {
                "node_id": node_id,
                "node_type": node_type,
                "attempt": 1,
                "status": "COMPLETED",
                "started_at": _stamp(at),
                "ended_at": _stamp(at + wall),
                "duration_ms": wall + rng.choice((0.0, 0.25, -0.4, 0.5)),
            }
        )
        at += wall
    rng.shuffle(nodes)  # file order is not the order of start
    return {
        "osoplog_version": "1.0",
        "run_id": f"run-{number}",
        "workflow_id": "shapes",
        "mode": "live",
        "status": "COMPLETED",
        "started_at": _stamp(0),
        "ended_at": _stamp(at),
        "node_records": nodes,
    }


def _node(record: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in record["node_records"] if n["node_id"] == node_id)


def _set(which: str, **fields: Any) -> Any:
    def change(record: dict[str, Any]) -> None:
        node = _node(record, which)
        for key, value in fields.items():
            if value is None:
                node.pop(key, None)
            else:
                node[key] = value

    return change


def _gap(node_id: str, gap: float) -> Any:
    """The node's duration `gap` ms off its wall time."""

    def change(record: dict[str, Any]) -> None:
        node = _node(record, node_id)
        wall = (plain_seconds(node["ended_at"]) - plain_seconds(node["started_at"])) * 1000.0
        node["duration_ms"] = round(wall) + gap

    return change


def plain_seconds(text: str) -> float:
    from osop.analysis.records import written_timestamp

    value = written_timestamp(text)
    assert value is not None
    return value


def _retry(record: dict[str, Any]) -> None:
    first = _node(record, "a")
    first.update(status="FAILED", error={"code": "E", "message": "m"})
    record["node_records"].append({**first, "attempt": 2, "status": "COMPLETED"})
    record["node_records"][-1].pop("error")


def _loop(record: dict[str, Any]) -> None:
    again = copy.deepcopy(_node(record, "d"))
    record["node_records"].append(again)


def _skip_first_of_breakdown(record: dict[str, Any]) -> None:
    record["cost"] = {
        "breakdown": [{"node_id": "d", "cost_usd": 0.5}, {"node_id": "a", "cost_usd": 0.25}]
    }
    _set("d", status="SKIPPED", ended_at=None, duration_ms=None)(record)


MUTATIONS: dict[str, Any] = {
    "plain": lambda r: None,
    "skipped": _set("d", status="SKIPPED", ended_at=None, duration_ms=None),
    "skipped-with-times": _set("e", status="SKIPPED"),
    "no-end": _set("a", ended_at=None),
    "no-duration": _set("a", duration_ms=None),
    "null-end": _set("a", ended_at=None),
    "naive": _set("a", started_at="2026-01-01T00:00:00", ended_at="2026-01-01T00:00:00.5"),
    "naive-and-aware": _set("a", started_at="2026-01-01T00:00:00"),
    "offset": _set("b", ended_at="2026-01-01T01:00:59.999+01:00"),
    "lower-z": _set("a", ended_at="2026-01-01T00:00:00.100z", duration_ms=100.0),
    "not-a-date": _set("a", started_at="not a time"),
    "no-such-day": _set("a", started_at="2026-02-30T00:00:00.000Z"),
    "microseconds": _set("a", started_at="2026-01-01T00:00:00.000250Z"),
    "int-duration": _set("e", duration_ms=7),
    "zero": _set("a", ended_at=_stamp(0), duration_ms=0.0),
    "negative-zero": _set("a", ended_at=_stamp(0), duration_ms=-0.0),
    "negative": _set("a", ended_at=_stamp(0), duration_ms=-0.5),
    "infinite": _set("a", duration_ms=float("inf")),
    "nan": _set("a", duration_ms=float("nan")),
    "kept-twice": _set(
        "a", started_at=_stamp(0), ended_at=_stamp(ODD_FLOAT), duration_ms=ODD_FLOAT
    ),
    "gap-0.95": _gap("a", 0.95),
    "gap--0.95": _gap("a", -0.95),
    "gap-0.9985": _gap("b", 0.9985),
    "gap-0.9995": _gap("b", 0.9995),
    "gap-1": _gap("b", 1.0),
    "gap--1.2": _gap("b", -1.2),
    "retry": _retry,
    "loop": _loop,
    "failed": _set("a", status="FAILED", error={"code": "E_NET", "message": "reset"}),
    "timed-out": _set("b", status="TIMED_OUT", error={"code": 7}),
    "bare-error": _set("d", status="FAILED", error={"message": "no code"}),
    "ai-cost": _set("b", ai_metadata={"cost_usd": 0.125, "model": "m"}),
    "cost-usd": _set("d", cost_usd=0.5),
    "bool-cost": _set("d", ai_metadata={"cost_usd": True}),
    "infinite-cost": _set("d", ai_metadata={"cost_usd": float("inf")}),
    "breakdown": lambda r: r.update(cost={"breakdown": [{"node_id": "a", "cost_usd": 0.5}]}),
    "breakdown-and-own": lambda r: (
        r.update(cost={"breakdown": [{"node_id": "b", "cost_usd": 0.5}]}),
        _set("b", ai_metadata={"cost_usd": 0.125})(r),
    ),
    "breakdown-skipped": _skip_first_of_breakdown,
    "total": lambda r: r.update(
        cost={"total_usd": 3, "breakdown": [{"node_id": "e", "cost_usd": 1}]}
    ),
    "human-response": _set("c", human_metadata={"response_time_ms": 900}),
    "human-bool": _set("c", human_metadata={"response_time_ms": True}),
    "human-float": _set("c", human_metadata={"response_time_ms": 12.5}),
    "separator": _set("e", node_id="e\x1fx"),
    "type-changes": _set("e", node_type="api"),
    "run-duration": lambda r: r.update(duration_ms=12345),
}


def _figures(records: list[dict[str, Any]]) -> tuple[str, str]:
    reference = [s.to_dict() for s in compute_stats(record_from_dict(r) for r in records)]
    acc = StatsAccumulator()
    for data in records:
        plain = plain_record(copy.deepcopy(data))
        acc.add_plain(plain)
    return json.dumps([s.to_dict() for s in acc.finish()]), json.dumps(reference)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_odd_records_among_shaped_ones(name: str) -> None:
    rng = random.Random(name)
    records = []
    for number in range(40):
        record = _record(rng, number)
        if number % 3 == 1:  # the odd one among records of its shape and of others
            MUTATIONS[name](record)
        records.append(record)
    assert all(plain_record(copy.deepcopy(r)).nodes is not None for r in records[::3])
    fast, reference = _figures(records)
    assert fast == reference


def test_shaped_records_take_the_shaped_way(monkeypatch: Any) -> None:
    """Records of one shape are added by it (the general way is not called), and the
    figures are the object path's; a record that leaves it is added the general way."""
    general: list[int] = []
    original = stats._WorkflowAccumulator._add_nodes

    def counted(self: Any, *args: Any) -> None:
        general.append(1)
        original(self, *args)

    monkeypatch.setattr(stats._WorkflowAccumulator, "_add_nodes", counted)
    rng = random.Random(3)
    records = [_record(rng, n) for n in range(30)]
    fast, reference = _figures(records)
    assert fast == reference and not general
    MUTATIONS["retry"](records[4])
    fast, reference = _figures(records)
    assert fast == reference and len(general) == 1


@pytest.mark.parametrize(
    ("tree", "steps"), [(REVIEW_TREE, REVIEW_STEPS), (SYNTH_TREE, SYNTH_STEPS)]
)
@pytest.mark.parametrize("shapes", [0, 1, 256])
def test_generated_records_with_few_shapes_kept(
    monkeypatch: Any, tree: Any, steps: Any, shapes: int
) -> None:
    """However many shapes are kept (none: every record the general way), and with
    rows handed to the nodes every few values, the figures are the same."""
    monkeypatch.setattr(stats, "_SHAPES", shapes)
    monkeypatch.setattr(stats, "_BLOCK", 64)
    records = generate(tree, steps, 300, seed=17).records
    fast, reference = _figures(records)
    assert fast == reference


@pytest.mark.parametrize("order", ["float-first", "int-first"])
@pytest.mark.parametrize("object_path_between", [False, True])
def test_an_int_equal_to_a_waiting_float_keeps_its_place(
    order: str, object_path_between: bool
) -> None:
    """A node's largest value is kept as it last came: a shaped record's 126.0, still
    waiting in its shape's rows, must not overtake a later record's 126 (added the
    node-by-node way), nor the other way round — also when the later one is added
    by the object path."""
    rng = random.Random(5)
    records = [_record(rng, n) for n in range(6)]
    for record in records:
        for node in record["node_records"]:  # every duration below the one compared
            node["duration_ms"] = 1.0
            node["ended_at"] = _stamp(plain_seconds(node["started_at"]) % 3600 * 1000 + 1)
    first, second = records[1], records[4]
    for record, value in ((first, 126.0), (second, 126)):
        node = _node(record, "a")
        start = plain_seconds(node["started_at"]) % 3600 * 1000
        node.update(ended_at=_stamp(start + 126), duration_ms=value)
    if order == "int-first":
        _node(first, "a")["duration_ms"], _node(second, "a")["duration_ms"] = 126, 126.0
    reference = json.dumps(
        [s.to_dict() for s in compute_stats(record_from_dict(r) for r in records)]
    )
    acc = StatsAccumulator()
    for number, data in enumerate(records):
        if object_path_between and number == 4:
            acc.add(record_from_dict(copy.deepcopy(data)))
        else:
            acc.add_plain(plain_record(copy.deepcopy(data)))
    fast = json.dumps([s.to_dict() for s in acc.finish()])
    assert fast == reference
    assert ('"max_duration_ms": 126.0' in fast) == (order == "int-first")
