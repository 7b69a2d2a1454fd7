"""Hostile files, generated: what an adversary (or a broken tool) might hand to ``osop``.

Every file is made here, from code, so the corpus documents itself: deep nesting,
huge integers, NaN and overflowing floats, lone surrogates, wrong-typed fields,
absurd durations, counts and weights, import cycles, binary and empty files.
:func:`build` writes them into a folder and returns the workflows and the records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["build"]

BIG = "9" * 5000  # over Python's 4,300-digit int/str limit
LONG = "9" * 3990  # under the loader's 4,000-digit limit, far over any float

_VALID_WORKFLOW: dict[str, Any] = {
    "osop_version": "1.1",
    "id": "hostile",
    "name": "Hostile",
    "nodes": [
        {"id": "a", "type": "cli", "runtime": {"command": "echo a"}},
        {"id": "b", "type": "cli", "runtime": {"command": "echo b"}},
    ],
    "edges": [{"from": "a", "to": "b"}],
}
_VALID_RECORD: dict[str, Any] = {
    "osoplog_version": "1.0",
    "run_id": "r-1",
    "workflow_id": "hostile",
    "mode": "simulated",
    "status": "COMPLETED",
    "started_at": "2026-01-01T00:00:00Z",
    "ended_at": "2026-01-01T00:00:01Z",
    "duration_ms": 1000,
    "node_records": [
        {
            "node_id": "a",
            "node_type": "cli",
            "attempt": 1,
            "status": "COMPLETED",
            "started_at": "2026-01-01T00:00:00Z",
            "ended_at": "2026-01-01T00:00:01Z",
            "duration_ms": 5,
        }
    ],
}


def _workflow(**changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(_VALID_WORKFLOW))
    data.update(changes)
    return data


def _record(**changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(_VALID_RECORD))
    data.update(changes)
    return data


def _node(**fields: Any) -> dict[str, Any]:
    return {"id": "a", "type": "cli", "runtime": {"command": "echo a"}, **fields}


def _sim(**settings: Any) -> dict[str, Any]:
    return _node(**{"x-simulate": settings})


def _workflows() -> dict[str, str]:
    j = json.dumps
    deep = "[" * 5000 + "]" * 5000
    block_deep = "".join("  " * i + f"k{i}:\n" for i in range(3000)) + "  " * 3000 + "v: 1\n"
    files = {
        "valid.osop.yaml": j(_VALID_WORKFLOW),
        "big-int.osop.yaml": j(_workflow()).replace('"Hostile"', '"Hostile", "x-n": ' + BIG),
        "big-int.osop.json": j(_workflow()).replace('"Hostile"', '"Hostile", "x-n": ' + BIG),
        "long-int-timeout.osop.json": j(_workflow(nodes=[_node(timeout_sec=0)])).replace(
            '"timeout_sec": 0', '"timeout_sec": ' + LONG
        ),
        "long-int-retry.osop.json": j(
            _workflow(nodes=[_node(retry={"max_attempts": 0, "backoff": {"initial_delay": 1}})])
        ).replace('"max_attempts": 0', '"max_attempts": ' + LONG),
        "nan.osop.json": j(_workflow()).replace('"Hostile"', '"Hostile", "x-n": NaN'),
        "infinity.osop.json": j(_workflow()).replace('"Hostile"', '"Hostile", "x-n": -Infinity'),
        "overflow.osop.json": j(_workflow()).replace('"Hostile"', '"Hostile", "x-n": 1e999'),
        "inf.osop.yaml": "osop_version: '1.1'\nid: x\nname: x\ntimeout_sec: .inf\nnodes: []\n",
        "surrogate.osop.json": j(_workflow()).replace('"Hostile"', '"Host\\ud800ile"'),
        "surrogate-key.osop.json": j(_workflow()).replace('"name"', '"na\\udfffme"', 1),
        "deep.osop.json": j(_workflow()).replace('"Hostile"', '"Hostile", "x-d": ' + deep),
        "deep.osop.yaml": "osop_version: '1.1'\nid: x\nname: x\nx-d: " + deep + "\nnodes: []\n",
        "deep-block.osop.yaml": "osop_version: '1.1'\nid: x\nname: x\nnodes: []\nx-d:\n"
        + "".join("  " + line + "\n" for line in block_deep.splitlines()),
        "wrong-types.osop.json": j(
            _workflow(
                id={"x": 1},
                name=[1],
                nodes=[
                    _node(id={"x": 1}),
                    {"id": "b", "type": ["cli"], "runtime": "echo", "retry": "x"},
                    {"id": "c", "type": "cli", "timeout_sec": {"x": 1}, "inputs": 5},
                    7,
                    None,
                ],
                edges=[{"from": ["a"], "to": {"b": 1}, "mode": 3, "when": 4}, "x", None],
            )
        ),
        "wrong-types-top.osop.json": j(_workflow(nodes={"a": 1}, edges="a->b", inputs=[1])),
        "sim-sleep.osop.yaml": j(_workflow(nodes=[_sim(duration_ms=1e12)], edges=[])),
        "sim-sleep-long-int.osop.json": j(_workflow(nodes=[_sim(duration_ms=1)], edges=[])).replace(
            '"duration_ms": 1', '"duration_ms": ' + LONG
        ),
        "backoff.osop.yaml": j(
            _workflow(
                nodes=[
                    _node(
                        runtime={"command": "exit 1"},
                        retry={
                            "max_attempts": 100_000_000,
                            "backoff": {"type": "exponential", "initial_delay": 1e300},
                        },
                        **{"x-simulate": {"error": {"code": "X", "message": "x"}}},
                    )
                ],
                edges=[],
            )
        ),
        "timeouts.osop.yaml": j(
            _workflow(nodes=[_node(timeout="99999999999999d", timeout_sec=1e300)], edges=[])
        ),
        "loop.osop.yaml": j(
            _workflow(
                edges=[
                    {"from": "a", "to": "b"},
                    {"from": "b", "to": "a", "mode": "loop", "when": "true", "max_iterations": 1e8},
                ]
            )
        ),
        "loop-int.osop.yaml": j(
            _workflow(
                edges=[
                    {"from": "a", "to": "b"},
                    {
                        "from": "b",
                        "to": "a",
                        "mode": "loop",
                        "when": "true",
                        "max_iterations": 100_000_000,
                    },
                ]
            )
        ),
        "weights.osop.yaml": j(
            _workflow(
                nodes=[_node(), _node(id="b"), _node(id="c")],
                edges=[
                    {"from": "a", "to": "b", "mode": "weighted", "weight": 1e308},
                    {"from": "a", "to": "c", "mode": "weighted", "weight": 1e308},
                ],
            )
        ),
        "self-import.osop.yaml": j(
            _workflow(
                id="self",
                imports=[{"path": "self-import.osop.yaml", "as": "me"}],
                nodes=[{"id": "a", "type": "system", "workflow_ref": "me"}],
                edges=[],
            )
        ),
        "cycle-a.osop.yaml": j(
            _workflow(
                id="cycle-a",
                imports=[{"path": "cycle-b.osop.yaml", "as": "b"}],
                nodes=[{"id": "a", "type": "system", "workflow_ref": "b"}],
                edges=[],
            )
        ),
        "cycle-b.osop.yaml": j(
            _workflow(
                id="cycle-b",
                imports=[{"path": "cycle-a.osop.yaml", "as": "a"}],
                nodes=[{"id": "b", "type": "system", "workflow_ref": "a"}],
                edges=[],
            )
        ),
        "for-each.osop.yaml": j(
            _workflow(
                nodes=[_node(), _sim(outputs={"items": list(range(1000))}) | {"id": "b"}],
                edges=[
                    {
                        "from": "a",
                        "to": "b",
                        "mode": "loop",
                        "for_each": "range(0, 100000000)",
                        "max_iterations": 10**12,
                    }
                ],
            )
        ),
        "empty.osop.yaml": "",
        "list-root.osop.yaml": "[1, 2, 3]\n",
        "scalar-root.osop.json": "12345",
        "alias-bomb.osop.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    }
    return files


def _records() -> dict[str, str]:
    j = json.dumps
    deep = "[" * 5000 + "]" * 5000
    node = _VALID_RECORD["node_records"][0]
    files = {
        "valid.osoplog.json": j(_VALID_RECORD),
        "big-int.osoplog.json": j(_record()).replace(
            '"duration_ms": 1000', '"duration_ms": ' + BIG
        ),
        "big-int.osoplog.yaml": j(_record()).replace(
            '"duration_ms": 1000', '"duration_ms": ' + BIG
        ),
        "long-int.osoplog.json": j(_record()).replace('"duration_ms": 5', '"duration_ms": ' + LONG),
        "nan.osoplog.json": j(_record()).replace('"duration_ms": 1000', '"duration_ms": NaN'),
        "inf.osoplog.yaml": "osoplog_version: '1.0'\nrun_id: r\nworkflow_id: w\nstatus: FAILED\n"
        "duration_ms: .inf\nnode_records:\n- {node_id: a, node_type: cli, attempt: 1,"
        " status: FAILED, started_at: '2026-01-01T00:00:00Z', duration_ms: .nan}\n",
        "huge-floats.osoplog.json": j(
            _record(
                duration_ms=1e308,
                cost={"total_usd": 1e308},
                node_records=[dict(node, duration_ms=1.7e308), dict(node, duration_ms=1.7e308)],
            )
        ),
        "surrogate.osoplog.json": j(_record()).replace('"r-1"', '"r-\\ud800"'),
        "surrogate-node.osoplog.json": j(_record()).replace(
            '"node_id": "a"', '"node_id": "\\udc00"'
        ),
        "deep.osoplog.json": j(_record()).replace('"r-1"', '"r-1", "x-d": ' + deep),
        "deep.osoplog.yaml": "osoplog_version: '1.0'\nrun_id: r\nworkflow_id: w\nstatus: FAILED\n"
        "node_records: []\nx-d: " + deep + "\n",
        "deep-outputs.osoplog.json": j(_record()).replace(
            '"duration_ms": 5', '"duration_ms": 5, "outputs": ' + '{"a":' * 900 + "1" + "}" * 900
        ),
        "wrong-status.osoplog.json": j(_record(status={"x": 1})),
        "wrong-types.osoplog.json": j(
            _record(
                run_id={"x": 1},
                workflow_id=[1],
                started_at=5,
                ended_at={"x": 1},
                duration_ms="abc",
                cost="x",
                mode=[1],
                node_records=[
                    dict(
                        node,
                        status={"x": 1},
                        node_id=[1],
                        node_type={"t": 1},
                        attempt="3",
                        duration_ms="x",
                        started_at=[1],
                        iteration={"i": 1},
                        error=[1],
                        ai_metadata="x",
                        tools_used={"t": 1},
                        outputs=7,
                    ),
                    7,
                    "x",
                    None,
                    [1],
                ],
            )
        ),
        "wrong-node-records.osoplog.json": j(_record(node_records={"a": 1})),
        "odd-times.osoplog.json": j(
            _record(
                started_at="0001-01-01T00:00:00Z",
                ended_at="9999-12-31T23:59:59Z",
                node_records=[
                    dict(node, started_at="9999-99-99", ended_at="0001-01-01T00:00:00+23:59"),
                    dict(node, started_at="2026-01-01T00:00:00-23:59", ended_at="x"),
                ],
            )
        ),
        "negative.osoplog.json": j(
            _record(duration_ms=-(10**300), node_records=[dict(node, duration_ms=-1e300)])
        ),
        "long-strings.osoplog.json": j(
            _record(node_records=[dict(node, node_id="n" * 200_000, node_type="t" * 50_000)])
        ),
        "empty.osoplog.json": "",
        "not-json.osoplog.json": '{"a": ',
    }
    return files


def build(folder: Path) -> tuple[list[Path], list[Path]]:
    """Write the corpus into ``folder``: ``(workflows, records)``."""
    folder.mkdir(parents=True, exist_ok=True)
    workflows, records = [], []
    for name, text in _workflows().items():
        path = folder / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        workflows.append(path)
    for name, text in _records().items():
        path = folder / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        records.append(path)
    (folder / "binary.osop.yaml").write_bytes(b"osop_version: '1.1'\x00\xff\xfe")
    (folder / "latin1.osoplog.yaml").write_bytes(b"run_id: caf\xe9\nnode_records: []\n")
    workflows.append(folder / "binary.osop.yaml")
    records.append(folder / "latin1.osoplog.yaml")
    return workflows, records
