"""Deterministic generator of execution records of a known process, with the truth.

A process is a small tree: ``Seq`` (one after another), ``Par`` (branches run
concurrently, started in random order), ``Xor`` (exactly one branch, chosen by
weight; the choice is written into an output of the deciding step), ``Task``
(one step) and ``Loop`` (repeat a body).  :func:`generate` runs it N times with a
seeded RNG and returns the records (plain ``.osoplog`` dicts) and, separately,
the truth it used — kept in plain lists, independent of the analysis code — so
tests compare every computed figure with what was actually generated.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

RETRY_GAP_MS = 1000.0
BRANCH_JITTER_MS = 20.0  # whole ms: timestamps are written to the millisecond


@dataclass(frozen=True)
class Step:
    """How one node behaves."""

    id: str
    type: str = "cli"
    duration_ms: tuple[float, float] = (100.0, 200.0)
    transient_failure_rate: float = 0.0  # first attempt fails, the second succeeds
    fatal_failure_rate: float = 0.0  # the execution fails and the run ends FAILED
    error: tuple[str, str] = ("E_TRANSIENT", "temporary failure")
    cost_usd: float = 0.0
    wait_ms: tuple[float, float] | None = None  # human response time
    command: str | None = None
    risk_inputs: tuple[str, ...] = ()  # human: risk levels seen as inputs
    approve_high_risk_rate: float = 1.0
    outputs: dict[str, Any] = field(default_factory=dict)
    tail_rate: float = 0.0  # share of executions that take tail_ms instead
    tail_ms: tuple[float, float] = (0.0, 0.0)
    emits_risk: tuple[str, ...] = ()  # outputs risk_level, which later humans see as input
    extra: dict[str, Any] = field(default_factory=dict)  # more keys of the node definition


@dataclass(frozen=True)
class Task:
    id: str


@dataclass(frozen=True)
class Seq:
    children: tuple[Any, ...]


@dataclass(frozen=True)
class Par:
    children: tuple[Any, ...]


@dataclass(frozen=True)
class Xor:
    decider: str  # step whose output carries the choice
    key: str
    branches: tuple[tuple[str, float, Any], ...]  # (label, weight, subtree)


@dataclass(frozen=True)
class Loop:
    body: Any
    repeat_rate: float
    max_iterations: int = 4
    key: str = "again"


@dataclass
class TruthExecution:
    node_id: str
    node_type: str
    attempts: list[tuple[str, float]]  # (status, duration ms)
    wall_ms: float
    cost_usd: float
    wait_ms: float | None
    errors: list[str]


@dataclass
class TruthRun:
    run_id: str
    status: str
    duration_ms: float
    executions: list[TruthExecution]


@dataclass
class Generated:
    records: list[dict[str, Any]]
    truth: list[TruthRun]
    workflow: dict[str, Any]


class _Stop(Exception):
    """A fatal failure: the run ends."""


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Runner:
    def __init__(self, steps: dict[str, Step], rng: random.Random, start: datetime) -> None:
        self.steps = steps
        self.rng = rng
        self.start = start
        self.records: list[dict[str, Any]] = []
        self.executions: list[TruthExecution] = []
        self.last_record: dict[str, dict[str, Any]] = {}
        self.current_risk = "low"

    def at(self, ms: float) -> str:
        return _iso(self.start + timedelta(milliseconds=ms))

    def run(self, tree: Any, t: float) -> float:
        if isinstance(tree, Task):
            return self.task(self.steps[tree.id], t)
        if isinstance(tree, Seq):
            for child in tree.children:
                t = self.run(child, t)
            return t
        if isinstance(tree, Par):
            order = list(tree.children)
            self.rng.shuffle(order)
            ends: list[float] = []
            stopped: _Stop | None = None
            for i, child in enumerate(order):
                try:
                    ends.append(self.run(child, t + i * BRANCH_JITTER_MS))
                except _Stop as exc:
                    stopped = exc
                    break
            if stopped is not None:
                raise stopped
            return max(ends)
        if isinstance(tree, Xor):
            labels = [b[0] for b in tree.branches]
            weights = [b[1] for b in tree.branches]
            decider = self.last_record[tree.decider]
            given = (decider.get("outputs") or {}).get(tree.key)
            # a decision the step already made (a human's) picks the branch; else chance
            label = given if given in labels else self.rng.choices(labels, weights)[0]
            decider.setdefault("outputs", {})[tree.key] = label
            subtree = next(b[2] for b in tree.branches if b[0] == label)
            return self.run(subtree, t)
        if isinstance(tree, Loop):
            iteration = 0
            while True:
                iteration += 1
                t = self.run(tree.body, t)
                again = iteration < tree.max_iterations and self.rng.random() < tree.repeat_rate
                last = self.records[-1]
                last.setdefault("outputs", {})[tree.key] = again
                if not again:
                    return t
        raise TypeError(tree)

    def task(self, step: Step, t: float) -> float:
        rng = self.rng
        attempts: list[tuple[str, float]] = []
        errors: list[str] = []
        begin = t
        cost = 0.0
        wait: float | None = None
        transient = rng.random() < step.transient_failure_rate
        fatal = rng.random() < step.fatal_failure_rate
        plan = ["FAILED", "COMPLETED"] if transient else ["COMPLETED"]
        if fatal:
            plan[-1] = "FAILED"
        record: dict[str, Any] = {}
        for number, status in enumerate(plan, start=1):
            if step.wait_ms is not None:
                duration = float(round(rng.uniform(*step.wait_ms)))
                wait = duration
            elif step.tail_rate and rng.random() < step.tail_rate:
                duration = float(round(rng.uniform(*step.tail_ms)))
            else:
                duration = float(round(rng.uniform(*step.duration_ms)))
            record = {
                "node_id": step.id,
                "node_type": step.type,
                "attempt": number,
                "status": status,
                "started_at": self.at(t),
                "ended_at": self.at(t + duration),
                "duration_ms": duration,
            }
            if step.emits_risk:
                self.current_risk = rng.choice(step.emits_risk)
                record["outputs"] = {**step.outputs, "risk_level": self.current_risk}
            elif step.type == "human":
                risk = self.current_risk if step.risk_inputs == ("*",) else "low"
                if step.risk_inputs and step.risk_inputs != ("*",):
                    risk = rng.choice(step.risk_inputs)
                approve = risk == "low" or rng.random() < step.approve_high_risk_rate
                record["inputs"] = {"risk_level": risk}
                record["outputs"] = {"decision": "approved" if approve else "rejected"}
                record["human_metadata"] = {
                    "actor": "reviewer@example.com",
                    "decision": record["outputs"]["decision"],
                    "response_time_ms": duration,
                }
            elif step.outputs:
                record["outputs"] = dict(step.outputs)
            if step.cost_usd:
                record["ai_metadata"] = {
                    "model": "model-x",
                    "provider": "offline",
                    "prompt_tokens": 100,
                    "completion_tokens": 20,
                    "cost_usd": step.cost_usd,
                }
                cost += step.cost_usd
            if status == "FAILED":
                code, message = step.error
                record["error"] = {"code": code, "message": message}
                errors.append(f"{code}: {message}")
            self.records.append(record)
            attempts.append((status, duration))
            t += duration
            if number < len(plan):
                t += RETRY_GAP_MS
        self.last_record[step.id] = record
        self.executions.append(
            TruthExecution(step.id, step.type, attempts, t - begin, cost, wait, errors)
        )
        if plan[-1] == "FAILED":
            raise _Stop()
        return t


def generate(
    tree: Any,
    steps: list[Step],
    n: int,
    *,
    seed: int = 0,
    workflow_id: str = "generated-process",
    version: str = "1.0.0",
) -> Generated:
    """``n`` records of ``tree`` (deterministic for a seed) plus the truth and the graph."""
    rng = random.Random(seed)
    by_id = {s.id: s for s in steps}
    base = datetime(2026, 1, 1, tzinfo=UTC)
    records: list[dict[str, Any]] = []
    truth: list[TruthRun] = []
    for i in range(n):
        start = base + timedelta(hours=i)
        runner = _Runner(by_id, rng, start)
        try:
            end = runner.run(tree, 0.0)
            status = "COMPLETED"
        except _Stop:
            end = max(
                (float(r["duration_ms"]) + _offset(base, start, r) for r in runner.records),
                default=0.0,
            )
            status = "FAILED"
        run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        total_cost = sum(e.cost_usd for e in runner.executions)
        record = {
            "osoplog_version": "1.0",
            "run_id": run_id,
            "workflow_id": workflow_id,
            "workflow_version": version,
            "mode": "live",  # stands for real runs (the analyses use live ones)
            "status": status,
            "trigger": {"type": "manual", "actor": "tester"},
            "started_at": _iso(start),
            "ended_at": _iso(start + timedelta(milliseconds=end)),
            "duration_ms": round(end, 3),
            "node_records": runner.records,
            "cost": {"total_usd": round(total_cost, 9)},
        }
        records.append(record)
        truth.append(TruthRun(run_id, status, round(end, 3), runner.executions))
    return Generated(records, truth, workflow_dict(tree, steps, workflow_id, version))


def _offset(base: datetime, start: datetime, record: dict[str, Any]) -> float:
    begun = datetime.fromisoformat(record["started_at"].replace("Z", "+00:00"))
    return (begun - start).total_seconds() * 1000.0


# --- the graph of a tree -------------------------------------------------------------


def workflow_dict(tree: Any, steps: list[Step], workflow_id: str, version: str) -> dict[str, Any]:
    """The ``.osop`` the tree stands for (what an engine would have run)."""
    edges: list[dict[str, Any]] = []

    def emit(node: Any, preds: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        if isinstance(node, Task):
            for p in preds:
                edges.append({**p, "to": node.id})
            return [node.id], [node.id]
        if isinstance(node, Seq):
            entries: list[str] = []
            current = preds
            exits: list[str] = []
            for i, child in enumerate(node.children):
                ins, exits = emit(child, current)
                if i == 0:
                    entries = ins
                current = [{"from": x} for x in exits]
            return entries, exits
        if isinstance(node, Par):
            entries, exits = [], []
            for child in node.children:
                ins, outs = emit(child, [{**p, "mode": "parallel"} for p in preds])
                entries += ins
                exits += outs
            return entries, exits
        if isinstance(node, Xor):
            entries, exits = [], []
            for label, _, child in node.branches:
                branch = [
                    {**p, "mode": "conditional", "when": f"{node.key} == '{label}'"} for p in preds
                ]
                ins, outs = emit(child, branch)
                entries += ins
                exits += outs
            return entries, exits
        if isinstance(node, Loop):
            ins, outs = emit(node.body, preds)
            for x in outs:
                for y in ins:
                    edges.append(
                        {
                            "from": x,
                            "to": y,
                            "mode": "loop",
                            "when": f"{node.key} == true",
                            "max_iterations": node.max_iterations,
                        }
                    )
            return ins, outs
        raise TypeError(node)

    emit(tree, [])
    nodes = []
    for step in steps:
        node: dict[str, Any] = {"id": step.id, "type": step.type, "name": step.id.replace("_", " ")}
        if step.command is not None:
            node["runtime"] = {"command": step.command}
        node.update(step.extra)
        nodes.append(node)
    return {
        "osop_version": "1.1",
        "id": workflow_id,
        "name": workflow_id.replace("-", " "),
        "version": version,
        "nodes": nodes,
        "edges": edges,
    }


# --- ordering relations of a tree ------------------------------------------------------


def _tasks(node: Any) -> list[str]:
    if isinstance(node, Task):
        return [node.id]
    if isinstance(node, Seq | Par):
        return [t for c in node.children for t in _tasks(c)]
    if isinstance(node, Xor):
        return [t for b in node.branches for t in _tasks(b[2])]
    if isinstance(node, Loop):
        return _tasks(node.body)
    raise TypeError(node)


def relations(tree: Any) -> dict[str, set[tuple[str, str]]]:
    """Truth: ``before`` (a always before b), ``parallel`` and ``exclusive`` pairs (sorted)."""
    out: dict[str, set[tuple[str, str]]] = {"before": set(), "parallel": set(), "exclusive": set()}

    def walk(node: Any) -> None:
        if isinstance(node, Task):
            return
        if isinstance(node, Seq):
            groups = [_tasks(c) for c in node.children]
            for i, j in combinations(range(len(groups)), 2):
                out["before"].update((a, b) for a in groups[i] for b in groups[j])
            for c in node.children:
                walk(c)
        elif isinstance(node, Par):
            groups = [_tasks(c) for c in node.children]
            for i, j in combinations(range(len(groups)), 2):
                out["parallel"].update((min(a, b), max(a, b)) for a in groups[i] for b in groups[j])
            for c in node.children:
                walk(c)
        elif isinstance(node, Xor):
            groups = [_tasks(b[2]) for b in node.branches]
            for i, j in combinations(range(len(groups)), 2):
                out["exclusive"].update(
                    (min(a, b), max(a, b)) for a in groups[i] for b in groups[j]
                )
            for b in node.branches:
                walk(b[2])
        elif isinstance(node, Loop):
            walk(node.body)

    walk(tree)
    return out
