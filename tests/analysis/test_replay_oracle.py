"""The token replay against the straightforward one it replaced (``replay_oracle``).

:func:`~osop.analysis.conformance.replay` works from per-workflow tables, columns of
node-record fields and (for a :class:`PlainRecord`) timestamps ranked instead of
parsed. Here thousands of records — generated with loops, retries, failures,
parallel and exclusive branches, then mangled at random (dropped, reordered, instant,
foreign, skipped, failed, retried steps; missing or unreadable timestamps), on
workflows given joins, fallback, timeout, error and loop edges and retry policies —
and every corpus record against every corpus workflow are replayed both ways: every
result (tokens, deviations in order, warnings) must be the same.
"""

from __future__ import annotations

import copy
import gc
import random
import weakref
from pathlib import Path
from typing import Any, get_args

import pytest

from osop.analysis import conformance
from osop.analysis.conformance import ConformanceResult, DeviationKind, replay
from osop.analysis.documents import read_workflow
from osop.analysis.records import executions_of, plain_record, read_plain_record, read_record
from osop.errors import OsopError
from osop.format.workflow import Workflow, workflow_from_dict
from osop.record.model import record_from_dict

from . import replay_oracle
from .generator import Loop, Par, Seq, Step, Task, Xor, generate
from .processes import REVIEW_STEPS, REVIEW_TREE

from corpus_dir import CORPUS  # isort: skip

STEPS = [
    Step("a", "api", (50, 150), transient_failure_rate=0.3, error=("E_NET", "reset")),
    Step("b", "cli", (100, 300), fatal_failure_rate=0.05, error=("E_LOCK", "locked")),
    Step("c", "cli", (0, 0)),  # instant steps: ties everywhere
    Step("d", "agent", (100, 300), transient_failure_rate=0.2, error=("E_RATE", "slow down")),
    Step("e", "cli", (100, 200)),
    Step("f", "cli", (100, 200)),
    Step("g", "api", (50, 80)),
    Step("h", "cli", (0, 0), fatal_failure_rate=0.03),
    Step("i", "cli", (10, 20)),
]
TREE = Seq(
    (
        Task("a"),
        Loop(Seq((Task("b"), Task("c"))), repeat_rate=0.5, max_iterations=3),
        Par((Task("d"), Seq((Task("e"), Task("f"))))),
        Task("g"),  # a join
        Xor("g", "route", (("x", 0.6, Task("h")), ("y", 0.4, Task("i")))),
    )
)


def _workflows(data: dict[str, Any], rng: random.Random) -> list[Workflow]:
    """The generated workflow and variants of it that exercise every kind of edge."""
    variants = [copy.deepcopy(data) for _ in range(6)]
    first, second = variants[0]["nodes"][0]["id"], variants[0]["nodes"][1]["id"]
    last = variants[0]["nodes"][-1]["id"]
    # retry policies: per node, and workflow-wide with retryable errors
    for node in variants[1]["nodes"]:
        node["retry_policy"] = {"max_retries": rng.choice([0, 1, 3]), "strategy": "fixed"}
    variants[2]["retry_policy"] = {
        "max_retries": 2,
        "strategy": "fixed",
        "retryable_errors": ["E_NET"],
    }
    # joins: wait_any, wait_n on every edge into a node with several inputs
    counts: dict[str, int] = {}
    for edge in data["edges"]:
        counts[edge["to"]] = counts.get(edge["to"], 0) + 1
    for variant, join in ((variants[3], "wait_any"), (variants[4], "wait_n")):
        for edge in variant["edges"]:
            if counts[edge["to"]] > 1:
                edge["join_mode"] = join
                if join == "wait_n":
                    edge["join_count"] = 2
    # fallback, timeout, error, loop, event edges and an extra entry node
    more = variants[5]
    more["nodes"].append({"id": "rescue", "type": "cli"})
    more["nodes"].append({"id": "lonely", "type": "cli"})
    more["edges"] += [
        {"from": first, "to": "rescue", "mode": "fallback"},
        {"from": second, "to": "rescue", "mode": "timeout"},
        {"from": last, "to": "rescue", "mode": "error"},
        {"from": "rescue", "to": last, "mode": "sequential"},
        {"from": second, "to": first, "mode": "loop", "when": "again"},
        {"from": "lonely", "to": second, "mode": "event"},
    ]
    return [workflow_from_dict(v) for v in [data, *variants]]


_STATUSES = ["COMPLETED", "FAILED", "TIMED_OUT", "SKIPPED", "CANCELLED", "RUNNING"]


def _mangle(record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The record with a few random changes a replay must notice (or not)."""
    record = copy.deepcopy(record)
    nodes: list[dict[str, Any]] = record["node_records"]
    for _ in range(rng.randint(0, 3)):
        if not nodes:
            break
        i = rng.randrange(len(nodes))
        node = nodes[i]
        change = rng.randrange(13)
        if change == 0 and len(nodes) > 1:
            del nodes[i]
        elif change == 1:
            node["status"] = rng.choice(_STATUSES)
        elif change == 2:
            j = rng.randrange(len(nodes))
            node["started_at"], nodes[j]["started_at"] = nodes[j]["started_at"], node["started_at"]
        elif change == 3:
            node.pop("ended_at", None)
        elif change == 4:
            node["started_at"] = rng.choice(["soon", "2026-02-30T00:00:00.000Z"])
        elif change == 5:
            nodes.append({**node, "node_id": rng.choice(["intruder", "ghost"])})
        elif change == 6:  # a retry: a failed attempt before it
            node["attempt"] = node["attempt"] + 1
            failed = {**node, "attempt": node["attempt"] - 1, "status": "FAILED"}
            failed["error"] = {"code": rng.choice(["E_NET", "E_X", None, 7]), "message": "m"}
            nodes.insert(i, failed)
        elif change == 7:
            node["iteration"] = rng.randint(1, 3)
        elif change == 8:
            record["status"] = rng.choice(["FAILED", "CANCELLED", "COMPLETED"])
        elif change == 9:
            node["ended_at"] = node["started_at"]
        elif change == 11:  # it starts as early as an earlier step
            node["started_at"] = nodes[rng.randrange(i + 1)]["started_at"]
        elif change == 10:
            nodes.insert(rng.randrange(len(nodes) + 1), copy.deepcopy(node))
        else:
            nodes.reverse()
    if rng.random() < 0.05:
        record["workflow_id"] = "another-process"
    return record


def _same(workflow: Workflow, data: dict[str, Any], name: str) -> set[str]:
    """The kinds of deviation found (the same both ways)."""
    record = record_from_dict(data)
    assert executions_of(record) == replay_oracle.executions_of(record)
    expected = replay_oracle.replay(workflow, record, name)
    got = [replay(workflow, record_from_dict(data), name)]
    plain = plain_record(data)
    if plain.nodes is not None:
        got.append(replay(workflow, plain, name))
    for result in got:
        _equal(result, expected)
    return {d.kind for d in expected.deviations}


def _equal(result: ConformanceResult, expected: ConformanceResult) -> None:
    assert result.to_dict() == expected.to_dict()
    assert result.deviations == expected.deviations  # in order, with their texts
    assert result.warnings == expected.warnings


@pytest.mark.parametrize(
    ("tree", "steps", "seed"), [(TREE, STEPS, 1), (TREE, STEPS, 2), (REVIEW_TREE, REVIEW_STEPS, 3)]
)
def test_replay_matches_the_straightforward_replay(tree: Any, steps: list[Step], seed: int) -> None:
    rng = random.Random(seed)
    generated = generate(tree, steps, 120, seed=seed)
    workflows = _workflows(generated.workflow, rng)
    kinds: set[str] = set()
    for number, data in enumerate(generated.records):
        for workflow in workflows:
            for copy_number in range(3):
                record = data if copy_number == 0 else _mangle(data, rng)
                kinds |= _same(workflow, record, f"r{number}")
    # the records exercised every kind of deviation
    assert kinds == set(get_args(DeviationKind))


def test_the_per_workflow_tables_are_built_once_and_let_go() -> None:
    generated = generate(TREE, STEPS, 1, seed=1)
    workflow = workflow_from_dict(generated.workflow)
    record = record_from_dict(generated.records[0])
    first = replay(workflow, record)
    net = conformance._NETS[workflow]
    assert replay(workflow, record).to_dict() == first.to_dict()
    assert conformance._NETS[workflow] is net  # built once per workflow
    gone = weakref.ref(workflow)
    del workflow, net
    gc.collect()
    assert gone() is None  # the tables do not keep their workflow alive


def _corpus(pattern: str) -> list[Path]:
    return sorted(CORPUS.glob(pattern)) if CORPUS.is_dir() else []


@pytest.mark.skipif(not _corpus("*.osoplog*"), reason="corpus not present")
def test_corpus_records_on_every_corpus_workflow() -> None:
    workflows = []
    for path in _corpus("*.osop*"):
        if ".osoplog" in path.name or path.suffix not in (".osop", ".yaml", ".yml"):
            continue
        try:
            workflows.append(read_workflow(str(path)))
        except OsopError:  # not every corpus file is a valid workflow
            continue
    assert len(workflows) > 10
    logs = 0
    for log in _corpus("*.osoplog*"):
        try:
            record = read_record(log)
        except OsopError:  # nor every corpus log a record
            continue
        plain = read_plain_record(log)
        logs += 1
        for workflow in workflows:
            expected = replay_oracle.replay(workflow, record, log.name)
            _equal(replay(workflow, record, log.name), expected)
            _equal(replay(workflow, plain, log.name), expected)
    assert logs > 5
