"""Evidence the synthesis rules read from records, beyond :mod:`osop.analysis.stats`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from osop.analysis.error_classes import is_transient
from osop.analysis.records import NodeExecution, executions_of, record_start
from osop.record.model import RunRecord, parse_timestamp

__all__ = ["APPROVALS", "Evidence", "HumanDecision", "gather"]

#: Decisions that mean "approved" (compared case-insensitively).
APPROVALS = frozenset({"approved", "approve", "accepted", "accept", "yes", "ok", "lgtm", "pass"})


@dataclass(frozen=True, slots=True)
class HumanDecision:
    run_id: str
    inputs: dict[str, Any]
    decision: str | None
    #: outputs of every node that completed before the human started, by node id
    upstream: dict[str, dict[str, Any]]

    @property
    def approved(self) -> bool:
        return (self.decision or "").strip().lower() in APPROVALS


@dataclass
class Evidence:
    runs: int = 0
    run_ids: list[str] = field(default_factory=list)
    #: (a, b) → runs in which both ran / in which a's first execution started first
    together: Counter[tuple[str, str]] = field(default_factory=Counter)
    a_first: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: source → executions; (source, target) → executions followed by target
    executions: Counter[str] = field(default_factory=Counter)
    followed: Counter[tuple[str, str]] = field(default_factory=Counter)
    humans: dict[str, list[HumanDecision]] = field(default_factory=dict)
    #: node → error text → failed attempts (final or not)
    errors: dict[str, Counter[str]] = field(default_factory=dict)
    #: node → failed attempts whose error looks transient (timeouts, 5xx, resets…)
    transient_attempts: Counter[str] = field(default_factory=Counter)
    #: node → error code (or status when there is none) → failed attempts
    error_codes: dict[str, Counter[str]] = field(default_factory=dict)
    #: per run: the steps that ran, and those whose last execution failed
    outcomes: list[tuple[frozenset[str], frozenset[str]]] = field(default_factory=list)

    def both_orders(self, a: str, b: str) -> bool:
        """Whether some run started ``a`` first and another started ``b`` first."""
        return self.a_first[(a, b)] > 0 and self.a_first[(b, a)] > 0

    def gates(self, a: str, b: str) -> int:
        """Runs in which ``a`` failed for good and ``b`` never ran: ``a`` gates ``b``."""
        return sum(1 for ran, failed in self.outcomes if a in failed and b not in ran)

    def branch_share(self, source: str, target: str) -> float:
        n = self.executions[source]
        return self.followed[(source, target)] / n if n else 0.0


def _moment(value: str | None) -> float:
    moment = parse_timestamp(value)
    return moment.timestamp() if moment is not None else float("inf")


def _outputs(execution: NodeExecution) -> dict[str, Any]:
    out = execution.final.outputs
    return dict(out) if isinstance(out, dict) else {}


def gather(records: Sequence[RunRecord], pairs: set[tuple[str, str]]) -> Evidence:
    """One pass over the records; ``pairs`` are the (source, target) shares wanted."""
    ev = Evidence()
    targets_of: dict[str, list[str]] = {}
    for source, target in sorted(pairs):
        targets_of.setdefault(source, []).append(target)
    for record in records:
        ev.runs += 1
        ev.run_ids.append(record.run_id)
        executions = [e for e in executions_of(record) if e.status != "SKIPPED"]
        first_start: dict[str, float] = {}
        for e in executions:
            first_start.setdefault(e.node_id, record_start(e.attempts[0]))
        ids = sorted(first_start)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                ev.together[(a, b)] += 1
                if first_start[a] < first_start[b]:
                    ev.a_first[(a, b)] += 1
                elif first_start[b] < first_start[a]:
                    ev.a_first[(b, a)] += 1
        starts = [(_moment(e.started_at), e) for e in executions]
        last_start: dict[str, float] = {}
        for s, e in starts:
            if s != float("inf"):
                last_start[e.node_id] = max(s, last_start.get(e.node_id, s))
        ev.outcomes.append(
            (
                frozenset(e.node_id for e in executions),
                frozenset(e.node_id for e in executions if e.status in ("FAILED", "TIMED_OUT")),
            )
        )
        for e in executions:
            ev.executions[e.node_id] += 1
            end = _moment(e.ended_at)
            for target in targets_of.get(e.node_id, ()):
                if last_start.get(target, float("-inf")) >= end:
                    ev.followed[(e.node_id, target)] += 1
            for attempt in e.attempts:
                if attempt.status in ("FAILED", "TIMED_OUT"):
                    error = attempt.error
                    key = attempt.status
                    code = error.code if error is not None and error.code else attempt.status
                    if error is not None:
                        key = f"{error.code}: {error.message}" if error.code else error.message
                    ev.errors.setdefault(e.node_id, Counter())[key] += 1
                    ev.error_codes.setdefault(e.node_id, Counter())[code] += 1
                    if is_transient(code, error.message if error is not None else None):
                        ev.transient_attempts[e.node_id] += 1
            if e.node_type == "human" and e.status == "COMPLETED":
                final = e.final
                human = final.human_metadata or {}
                decision = human.get("decision") or _outputs(e).get("decision")
                begin = _moment(e.started_at)
                upstream = {
                    o.node_id: _outputs(o)
                    for s, o in starts
                    if o is not e and _moment(o.ended_at) <= begin and o.status == "COMPLETED"
                }
                ev.humans.setdefault(e.node_id, []).append(
                    HumanDecision(
                        record.run_id,
                        dict(final.inputs) if isinstance(final.inputs, dict) else {},
                        str(decision) if decision is not None else None,
                        upstream,
                    )
                )
    return ev
