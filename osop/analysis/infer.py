"""Infer a workflow from records alone (process discovery, deterministic).

For every pair of steps seen in the records, with the first execution of each
step per run:

* **before** (a → b): in every run that has both, a started first and the two
  did not overlap;
* **parallel** (a ∥ b): both orders were seen, or in some run they overlapped in
  time (each started before the other ended);
* **exclusive** (a # b): each appears in some run, never together.

Edges are the transitive reduction of *before* (a → b unless some c has
a → c → b).  A step with several successors gets parallel edges to those that
are parallel to each other and conditional edges to those that exclude each
other; a conditional edge carries ``when: key == 'value'`` when one output key
of the splitting step tells the branches apart in every run, and becomes a
``weighted`` edge (weight = observed share) when no output does.  Steps that
repeat within a run form a loop: an edge ``loop`` from the last to the first of
the repeated steps, with ``max_iterations`` the most repetitions seen and ``when:
key == value`` if an output of the last step has that value after every
iteration that looped back and another value at every exit (else ``true``,
bounded by ``max_iterations``).

A step b that ran only in runs where a step a failed for good, right after it, is
a's **fallback** (``mode: fallback``), not one of its ordinary successors.

So that the result runs, each step carries the definition it ran with where one is
known — ``definitions`` (the run store keeps the workflow each run executed beside
its record): runtime, outputs, timeouts and retries.  A step whose definition is
unknown keeps the outputs it produced as ``x-simulate`` (rehearsals reproduce
them) and is listed in :attr:`Inference.undefined`: a live run needs its runtime
filled in first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from osop.analysis.records import executions_of, record_start
from osop.record.model import RunRecord, parse_timestamp

__all__ = ["Inference", "Relations", "infer_workflow", "observed_relations"]

Pair = tuple[str, str]


@dataclass
class Relations:
    """Ordering relations among steps (pairs sorted for the symmetric ones)."""

    before: set[Pair] = field(default_factory=set)
    parallel: set[Pair] = field(default_factory=set)
    exclusive: set[Pair] = field(default_factory=set)

    def to_dict(self) -> dict[str, list[list[str]]]:
        return {
            "before": sorted(map(list, self.before)),
            "parallel": sorted(map(list, self.parallel)),
            "exclusive": sorted(map(list, self.exclusive)),
        }


@dataclass
class Inference:
    workflow: dict[str, Any]
    relations: Relations
    loops: list[Pair]
    runs: int
    #: steps of executable types whose runtime no definition told (see the module doc)
    undefined: list[str] = field(default_factory=list)


#: Fields copied from a step's known definition into the inferred node.
_DEFINITION_FIELDS = (
    "name",
    "purpose",
    "description",
    "subtype",
    "runtime",
    "inputs",
    "outputs",
    "timeout",
    "timeout_sec",
    "retry",
    "retry_policy",
    "approval_gate",
    "x-simulate",
)
#: Types that do nothing live without a runtime (human, gateway, data… need none).
_NEEDS_RUNTIME = frozenset(
    {"cli", "api", "db", "git", "docker", "cicd", "infra", "mcp", "system", "agent"}
)


@dataclass
class _Observations:
    nodes: dict[str, Counter[str]] = field(default_factory=dict)  # id → node types seen
    first_seen: dict[str, int] = field(default_factory=dict)
    runs_with: Counter[str] = field(default_factory=Counter)
    together: Counter[Pair] = field(default_factory=Counter)
    first: Counter[Pair] = field(default_factory=Counter)  # (a, b): a started before b
    tie: Counter[Pair] = field(default_factory=Counter)  # overlapped or started together
    repeats: Counter[str] = field(default_factory=Counter)  # id → most executions in one run
    #: per run: completed outputs by node (first execution) and the set of steps run
    outputs: list[tuple[dict[str, dict[str, Any]], set[str]]] = field(default_factory=list)
    #: per run: outputs of every execution of every step, in order
    sequences: list[dict[str, list[dict[str, Any]]]] = field(default_factory=list)
    #: per run: the steps whose last execution failed
    failed: list[set[str]] = field(default_factory=list)


def _observe(records: Sequence[RunRecord]) -> _Observations:
    obs = _Observations()
    for record in records:
        executions = [e for e in executions_of(record) if e.status != "SKIPPED"]
        first: dict[str, float] = {}
        end: dict[str, float] = {}
        position: dict[str, int] = {}  # order in the record: breaks ties of instant steps
        counts: Counter[str] = Counter()
        outs: dict[str, dict[str, Any]] = {}
        sequence: dict[str, list[dict[str, Any]]] = {}
        for e in executions:
            out = e.final.outputs
            sequence.setdefault(e.node_id, []).append(dict(out) if isinstance(out, dict) else {})
            obs.nodes.setdefault(e.node_id, Counter())[e.node_type] += 1
            obs.first_seen.setdefault(e.node_id, len(obs.first_seen))
            counts[e.node_id] += 1
            if e.node_id not in first:
                position[e.node_id] = len(position)
                first[e.node_id] = record_start(e.attempts[0])
                finished = parse_timestamp(e.ended_at)
                end[e.node_id] = finished.timestamp() if finished else first[e.node_id]
                if isinstance(e.final.outputs, dict):
                    outs[e.node_id] = dict(e.final.outputs)
        for node_id, n in counts.items():
            obs.repeats[node_id] = max(obs.repeats[node_id], n)
            obs.runs_with[node_id] += 1
        for a, b in combinations(sorted(first), 2):
            obs.together[(a, b)] += 1
            a_then_b, b_then_a = end[a] <= first[b], end[b] <= first[a]
            if a_then_b and b_then_a:
                # Both took no time at the same instant (timestamps have millisecond
                # resolution, simulated steps are instant): the record's order is the
                # order they happened in.
                a_then_b = position[a] < position[b]
                b_then_a = not a_then_b
            if a_then_b:
                obs.first[(a, b)] += 1
            elif b_then_a:
                obs.first[(b, a)] += 1
            else:
                obs.tie[(a, b)] += 1  # they ran at the same time: concurrent
        obs.outputs.append((outs, set(first)))
        obs.sequences.append(sequence)
        obs.failed.append({e.node_id for e in executions if e.status in ("FAILED", "TIMED_OUT")})
    return obs


def _is_fallback(obs: _Observations, a: str, b: str) -> bool:
    """b ran only in runs where a failed for good (and, being a successor, after a)."""
    runs = [failed for (_, ran), failed in zip(obs.outputs, obs.failed, strict=True) if b in ran]
    return bool(runs) and all(a in failed for failed in runs)


def _relations(obs: _Observations) -> Relations:
    rel = Relations()
    ids = sorted(obs.nodes)
    for a, b in combinations(ids, 2):
        together = obs.together[(a, b)]
        if together == 0:
            rel.exclusive.add((a, b))
        elif obs.first[(a, b)] == together:
            rel.before.add((a, b))
        elif obs.first[(b, a)] == together:
            rel.before.add((b, a))
        else:
            rel.parallel.add((a, b))
    return rel


def observed_relations(records: Sequence[RunRecord]) -> Relations:
    """The before/parallel/exclusive relations the records show."""
    return _relations(_observe(records))


def _kebab(text: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    slug = re.sub(r"-{2,}", "-", slug)
    if not slug or not slug[0].isalpha():
        slug = f"process-{slug}".rstrip("-")
    return slug[:128]


def _cel(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _conditions(obs: _Observations, source: str, branches: list[str]) -> dict[str, str] | None:
    """``when`` per branch from one output key of ``source``, if one tells them apart."""
    keys: set[str] = set()
    for outs, _ in obs.outputs:
        keys.update(outs.get(source, {}))
    for key in sorted(keys):
        values: dict[str, set[Any]] = {b: set() for b in branches}
        owner: dict[Any, str] = {}
        ok = True
        for outs, ran in obs.outputs:
            taken = [b for b in branches if b in ran]
            if source not in outs or len(taken) != 1:
                continue
            value = outs[source].get(key)
            if not isinstance(value, str | int | bool) or isinstance(value, float):
                ok = False
                break
            if owner.setdefault(value, taken[0]) != taken[0]:
                ok = False
                break
            values[taken[0]].add(value)
        if ok and all(values.values()):
            out: dict[str, str] = {}
            for branch, vals in values.items():
                ordered = sorted(vals, key=str)
                if len(ordered) == 1:
                    out[branch] = f"{key} == {_cel(ordered[0])}"
                else:
                    out[branch] = f"{key} in [{', '.join(_cel(v) for v in ordered)}]"
            return out
    return None


def _loop_condition(obs: _Observations, last: str) -> str:
    """``key == value`` true after every iteration that looped back, false at every exit."""
    again: list[dict[str, Any]] = []
    done: list[dict[str, Any]] = []
    for sequence in obs.sequences:
        outs = sequence.get(last, [])
        again.extend(outs[:-1])
        done.extend(outs[-1:])
    if not again:
        return "true"
    for key in sorted(again[0]):
        value = again[0][key]
        if not isinstance(value, str | int | bool) or isinstance(value, float):
            continue
        if all(o.get(key) == value for o in again) and all(o.get(key) != value for o in done):
            return f"{key} == {_cel(value)}"
    return "true"


def infer_workflow(
    records: Sequence[RunRecord], definitions: Mapping[str, Mapping[str, Any]] | None = None
) -> Inference:
    """A workflow (plain ``.osop`` data) that the records are runs of.

    ``definitions``: node id → the node's definition as it ran, where known.
    """
    from osop.errors import OsopError

    if not records:
        raise OsopError("no execution records to infer a process from")
    ids = Counter(r.workflow_id for r in records)
    workflow_id = ids.most_common(1)[0][0]
    runs = [r for r in records if r.workflow_id == workflow_id]
    obs = _observe(runs)
    rel = _relations(obs)
    order = sorted(obs.nodes, key=lambda n: obs.first_seen[n])
    succ: dict[str, list[str]] = {n: [] for n in order}
    for a, b in rel.before:
        if not any((a, c) in rel.before and (c, b) in rel.before for c in order):
            succ[a].append(b)
    edges: list[dict[str, Any]] = []
    for a in order:
        targets = sorted(succ[a], key=lambda n: obs.first_seen[n])
        for t in [t for t in targets if _is_fallback(obs, a, t)]:
            edges.append({"from": a, "to": t, "mode": "fallback"})
            targets.remove(t)
        exclusive = {
            t
            for t in targets
            if any((min(t, u), max(t, u)) in rel.exclusive for u in targets if u != t)
        }
        conditions = _conditions(obs, a, sorted(exclusive)) if exclusive else None
        for t in targets:
            if t in exclusive:
                if conditions is not None:
                    edges.append({"from": a, "to": t, "mode": "conditional", "when": conditions[t]})
                else:
                    share = obs.runs_with[t] / max(obs.runs_with[a], 1)
                    edges.append(
                        {"from": a, "to": t, "mode": "weighted", "weight": round(share, 4)}
                    )
            elif len(targets) > 1:
                edges.append({"from": a, "to": t, "mode": "parallel"})
            else:
                edges.append({"from": a, "to": t})
    looped = [n for n in order if obs.repeats[n] > 1]
    loops: list[Pair] = []
    if looped:
        first, last = looped[0], looped[-1]
        loops.append((last, first))
        edges.append(
            {
                "from": last,
                "to": first,
                "mode": "loop",
                "when": _loop_condition(obs, last),
                "max_iterations": max(obs.repeats[n] for n in looped),
            }
        )
    nodes: list[dict[str, Any]] = []
    undefined: list[str] = []
    for n in order:
        node_type = obs.nodes[n].most_common(1)[0][0]
        node: dict[str, Any] = {"id": n, "type": node_type, "name": n.replace("_", " ")}
        known = (definitions or {}).get(n)
        if known is not None and known.get("type") == node_type:
            node.update({k: known[k] for k in _DEFINITION_FIELDS if k in known})
        else:
            produced = _last_outputs(obs, n)
            if produced:
                node["x-simulate"] = {"outputs": produced}
            if node_type in _NEEDS_RUNTIME:
                undefined.append(n)
        nodes.append(node)
    workflow = {
        "osop_version": "1.1",
        "id": _kebab(workflow_id),
        "name": f"{workflow_id} (inferred from {len(runs)} runs)",
        "version": "0.1.0",
        "description": f"Inferred from {len(runs)} execution records.",
        "nodes": nodes,
        "edges": edges,
    }
    return Inference(workflow, rel, loops, len(runs), undefined)


def _last_outputs(obs: _Observations, node_id: str) -> dict[str, Any]:
    for sequence in reversed(obs.sequences):
        outs = sequence.get(node_id)
        if outs and outs[-1]:
            return dict(outs[-1])
    return {}
