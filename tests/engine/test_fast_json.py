"""The fast encoders and readers of the engine give exactly what the standard library
gives: the record's compact JSON (orjson where it writes the same bytes) and the
journal read back (orjson where it reads the same values)."""

from __future__ import annotations

import enum
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from osop.engine.journal import read_journal
from osop.engine.recording import _encode


def _standard(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


class Colour(enum.Enum):
    RED = 1


class Level(enum.IntEnum):
    LOW = 1


class Name(str):
    pass


class Ratio(float):
    pass


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e-3, max_value=1e-3),
    st.text(),
    st.sampled_from([Colour.RED, Level.LOW, Name("n"), Ratio(1.5), Ratio(1e-7), b"x"]),
)
_KEYS = st.one_of(st.text(), st.integers(), st.booleans(), st.none(), st.floats())
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_KEYS, inner, max_size=4),
        st.dictionaries(st.text(), inner, max_size=4),
    ),
    max_leaves=20,
)


def _same_text(value: Any) -> None:
    try:
        expected = _standard(value)
    except (TypeError, ValueError) as exc:
        try:
            _encode(value)
        except type(exc):
            return
        raise AssertionError(
            f"the standard encoder refuses {value!r}, the fast one writes it"
        ) from None
    assert _encode(value) == expected


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_the_record_encoder_writes_what_json_dumps_writes(value: Any) -> None:
    _same_text(value)


def test_the_values_where_orjson_writes_differently_are_written_as_json_does() -> None:
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    deep: Any = "leaf"
    for _ in range(300):  # deeper than orjson writes
        deep = [deep]
    for value in [
        {"a": 1e-05},
        {"a": -3.5e-07},
        {"a": math.nan, "b": math.inf, "c": -math.inf},
        {"a": 2**64, "b": -(2**63) - 1},
        {"a": Colour.RED, "b": Level.LOW, "c": Name("x"), "d": Ratio(0.5)},
        {2: "int key", True: "bool key", None: "none key", 1.5: "float key"},
        {"a": "\ud800 lone surrogate"},
        {"a": "é ü \u2028 \x00 \x1f \x7f 😀"},
        deep,
        [0.0001, 0.001, 1e16, 1e22, 5e-324, -0.0, 0.1, 1 / 3],
    ]:
        _same_text(value)
    try:
        _encode(cycle)
    except ValueError as exc:
        assert "Circular" in str(exc)
    else:
        raise AssertionError("a cycle was written")


_JSON_LINES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner)),
    max_leaves=15,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(st.text(), _JSON_LINES, min_size=1), min_size=1, max_size=5))
def test_a_journal_reads_back_as_json_loads_reads_it(
    tmp_path_factory: Any, entries: list[dict[str, Any]]
) -> None:
    path: Path = tmp_path_factory.mktemp("journal") / "journal.jsonl"
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    expected = [json.loads(line) for line in text.split("\n") if line]
    assert repr(read_journal(path)) == repr(expected)


def test_journal_lines_orjson_reads_differently_are_read_as_json_reads_them(
    tmp_path: Path,
) -> None:
    lines = [
        b'{"t":"a","n":-9223372036854775809}',
        b'{"t":"b","n":NaN,"i":Infinity,"big":1e400}',
        b'{"t":"c","s":"\\ud800"}',
        b'{"t":"d","k":1,"k":2}',
        b'{"t":"e","f":0.1,"g":1E2,"h":-0.0}',
    ]
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    expected = [json.loads(line.decode()) for line in lines]
    assert repr(read_journal(path)) == repr(expected)
    # one long digit run anywhere: the whole journal is read by json
    path.write_bytes(b'{"t":"x","n":123}\n{"t":"y","n":-99999999999999999999}\n')
    assert read_journal(path) == [{"t": "x", "n": 123}, {"t": "y", "n": -99999999999999999999}]


_RAW_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(
        st.sampled_from(["code", "message", "details", "cost_usd", "k"]),
        st.integers() | st.none() | st.text(max_size=3),
        max_size=3,
    ),
)
_RAW_KEYS = st.sampled_from(
    [
        "node_type",
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
        "cost_usd",
        "x-cost_usd",
        "x-other",
        "zz",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(_RAW_KEYS, _RAW_VALUES, max_size=10),
    st.sampled_from([None, "public", "secret", "odd"]),
)
def test_a_record_row_is_the_node_record_the_model_writes(
    fields: dict[str, Any], label: str | None
) -> None:
    from osop.engine.recording import _converted, _row

    raw: dict[str, Any] = {"node_id": "n", "status": "COMPLETED", **fields}
    if label is not None:
        raw["x-classification"] = label
    if not isinstance(raw.get("attempt", 1), int):
        raw["attempt"] = 1
    node_record, cost = _converted(raw)
    assert (node_record, cost) == _reference_converted(raw)
    assert node_record.extra == _reference_converted(raw)[0].extra
    assert list(node_record.extra) == list(_reference_converted(raw)[0].extra)
    assert _row(raw) == (node_record.to_dict(), cost)
    assert list(_row(raw)[0]) == list(node_record.to_dict())


def _reference_converted(raw: dict[str, Any]) -> tuple[Any, float | None]:
    """How the engine converted an attempt into a node record before (copy, then build)."""
    from osop.engine.values import (
        RECORDED_UP_TO,
        classification_level,
        classified_summary,
        truncate_value,
    )
    from osop.record.model import NODE_RECORD_FIELDS, ErrorInfo, NodeRecord

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
    numeric = isinstance(cost, int | float) and not isinstance(cost, bool)
    if numeric and (not isinstance(ai, dict) or "cost_usd" not in ai):
        record["x-cost_usd"] = cost
    error = record.get("error")
    tools = record.get("tools_used")
    node_record = NodeRecord(
        node_id=str(record["node_id"]),
        node_type=str(record.get("node_type", "")),
        status=str(record["status"]),
        attempt=int(record.get("attempt", 1)),
        started_at=record.get("started_at"),
        ended_at=record.get("ended_at"),
        duration_ms=record.get("duration_ms"),
        iteration=record.get("iteration"),
        inputs=record.get("inputs"),
        outputs=record.get("outputs"),
        error=ErrorInfo(
            code=str(error["code"]) if error.get("code") is not None else None,
            message=str(error.get("message") or error.get("code") or "error"),
            details=error.get("details"),
        )
        if isinstance(error, dict)
        else None,
        ai_metadata=record.get("ai_metadata"),
        human_metadata=record.get("human_metadata"),
        tools_used=tuple(tools) if isinstance(tools, list) else (),
        extra={k: v for k, v in record.items() if k not in NODE_RECORD_FIELDS},
    )
    return node_record, cost if numeric else None


def test_secret_references_are_found_as_in_the_standard_text() -> None:
    import datetime

    from osop.engine.runner import _SECRET_REFERENCE, _searchable_text

    document: dict[Any, Any] = {
        "nodes": [
            {
                "id": "a",
                "runtime": {"command": "curl -H 'X: ${secrets.API_KEY}' ${ secrets.tok_2 }"},
            },
            {"id": "b", "runtime": {"env": {"T": "${secrets.é}", "U": "${\tsecrets.TAB}"}}},
            {"id": "c", "when": "x", 3: "${secrets.INT_KEY}", "d": datetime.date(2026, 1, 1)},
            {"id": "d", "big": 2**80, "s": "\ud800 ${secrets.SURROGATE}"},
        ]
    }
    plain = {"nodes": document["nodes"][:3]}  # orjson writes it
    for doc, names in [
        (plain, {"API_KEY", "tok_2", "INT_KEY"}),
        (document, {"API_KEY", "tok_2", "INT_KEY", "SURROGATE"}),  # json writes it
    ]:
        expected = set(_SECRET_REFERENCE.findall(json.dumps(doc, default=str)))
        assert set(_SECRET_REFERENCE.findall(_searchable_text(doc))) == expected == names


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(_RAW_KEYS, _RAW_VALUES, max_size=8),
    st.booleans(),
    st.sampled_from([None, "public", "secret"]),
)
def test_an_attempt_taken_as_its_own_row_is_the_row(
    fields: dict[str, Any], in_row_order: bool, label: str | None
) -> None:
    from osop.engine.recording import _is_own_row, _row

    raw: dict[str, Any] = {
        "node_id": "n",
        "node_type": "cli",
        "attempt": 1,
        "status": "COMPLETED",
        "started_at": "2026-01-01T00:00:00.000Z",
        **fields,
    }
    if label is not None:
        raw["x-classification"] = label
    if type(raw["attempt"]) is not int:
        raw["attempt"] = 2
    if in_row_order:  # as the engine's attempts are: most are their own rows
        from osop.record.model import NODE_RECORD_FIELD_ORDER

        head = ["node_id", "node_type", "attempt", "status"]  # the row's order
        order = head + [key for key in NODE_RECORD_FIELD_ORDER if key not in head]
        rank = {key: index for index, key in enumerate(order)}
        raw = dict(sorted(raw.items(), key=lambda kv: rank.get(kv[0], len(rank))))
    if _is_own_row(raw):
        row = _row(raw)[0]
        assert row == raw
        assert list(row) == list(raw)


def test_a_plain_attempt_is_its_own_row() -> None:
    from osop.engine.recording import _is_own_row

    raw = {
        "node_id": "n5",
        "node_type": "cli",
        "attempt": 1,
        "status": "COMPLETED",
        "started_at": "2026-12-03T13:00:27.133Z",
        "ended_at": "2026-12-03T13:00:27.133Z",
        "duration_ms": 0.021,
        "outputs": {"n": 1},
    }
    assert _is_own_row(raw)
    assert not _is_own_row({**raw, "error": {"code": "X", "message": "m"}})
    assert not _is_own_row({**raw, "attempt": True})
    assert not _is_own_row({**raw, "outputs": {"n": "x" * 70_000}})
    assert not _is_own_row({"node_type": "cli", **raw})
