"""The fast paths of reading many records give exactly what the checked paths give:
timestamps parsed a record at a time, run-level fields built directly, run ids kept
as hashes, replay variants keyed column by column — odd inputs included."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import random
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from osop.analysis.conformance import _variant
from osop.analysis.records import (
    _fast_head,
    _FirstFiles,
    plain_record,
    read_plain_records,
    record_from_data,
    record_moments,
    record_rank_key,
    record_ranks,
    written_timestamp,
)
from osop.record.model import RunRecord, record_from_dict

from .generator import generate
from .processes import REVIEW_STEPS, REVIEW_TREE

ODD_STAMPS = [
    "2026-01-01T00:00:00.000Z",
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.5Z",
    "2026-01-01T00:00:00.123456Z",
    "2026-01-01T00:00:00.1234567Z",  # seven digits: not the written form
    "2026-01-01T02:00:00.000+02:00",  # a non-UTC offset
    "2026-01-01T00:00:00.000z",
    "2026-01-01 00:00:00.000Z",
    "2026-01-01T00:00:00.000",  # no offset: read as UTC
    "2026-02-30T00:00:00.000Z",  # no such day
    "2026-01-01T24:00:00.000Z",
    "2026-01-01T00:00:60.000Z",  # a leap second
    "٢٠٢٦-01-01T00:00:00.000Z",  # not ASCII digits
    "not a time",
    "",
    "Z",
    "1Z",
    "2026-01-01T00:00:00Z\n2026-01-01T00:00:00Z",  # a line break inside
    "2026-01-01T00:00:00.000Z\n",
    "2026-01-01T00:00:00+00:00",
]


def _node(started: str, ended: str | None) -> dict[str, Any]:
    node: dict[str, Any] = {
        "node_id": "a",
        "node_type": "cli",
        "attempt": 1,
        "status": "COMPLETED",
        "started_at": started,
    }
    if ended is not None:
        node["ended_at"] = ended
    return node


@pytest.mark.parametrize("odd", ODD_STAMPS)
def test_record_moments_are_written_timestamp_of_each_text(odd: str) -> None:
    # the odd text among written ones: a record is parsed in one pass or text by text
    nodes = [
        _node("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.250Z"),
        _node(odd, None),
        _node("2026-01-01T00:00:02.000Z", odd),
    ]
    moments = record_moments(nodes)
    texts = {n["started_at"] for n in nodes} | {n.get("ended_at") for n in nodes}
    assert set(moments) == texts | {None}
    for text in texts:
        assert moments[text] == written_timestamp(text), text


def test_record_moments_of_written_records() -> None:
    for record in generate(REVIEW_TREE, REVIEW_STEPS, 30, seed=2).records:
        nodes = record["node_records"]
        moments = record_moments(nodes)
        for node in nodes:
            for text in (node["started_at"], node.get("ended_at")):
                assert moments[text] == written_timestamp(text)


def _reference_ranks(nodes: list[dict[str, Any]]) -> dict[str | None, int | None]:
    """Each text's rank among the record's distinct moments, from the moments themselves."""
    moments = record_moments(nodes)
    order = sorted({v for v in moments.values() if v is not None})
    return {text: None if v is None else order.index(v) for text, v in moments.items()}


WRITTEN_EDGES = [
    "2024-02-29T23:59:59.999Z",  # a leap day
    "2026-02-29T00:00:00.000Z",  # no such day
    "2026-04-31T00:00:00.000Z",
    "2026-13-01T00:00:00.000Z",
    "2026-00-10T00:00:00.000Z",
    "0000-01-01T00:00:00.000Z",  # no year 0
    "0001-01-01T00:00:00.000Z",
    "9999-12-31T23:59:59.999Z",
    "2026-01-01T23:60:00.000Z",
    "2025-12-31T23:59:59.999Z",  # a year earlier
    "2026-01-01T00:00:00.001Z",
    "2026-01-01T00:00:00.000Z",  # equal to a text already there
]


@pytest.mark.parametrize("odd", ODD_STAMPS + WRITTEN_EDGES)
def test_record_ranks_order_the_moments(odd: str) -> None:
    # ranked by sorting texts when all are written alike, else from their moments
    nodes = [
        _node("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.250Z"),
        _node(odd, None),
        _node("2026-01-01T00:00:02.000Z", odd),
        _node("2026-01-01T00:00:01.250Z", "2026-01-01T00:00:01.250Z"),
    ]
    assert record_ranks(nodes) == _reference_ranks(nodes)
    assert record_ranks([_node(odd, odd)]) == _reference_ranks([_node(odd, odd)])


def test_record_ranks_of_written_records() -> None:
    for record in generate(REVIEW_TREE, REVIEW_STEPS, 30, seed=2).records:
        nodes = record["node_records"]
        assert record_ranks(nodes) == _reference_ranks(nodes)


def _head(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "osoplog_version": "1.0",
        "run_id": "0d6c7a4e-3f0b-4f7e-9a43-6f7c2d1e9b10",
        "workflow_id": "shapes",
        "workflow_version": "1.2.0",
        "mode": "live",
        "status": "COMPLETED",
        "trigger": {"type": "manual"},
        "started_at": "2026-01-01T00:00:00.000Z",
        "ended_at": "2026-01-01T00:00:10.000Z",
        "duration_ms": 10000.0,
        "cost": {"total_usd": 0.5},
        "x-team": "ops",
        "note": [1, 2],
    }
    for key, value in changes.items():
        if value is _DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return data


_DROP = object()
ODD_HEADS = [
    {},
    {"status": "success"},
    {"status": "completed"},
    {"status": " COMPLETED"},
    {"status": 3},
    {"status": _DROP},
    {"run_id": 12},
    {"run_id": _DROP},
    {"workflow_id": None},
    {"osoplog_version": 1.0},
    {"osoplog_version": _DROP},
    {"duration_ms": 10000},
    {"duration_ms": float("inf")},
    {"duration_ms": float("nan")},
    {"duration_ms": 1e301},
    {"duration_ms": -5.0},
    {"duration_ms": 10**400},
    {"duration_ms": True},
    {"duration_ms": "10"},
    {"duration_ms": None},
    {"trigger": ["manual"]},
    {"cost": None},
    {"runtime": {"host": "h"}, "variables": {"a": 1}, "result_summary": "ok"},
    {"started_at": 1767225600},
    {"ended_at": None},
    {"workflow_hash": "sha256:abc"},
    {"mode": ["live"]},
]


@pytest.mark.parametrize("changes", ODD_HEADS)
def test_fast_head_is_record_from_dict(changes: dict[str, Any]) -> None:
    data = _head(**changes)
    reference = record_from_dict(data)
    fast = _fast_head(copy.deepcopy(data))
    assert fast is None or fast == reference
    nodes = [_node("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z")]
    plain = plain_record({**data, "node_records": nodes})
    assert plain.nodes is not None
    assert plain.head == reference  # whichever way the head was built


@pytest.mark.parametrize("changes", ODD_HEADS)
def test_plain_record_is_the_record_read_from_its_data(changes: dict[str, Any]) -> None:
    # PlainRecord.record() builds on the head and the nodes already checked
    records = generate(REVIEW_TREE, REVIEW_STEPS, 8, seed=4).records
    for record in records:
        data = {**_head(**changes), "node_records": record["node_records"]}
        plain = plain_record(copy.deepcopy(data))
        assert plain.nodes is not None
        built = plain.record()
        assert built == record_from_dict(data) == record_from_data(copy.deepcopy(data))
        assert repr(built) == repr(record_from_dict(data))
        assert vars(built).keys() == {f.name for f in dataclasses.fields(RunRecord)}


def test_fast_head_takes_the_written_form() -> None:
    fast = _fast_head(_head())
    assert fast is not None
    # built without RunRecord's __init__: every field set, and nothing else
    assert vars(fast).keys() == {f.name for f in dataclasses.fields(RunRecord)}
    assert fast == record_from_dict(_head()) and repr(fast) == repr(record_from_dict(_head()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.status = "FAILED"  # type: ignore[misc]
    for record in generate(REVIEW_TREE, REVIEW_STEPS, 5, seed=2).records:
        head = {k: v for k, v in record.items() if k != "node_records"}
        assert _fast_head(record) == record_from_dict(head)


def test_first_files_is_dict_setdefault() -> None:
    # thousands of runs (the table grows several times), some seen again, odd paths
    first = _FirstFiles()
    reference: dict[str, tuple[int, str]] = {}
    for i in range(6000):
        run_id = f"run-{(i * 7919) % 4500}"
        mark = hash((run_id, i % 3))
        path = f"folder/{i:05}-\udcff-é.osoplog.json"  # an undecodable byte, kept as is
        assert first.setdefault(run_id, mark, path) == reference.setdefault(run_id, (mark, path))


def _write(folder: Path, name: str, data: dict[str, Any]) -> str:
    path = folder / name
    path.write_text(json.dumps(data))
    return str(path)


def test_repeated_copies_of_a_run_count_once(tmp_path: Path) -> None:
    records = generate(REVIEW_TREE, REVIEW_STEPS, 3, seed=4).records
    a, b = records[0], records[1]
    other = copy.deepcopy(a)  # the same run id, other node records: not a copy
    other["node_records"] = other["node_records"][:-1]
    paths = [
        _write(tmp_path, "1.osoplog.json", a),
        _write(tmp_path, "2.osoplog.json", a),
        _write(tmp_path, "3.osoplog.json", b),
        _write(tmp_path, "4.osoplog.json", a),
        _write(tmp_path, "5.osoplog.json", other),
    ]
    failures: list[Any] = []
    used = [path for path, _ in read_plain_records([*paths, paths[0]], failures)]
    # the same file named twice is not a copy of itself (as before)
    assert used == [paths[0], paths[2], paths[4], paths[0]]
    assert [f.path for f in failures] == [paths[1], paths[3]]
    assert all(f"a copy of {paths[0]}" in f.message for f in failures)


def test_a_copy_is_compared_with_the_first_file_as_it_was_read(tmp_path: Path) -> None:
    # a first file rewritten while the stream runs (a running record that finished):
    # a later file holding what it became is another record of the run, counted; a
    # later file holding what was read is a copy
    running = generate(REVIEW_TREE, REVIEW_STEPS, 1, seed=4).records[0]
    finished = copy.deepcopy(running)
    finished["node_records"] = finished["node_records"][:-1]
    first = _write(tmp_path, "1.osoplog.json", running)
    later = [
        _write(tmp_path, "2.osoplog.json", finished),
        _write(tmp_path, "3.osoplog.json", running),
    ]
    failures: list[Any] = []
    used = []
    for path, _ in read_plain_records([first, *later], failures):
        used.append(path)
        if path == first:
            _write(tmp_path, "1.osoplog.json", finished)
    assert used == [first, later[0]]
    assert [f.path for f in failures] == [later[1]]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_copy_of_a_record_read_from_a_pipe_is_found(tmp_path: Path) -> None:
    # a pipe can be read once: finding a later copy must not read it again (that
    # would wait for a writer that is gone, or read nothing)
    import threading

    record = generate(REVIEW_TREE, REVIEW_STEPS, 1, seed=4).records[0]
    pipe = tmp_path / "piped.osoplog"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_text(json.dumps(record)))
    writer.start()
    copy_path = _write(tmp_path, "copy.osoplog.json", record)
    failures: list[Any] = []
    used: list[str] = []

    def read() -> None:
        used.extend(path for path, _ in read_plain_records([str(pipe), copy_path], failures))

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=30)
    hung = reader.is_alive()
    if hung:  # opened the pipe again: let it go (a writer that closes at once) and fail
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=10)
    writer.join(timeout=10)
    assert not hung, "the pipe was opened a second time"
    assert used == [str(pipe)]
    assert [f.path for f in failures] == [copy_path]


def _reference_variant(plain: Any) -> object:
    """The replay variant key as one tuple per node record (the definition)."""
    moments: dict[str | None, float | None] = {None: None}
    for node in plain.nodes:
        for text in (node["started_at"], node.get("ended_at")):
            if text not in moments:
                moments[text] = written_timestamp(text)
    order = {v: i for i, v in enumerate(sorted({v for v in moments.values() if v is not None}))}
    rank = {text: (None if v is None else order[v]) for text, v in moments.items()}

    def code(error: Any) -> object:
        if error is None:
            return False
        return None if error.get("code") is None else str(error.get("code"))

    return (
        plain.head.status,
        plain.head.workflow_id,
        tuple(
            (
                n["node_id"],
                n["status"],
                n["attempt"],
                n.get("iteration"),
                rank[n["started_at"]],
                rank[n.get("ended_at")],
                code(n.get("error")),
            )
            for n in plain.nodes
        ),
    )


def test_variant_keys_group_records_as_the_definition_does() -> None:
    records = generate(REVIEW_TREE, REVIEW_STEPS, 60, seed=6).records
    odd = []
    for record in records[:6]:
        for change in ("error", "no-code", "iteration", "late", "missing-end", "odd-time"):
            twin = copy.deepcopy(record)
            node = twin["node_records"][0]
            if change == "error":
                node["error"] = {"code": "E1", "message": "m"}
            elif change == "no-code":
                node["error"] = {"message": "m"}
            elif change == "iteration":
                node["iteration"] = 0
            elif change == "late":
                node["ended_at"] = "2027-01-01T00:00:00.000Z"
            elif change == "missing-end":
                node.pop("ended_at", None)
            else:
                node["started_at"] = "2026-01-01T00:00:00+01:00"
            odd.append(twin)
    plains = [plain_record(r) for r in records + odd]
    assert all(p.nodes is not None for p in plains)
    new = [_variant(p) for p in plains]
    old = [_reference_variant(p) for p in plains]
    for i in range(len(plains)):
        for j in range(len(plains)):
            assert (new[i] == new[j]) == (old[i] == old[j]), (i, j)


def _conformance_summary(tmp_path: Path) -> Any:
    from osop.analysis.compare import compare_paths

    gen = generate(REVIEW_TREE, REVIEW_STEPS, 12, seed=8)
    workflow = tmp_path / "process.osop.json"
    workflow.write_text(json.dumps(gen.workflow))
    folder = tmp_path / "runs"
    folder.mkdir()
    for i, record in enumerate(gen.records):
        if i == 3:
            record["node_records"] = record["node_records"][::-1][:-1]  # deviates
        _write(folder, f"{i:02}.osoplog.json", record)
    (folder / "bad.osoplog.json").write_text('{"a": 1')
    summary = compare_paths(str(workflow), str(folder))
    # a note that reads like the records' slot must not be taken for it
    summary.notes.append('\n  "records": [] «ü»')
    return summary


def test_diff_json_in_pieces_is_the_whole_json(tmp_path: Path) -> None:
    from osop.analysis.conformance import ConformanceSummary
    from osop.analysis.diff_format import diff_json_chunks

    summary = _conformance_summary(tmp_path)
    assert isinstance(summary, ConformanceSummary) and len(summary.results) == 12
    assert not summary.conformant and summary.skipped

    def whole(value: Any) -> str:
        return json.dumps(value.to_dict(), indent=2, ensure_ascii=False, default=str)

    assert "".join(diff_json_chunks(summary)) == whole(summary)
    summary.results = summary.results[:1]
    assert "".join(diff_json_chunks(summary)) == whole(summary)
    summary.results = []
    assert "".join(diff_json_chunks(summary)) == whole(summary)


def test_diff_command_json_output(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from osop.analysis.compare import compare_paths
    from osop.cli.main import cli

    summary = _conformance_summary(tmp_path)
    workflow, folder = str(tmp_path / "process.osop.json"), str(tmp_path / "runs")
    out = CliRunner().invoke(cli, ["diff", workflow, folder, "--format", "json"])
    assert out.exit_code == 1, out.output
    expected = compare_paths(workflow, folder).to_dict()
    assert out.stdout == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    assert len(json.loads(out.stdout)["records"]) == len(summary.results)


def test_plain_fingerprint_is_the_records() -> None:
    from osop.analysis.records import _fingerprint, _plain_fingerprint

    records = generate(REVIEW_TREE, REVIEW_STEPS, 10, seed=9).records
    odd = copy.deepcopy(records[0])
    odd["node_records"][0]["status"] = "TIMEOUT"  # read leniently: the object path
    for data in [*records, odd]:
        plain = plain_record(copy.deepcopy(data))
        assert _plain_fingerprint(plain) == _fingerprint(plain.record())
    assert plain_record(odd).nodes is None


def _single(node_id: str, start: str, end: str | None, **fields: Any) -> dict[str, Any]:
    node = _node(start, end)
    node["node_id"] = node_id
    node.update(fields)
    return node


def test_stats_single_attempt_figures_match_the_object_path() -> None:
    from osop.analysis.stats import StatsAccumulator, compute_stats

    t0, t1, t2 = "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z"
    nodes = [
        _single("neg", t0, t1, duration_ms=-0.4),  # agrees with a 0 ms wall: max(-0.4, 0.0)
        _single("negzero", t0, t1, duration_ms=-0.0),
        _single("int", t0, t2, duration_ms=1000),  # an int stays an int
        _single("off", t0, t2, duration_ms=1001.0),  # 1 ms away: the wall time
        _single("close", t0, t2, duration_ms=999.2),
        _single("open", t0, None, duration_ms=5.0),  # no end: its own duration
        _single("bare", t0, None),
        _single("huge", t0, t2, duration_ms=1e299),
        _single("waits", t0, t2, node_type="human", human_metadata={"response_time_ms": 7}),
        _single("paid", t0, t2, ai_metadata={"cost_usd": 0.5}),
        _single("free", t0, t2, status="FAILED", error={"code": "E", "message": "m"}),
        _single("late", "2026-01-01T00:00:01.000+01:00", t2, duration_ms=3.0),
        _single("zeros", t0, t2, duration_ms=-0.0),  # an attempt of -0.0, an execution of 1 s
        # at the edge of the 1 ms band, where the wall time's rounding decides
        *(
            _single(f"edge{i}", t0, t2, duration_ms=1000.0 + sign * gap)
            for i, (sign, gap) in enumerate(
                (sign, gap)
                for sign in (1, -1)
                for gap in (0.9985, 0.999, 0.99949, 0.9995, 0.99951, 1.0, 1.0004, 1.001)
            )
        ),
        # microsecond ends: (end - start) * 1000 is not the 3-decimal wall time itself
        *(
            _single(f"us{i}", t0, end, duration_ms=wall + gap)
            for i, (end, wall, gap) in enumerate(
                (end, wall, gap)
                for end, wall in (
                    ("2026-01-01T00:00:00.001500Z", 1.5),
                    ("2026-01-01T00:00:00.000333Z", 0.333),
                    ("2026-01-01T00:00:07.654321Z", 7654.321),
                )
                for gap in (1.0, -1.0, 0.9999999, 1.0000001, 0.9995, -0.9995, 0.0)
            )
        ),
    ]
    data = {
        **_head(),
        "cost": {"breakdown": [{"node_id": "free", "cost_usd": 0.25}]},
        "node_records": nodes,
    }
    again = {**copy.deepcopy(data), "run_id": "another"}
    # the same values as a float, or a zero of the other sign: their order must not move
    again["node_records"][1]["duration_ms"] = 0.0
    again["node_records"][2]["duration_ms"] = 1000.0
    again["node_records"][-1].update(ended_at=t1, duration_ms=0.0)  # 0.0 for both
    third = {**copy.deepcopy(data), "run_id": "third"}
    runs = (data, again, third)
    reference = [s.to_dict() for s in compute_stats(record_from_dict(r) for r in runs)]
    acc = StatsAccumulator()
    for record in runs:
        plain = plain_record(copy.deepcopy(record))
        assert plain.nodes is not None
        acc.add_plain(plain)
    assert json.dumps([s.to_dict() for s in acc.finish()]) == json.dumps(reference)


def _raw_variants() -> list[bytes]:
    """Record files in the written form and around it: the typed decoder must read each
    as the checked loader and ``plain_record`` do, or leave it to them."""
    record = generate(REVIEW_TREE, REVIEW_STEPS, 1, seed=11).records[0]
    plain = json.dumps(record).encode()
    node = json.dumps(record["node_records"][0]).encode()
    assert node in plain
    first = node[:-1]  # the first node record without its closing brace

    def node_with(extra: bytes) -> bytes:
        return plain.replace(node, first + b", " + extra + b"}", 1)

    heads = [
        json.dumps({**_head(**c), "node_records": record["node_records"]}) for c in ODD_HEADS[:14]
    ]
    # the same heads without keys outside the typed form: the typed decoder reads them
    # (and builds the head unchecked) or leaves them to the checks it replaces
    heads += [
        json.dumps({**_head(**c, **{"x-team": _DROP, "note": _DROP}), "node_records": nodes})
        for c in ODD_HEADS
        for nodes in (record["node_records"],)
    ]
    return [
        plain,
        json.dumps(record, indent=2).encode(),
        *(h.encode() for h in heads if "Infinity" not in h and "NaN" not in h),
        node_with(b'"iteration": 2'),
        node_with(b'"iteration": null, "error": null, "tools_used": null'),
        node_with(b'"iteration": 2.0'),
        node_with(b'"cost_usd": 0.5'),  # a key outside the typed form: kept in `extra`
        node_with(b'"outputs": {"a": {"b": [1, 2.5, "x:y", null, true]}}'),
        node_with(b'"outputs": {"n": 123456789012345678901234567890}'),
        node_with(b'"outputs": {"n": ' + b"7" * 4001 + b"}"),
        # integers around 64 bits and a float's range: msgspec reads any length exactly,
        # the checked loader refuses past a float's range (309 digits) or 4,000 digits
        *(
            node_with(b'"outputs": {"n": %d}' % n)
            for n in (2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**63) - 1, 10**308, 2 * 10**308)
        ),
        node_with(b'"outputs": {"n": ' + b"7" * 400 + b".5}"),  # a float past the range
        node_with(b'"outputs": {"n": 0.' + b"3" * 800 + b"e-300}"),  # 800 digits, in range
        node_with(b'"outputs": {"n": 9007199254740993.000000000000000000001}'),
        node_with(b'"outputs": {"n": [1e-400, -0.0, 4.9e-324, 1.7976931348623159e308]}'),
        node_with(b'"outputs": {"n": 1e400}'),
        node_with(b'"outputs": ' + b"[" * 200 + b"]" * 200),
        node_with(b'"outputs": {"s": "\\ud800"}'),
        node_with(b'"outputs": {"s": "\\ud83d\\ude00 \\u00e9 \\u003a"}'),
        node_with(b'"outputs": {"a\\u003a": 1, "a:": 2}'),
        node_with(b'"outputs": {"a": 1, "a": 2}'),  # duplicate keys, nested
        node_with(b'"node_id": "twice"'),  # a duplicate key of the typed form
        plain.replace(b'"run_id"', b'"run_id": "x", "run_id"', 1),
        plain.replace(b'"attempt": 1', b'"attempt": true', 1),
        plain.replace(b'"attempt": 1', b'"attempt": 1.0', 1),
        plain.replace(b'"status": "COMPLETED"', b'"status": "completed"', 1),
        plain.replace(b'"duration_ms": ', b'"duration_ms": 1e301, "x": ', 1),
        plain.replace(b'"node_type": ', b'"node_type": 5, "y": ', 1),
        plain.replace(b'"started_at": ', b'"started_at": null, "z": ', 1),
        plain.replace(b'"node_records": [', b'"node_records": [], "w": [', 1),
        plain.replace(b'"node_records": [', b'"node_records": [1, ', 1),
        b"\xef\xbb\xbf" + plain,
        plain[:-1],
        b'{"node_records": []}',
        b"[1]",
    ]


@pytest.mark.parametrize("number", range(len(_raw_variants())))
def test_typed_reading_is_plain_record_of_the_checked_data(tmp_path: Path, number: int) -> None:
    from osop.analysis.records import read_plain_record, read_record_data
    from osop.errors import LoadError

    path = tmp_path / "run.osoplog.json"
    path.write_bytes(_raw_variants()[number])
    try:
        expected = plain_record(read_record_data(path))
    except LoadError as exc:
        with pytest.raises(LoadError) as caught:
            read_plain_record(path)
        assert str(caught.value) == str(exc)
        return
    got = read_plain_record(path)
    assert got.head == expected.head and repr(got.head) == repr(expected.head)
    assert vars(got.head).keys() == {f.name for f in dataclasses.fields(RunRecord)}
    for key in ("trigger", "runtime", "variables", "cost"):  # copies, as the reader makes
        value = getattr(got.head, key)
        assert value is None or value is not got.data.get(key)
    assert (got.nodes is None) == (expected.nodes is None)
    assert got.nodes == expected.nodes and got.data == expected.data
    assert json.dumps(got.data) == json.dumps(expected.data)  # key order too
    assert got.record() == expected.record()


def test_typed_node_statuses_are_the_vocabulary() -> None:
    from typing import get_args

    from osop.analysis.records import _NodeStatus
    from osop.format.vocabulary import NODE_STATUSES

    assert sorted(get_args(_NodeStatus)) == sorted(NODE_STATUSES)


def test_typed_run_statuses_are_the_vocabulary() -> None:
    from typing import get_args

    from osop.analysis.records import _RunStatus
    from osop.format.vocabulary import RUN_STATUSES

    assert sorted(get_args(_RunStatus)) == sorted(RUN_STATUSES)


def test_typed_decoder_takes_the_written_form() -> None:
    from osop.analysis.records import _NOT_FAST, _checked_fast, _decode_written

    for raw in _raw_variants()[:2]:  # compact and indented, as the engine writes them
        assert _checked_fast(raw, _decode_written) is not _NOT_FAST


@pytest.mark.parametrize(
    "middle",
    ["2026-02-30T12:00:00.000Z", "2026-02-31T00:00:00.000Z", "2026-02-29T23:59:59.999Z"],
)
def test_record_ranks_check_every_day_between_the_first_and_last(middle: str) -> None:
    # the first and last texts name real days, one between them does not: the days
    # are looked at one by one (only texts of one day are checked by the first alone)
    nodes = [
        _node("2026-02-28T00:00:00.000Z", middle),
        _node("2026-03-01T00:00:00.000Z", None),
    ]
    assert record_ranks(nodes) == _reference_ranks(nodes)
    one_day = [_node("2026-02-30T00:00:00.000Z", "2026-02-30T00:00:01.000Z")]
    assert record_ranks(one_day) == _reference_ranks(one_day)


def _marks(ranks: list[int | None]) -> str:
    return "".join("\0" if r is None else chr(r + 1) for r in ranks)


@pytest.mark.parametrize("odd", ODD_STAMPS + WRITTEN_EDGES)
def test_record_rank_key_is_the_ranks_of_each_node_record(odd: str) -> None:
    nodes = [
        _node("2026-01-01T00:00:00.000Z", odd),
        _node(odd, None),
        _node("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"),
    ]
    rank = _reference_ranks(nodes)
    assert record_rank_key(nodes) == _marks(
        [rank[n["started_at"]] for n in nodes] + [rank[n.get("ended_at")] for n in nodes]
    )


#: The written form as the diff's key recognised it before (a regular expression over
#: the joined texts, then each day looked up): the definition the C checks must keep.
_WRITTEN_PATTERN = re.compile(
    r"(?:\d{4}-\d\d-\d\dT(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z\n)*", re.ASCII
)


def _reference_alike(keys: list[str]) -> bool:
    joined = "\n".join(keys) + "\n" if keys else ""
    if joined.count("\n") != len(keys) or not _WRITTEN_PATTERN.fullmatch(joined):
        return False
    try:
        for key in keys:
            date.fromisoformat(key[:10])
    except ValueError:
        return False
    return True


_STAMP_CHARACTERS = "0123456789-T:.Z z\n+ ٢\ud800é"


def _stamp_sets(seed: int) -> list[list[str]]:
    """Sorted sets of timestamps, most in the written form, some a character off."""
    rng = random.Random(seed)
    out = []
    for _ in range(300):
        day = rng.choice(["2026-01-01", "2026-02-28", "2024-02-29", "2025-12-31", "0001-01-01"])
        texts = set()
        for _ in range(rng.randint(1, 8)):

            def pick(good: list[int], bad: list[int]) -> int:
                return rng.choice(bad if rng.random() < 0.03 else good)

            text = (
                f"{day}T{pick([0, 1, 9, 10, 19, 20, 23], [24, 29, 30, 99]):02}:"
                f"{pick([0, 5, 9, 50, 59], [60, 61, 99]):02}:{pick([0, 9, 59], [60, 69]):02}."
                f"{rng.randrange(1000):03}Z"
            )
            if rng.random() < 0.05:  # one character off: any position, any kind
                i = rng.randrange(len(text) + 1)
                how = rng.randrange(3)
                c = rng.choice(_STAMP_CHARACTERS)
                text = (
                    text[:i] + c + text[i + 1 :]
                    if how == 0
                    else text[:i] + c + text[i:]
                    if how == 1
                    else text[:i] + text[i + 1 :]
                )
            if rng.random() < 0.03:
                text = text.replace(day, rng.choice(["2026-02-30", "2026-13-01", "0000-01-01"]))
            texts.add(text)
        out.append(sorted(texts))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_written_alike_is_the_written_pattern_with_real_days(seed: int) -> None:
    from osop.analysis.records import _written_alike

    sets = _stamp_sets(seed)
    told = [_reference_alike(keys) for keys in sets]
    assert 0.2 < sum(told) / len(told) < 0.9  # both answers are exercised
    for keys, expected in zip(sets, told, strict=True):
        assert _written_alike(keys) == expected, keys


@pytest.mark.parametrize(
    "keys",
    [
        [],
        ["2026-01-01T23:59:59.999Z"],
        ["2026-01-01T24:00:00.000Z"],  # the end of the day as the next one's start
        ["2026-01-01T20:00:00.000Z", "2026-01-01T24:00:00.000Z"],
        ["2025-12-31T24:00:00.000Z", "2026-01-01T00:00:00.000Z"],  # 24:00 on another day
        ["2025-12-31T23:59:60.000Z", "2026-01-01T00:00:00.000Z"],  # a leap second
        ["2026-01-01T00:60:00.000Z"],
        ["2026-02-28T00:00:00.000Z", "2026-02-30T00:00:00.000Z", "2026-03-01T00:00:00.000Z"],
        ["2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z\n2026-01-01T00:00:00.000Z"],
        ["2026-01-01T00:00:00.00Z", "2026-01-01T00:00:00.0000Z"],  # lengths make up
        ["2026-01-01T00:00:00.000+01:00"],
        ["2026-01-01T00:00:00.000Z ", "2026-01-01T00:00:00.000Z"],
        ["2026-01-01T0٢:00:00.000Z"],
        ["2026-01-01T00:00:00.000z"],
        ["2026-01-01t00:00:00.000Z"],
        ["2026/01/01T00:00:00.000Z"],
    ],
)
def test_written_alike_at_the_edges(keys: list[str]) -> None:
    from osop.analysis.records import _written_alike

    assert _written_alike(sorted(keys)) == _reference_alike(sorted(keys))


def _twins(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies of a record changed where the variant key could be fooled."""
    out = []
    nodes = record["node_records"]
    first, second = nodes[0], nodes[1]

    def changed(how: Any) -> dict[str, Any]:
        twin = copy.deepcopy(record)
        how(twin["node_records"])
        out.append(twin)
        return twin

    moment = first["started_at"]  # "2026-01-01T01:00:00.000Z"-like: the same moment, other texts
    same = moment.replace("Z", "+00:00")
    hour = int(moment[11:13])
    offset = f"{moment[:11]}{hour + 1:02}{moment[13:-1]}+01:00"
    changed(lambda n: n[0].update(started_at=same))
    changed(lambda n: n[0].update(started_at=offset))
    changed(lambda n: n[1].update(started_at=same))  # ties the first node's start
    changed(lambda n: n[1].update(started_at=moment))  # the same tie, written alike
    changed(lambda n: n[0].update(started_at=moment[:-5] + "Z"))  # no milliseconds: equal
    changed(lambda n: n[0].update(ended_at=first["started_at"]))  # an instant step
    changed(lambda n: n[0].pop("ended_at", None))
    changed(lambda n: n[1].pop("ended_at", None))
    changed(lambda n: [m.pop("ended_at", None) for m in n])
    changed(lambda n: n[0].update(ended_at="2026-02-30T00:00:00.000Z"))  # no such day
    changed(lambda n: n[0].update(ended_at="2026-01-01T24:00:00.000Z"))
    changed(lambda n: n[0].update(ended_at="2026-01-02T00:00:00.000Z"))  # 24:00's moment
    changed(lambda n: n[0].update(ended_at="2025-12-31T23:59:60.000Z"))
    changed(lambda n: n[0].update(ended_at="not a time"))
    changed(lambda n: n[0].update(ended_at="also not a time"))  # no moment either: a tie
    changed(lambda n: n[0].update(node_id=first["node_id"] + "\0" + second["node_id"]))
    changed(lambda n: (n[0].update(node_id="a\0b"), n[1].update(node_id="c")))
    changed(lambda n: (n[0].update(node_id="a"), n[1].update(node_id="b\0c")))
    changed(lambda n: (n[0].update(node_id="a\0"), n[1].update(node_id="c")))
    changed(lambda n: (n[0].update(node_id="a"), n[1].update(node_id="\0c")))
    changed(lambda n: n[0].update(node_id=first["node_id"] + "\0COMPLETED"))
    changed(lambda n: n[0].update(attempt=2))
    changed(lambda n: n[0].update(iteration=1))
    changed(lambda n: n[0].update(error={"code": 1, "message": "m"}))
    changed(lambda n: n[0].update(error={"code": "1", "message": "m"}))  # the same code
    changed(lambda n: n[0].update(error={}))
    changed(lambda n: n[0].update(status="FAILED"))
    changed(lambda n: n.append(copy.deepcopy(n[-1])))
    changed(lambda n: n.insert(0, n.pop()))  # another order in the file
    shifted = json.loads(json.dumps(record).replace("2026-01-01T", "2027-03-04T"))
    out.append(shifted)  # the same variant, another day
    out.append(json.loads(json.dumps(record).replace("2026-01-01T0", "2026-01-01T2")))
    return out


def test_variant_keys_group_adversarial_records_as_the_definition_does() -> None:
    records = generate(REVIEW_TREE, REVIEW_STEPS, 8, seed=12).records
    every = []
    for record in records:
        every.append(record)
        every.extend(_twins(record))
    plains = [plain_record(r) for r in every]
    assert all(p.nodes is not None for p in plains)
    new = [_variant(p) for p in plains]
    old = [_reference_variant(p) for p in plains]
    groups = {}
    for i in range(len(plains)):
        groups.setdefault(old[i], set()).add(i)
        for j in range(len(plains)):
            assert (new[i] == new[j]) == (old[i] == old[j]), (i, j)
    assert len(groups) < len(plains)  # some are alike (ties, equal moments, shifts) ...
    assert len(groups) > len(records) * 10  # ... most are not


def test_replayer_outcomes_are_each_records_replay() -> None:
    # every adversarial twin replayed on its own, against the Replayer's shared
    # outcomes — through replay() and through outcome() + ConformanceResults.add()
    from osop.analysis.conformance import ConformanceResults, Replayer, replay
    from osop.format.workflow import workflow_from_dict

    gen = generate(REVIEW_TREE, REVIEW_STEPS, 8, seed=12)
    workflow = workflow_from_dict(gen.workflow)
    every = []
    for record in gen.records:
        every.append(record)
        every.extend(_twins(record))
    for i, record in enumerate(every):
        record["run_id"] = f"run-{i}"
    by_replay, by_outcome = Replayer(workflow), Replayer(workflow)
    added, appended = ConformanceResults(), ConformanceResults()
    expected = []
    for i, record in enumerate(every * 2):  # the second time round, every variant is known
        plain = plain_record(record)
        name = f"r{i}.osoplog.json"
        alone = replay(workflow, plain.record(), name).to_dict()
        expected.append(alone)
        assert by_replay.replay(plain, name).to_dict() == alone
        added.add(by_outcome.outcome(plain, name), name, plain.head.run_id)
        appended.append(replay(workflow, plain.record(), name))  # a new object each time
    assert len(by_outcome._results) < len(every)  # variants were shared
    assert [r.to_dict() for r in added] == expected
    assert [r.to_dict() for r in appended] == expected
    assert added.totals() == appended.totals()
    assert added.fitness_total() == appended.fitness_total()


def test_record_rank_key_past_the_characters_is_the_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    # more distinct texts than characters to write ranks with (a record of ~560,000
    # node records): the ranks as a tuple, never equal to the text of another record
    from osop.analysis import records

    nodes = [
        _node("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z"),
        _node("2026-01-01T00:00:01.000Z", None),
    ]
    written = record_rank_key(nodes)
    monkeypatch.setattr(records, "_MOST_MARKS", 1)
    rank = _reference_ranks(nodes)
    past = record_rank_key(nodes)
    assert past == (0, 1, 1, None)
    assert past == tuple(rank[n["started_at"]] for n in nodes) + tuple(
        rank[n.get("ended_at")] for n in nodes
    )
    assert written == _marks(list(past)) and past != written


@pytest.mark.parametrize("size", [0, 1, 4321, 65535, 65536, 65537, 2 * 65536, 3 * 2**20 + 5])
def test_record_files_are_read_whole(tmp_path: Path, size: int) -> None:
    from osop.analysis.records import _read_whole

    path = tmp_path / "run.osoplog.json"
    path.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    assert _read_whole(path) == path.read_bytes() and len(_read_whole(str(path))) == size


def test_a_pipe_is_read_to_its_end(tmp_path: Path) -> None:
    # a short read is no end: a writer that pauses between pieces
    import threading
    import time

    from osop.analysis.records import _read_whole

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    pipe = tmp_path / "run.osoplog.json"
    os.mkfifo(pipe)
    pieces = [b"{", b'"a": ' + b"1" * 70000, b"}"]

    def write() -> None:
        with open(pipe, "wb", buffering=0) as out:
            for piece in pieces:
                out.write(piece)
                time.sleep(0.05)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert _read_whole(pipe) == b"".join(pieces)
    finally:
        writer.join()


def test_unreadable_record_files_say_why(tmp_path: Path) -> None:
    from osop.analysis.records import read_plain_record
    from osop.errors import LoadError

    for path, message in ((tmp_path, "is a directory"), (tmp_path / "gone.json", "no such file")):
        with pytest.raises(LoadError, match=message):
            read_plain_record(path)
