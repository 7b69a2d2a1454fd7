"""Improve a workflow from its records (binding §7.2–§7.3), deterministically.

Each rule reads evidence from the records, proposes a change with that
evidence attached, and the accepted changes are applied to a copy of the base's
data.  The result must pass the validator; estimates before and after come
from :mod:`osop.analysis.estimates`.  Rules and thresholds (docs/analysis.md):

========================  ===============================================================
add_retry                 ≥ 5 executions, no retry policy on the node or the workflow, ≥ 2
                          failed attempts, and either ≥ 2 failed-then-succeeded attempts
                          or at least half the failed attempts with a transient-looking
                          error (timeouts, 5xx/429, refused or reset connections…: see
                          error_classes); expected success per execution 1 − pᵏ with p
                          the attempt failure rate and k the attempts allowed
add_timeout               ≥ 10 attempts, attempt p95 ≥ 3 × p50, no timeout; not human
                          nodes; limit = ⌈1.5 × p95⌉ seconds
parallelize               a sequential link A → B, the only edge out of A and into B, no
                          data reference of either to the other, neither human/gateway/
                          event, approval-gated or dangerous; ≥ 5 runs with both; never
                          when A gates B (some run where A failed and B never ran);
                          pairs seen in both orders are taken first
add_conditional_bypass    a human node waiting ≥ 15 min on average whose input key k had
                          the value v in ≥ 5 decisions, all approvals, while other values
                          were not always approved, and whose single predecessor outputs
                          k with the same value
add_precheck              ≥ 3 failed executions, one error text in ≥ 80 % of the failed
                          attempts, and fewer than half of the failures transient
                          (recovered on retry or transient-looking); a
                          ``cli`` check derived from the error where it names what was
                          missing, else a ``human`` checklist step (see prechecks)
add_approval_gate         a command classified ``dangerous`` with no approval gate and no
                          human step right before it
========================  ===============================================================

Every rule builds a :class:`Proposal` and applies it through
:func:`osop.analysis.changes.apply_proposal` — the same function that replays
approved changes of an iteration record onto the base file.
"""

from __future__ import annotations

import copy
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from hashlib import sha256
from typing import Any

import yaml

from osop.analysis.changes import DETERMINISTIC_TYPES, apply_proposal, change_id
from osop.analysis.error_classes import is_transient
from osop.analysis.estimates import Estimate, EstimateInputs, estimate
from osop.analysis.evidence import Evidence, gather
from osop.analysis.graph_edit import (
    WorkflowData,
    cel_literal,
    edges_from,
    edges_to,
    mentions,
    node_data,
)
from osop.analysis.infer import infer_workflow
from osop.analysis.prechecks import derive_precheck
from osop.analysis.stats import NodeStats, WorkflowStats, compute_stats
from osop.errors import OsopError, ValidationError
from osop.format.validate import validate_text
from osop.format.workflow import Node, Workflow, workflow_from_dict
from osop.record.model import RunRecord

__all__ = [
    "GOALS",
    "RULES",
    "Finding",
    "Proposal",
    "SynthesisResult",
    "command_level",
    "dump_workflow",
    "improve",
    "synthesize",
]

RULES = DETERMINISTIC_TYPES  # every deterministic change type has its rule
#: Which rules serve which goal (any other goal text, or none: every rule).
GOALS: dict[str, tuple[str, ...]] = {
    "speed": ("parallelize", "add_conditional_bypass", "add_timeout", "add_approval_gate"),
    "reliability": ("add_retry", "add_precheck", "add_timeout", "add_approval_gate"),
    "cost": ("add_retry", "add_precheck", "add_approval_gate"),
}

MIN_EXECUTIONS = 5
RETRY_MIN_TRANSIENT = 2
RETRY_MAX_RETRIES = 2
TIMEOUT_MIN_EXECUTIONS = 10
TIMEOUT_TAIL_RATIO = 3.0
TIMEOUT_FACTOR = 1.5
HUMAN_WAIT_MIN_MS = 15 * 60 * 1000
BYPASS_MIN_CASES = 5
PRECHECK_MIN_FAILURES = 3
PRECHECK_SAME_ERROR_SHARE = 0.8
HOTSPOT_FAILURE_RATE = 0.05
BOTTLENECK_SHARE = 0.25
_NOT_PARALLEL_TYPES = {"human", "gateway", "event", "company", "department"}
_APPROVAL_WORDS = re.compile(r"approv|accept|\byes\b|\bok\b|lgtm", re.IGNORECASE)


@dataclass
class Proposal:
    """One proposed change with the evidence behind it (binding §7.3 proposed_changes)."""

    type: str
    target: str | list[str]
    reason: str
    evidence: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    source: str = "deterministic"

    @property
    def id(self) -> str:
        return change_id({"type": self.type, "target": self.target})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type, "target": self.target}
        if self.config:
            out["config"] = self.config
        out["reason"] = self.reason
        out["evidence"] = self.evidence
        out["source"] = self.source
        out["status"] = "proposed"
        return out


@dataclass
class Finding:
    """A hotspot or a bottleneck (binding §7.3 analysis)."""

    node_id: str
    issue: str
    suggestion: str

    def to_dict(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "issue": self.issue, "suggestion": self.suggestion}


@dataclass
class SynthesisResult:
    workflow: WorkflowData
    proposals: list[Proposal]
    hotspots: list[Finding]
    bottlenecks: list[Finding]
    before: Estimate
    after: Estimate
    based_on_runs: list[str]
    goal: str | None
    inferred: bool = False
    #: what a language model was asked and answered (see llm_proposals), if one was
    llm: dict[str, Any] | None = None
    #: the figures the "after" estimate was computed from (to re-estimate after edits)
    estimate_inputs: EstimateInputs | None = None
    #: what the user should know about the records used (other workflows left out…)
    warnings: list[str] = field(default_factory=list)
    #: the workflow improved: id, version, base file and its hash, proposed version
    origin: dict[str, Any] = field(default_factory=dict)
    #: which records were used (modes, counts) — see osop.analysis.selection
    selection: dict[str, Any] = field(default_factory=dict)

    @property
    def iteration_id(self) -> str:
        digest = sha256("\n".join(self.based_on_runs).encode()).hexdigest()
        return f"iter-{digest[:12]}"

    def iteration_record(self) -> dict[str, Any]:
        """The iteration record of binding §7.3, with estimates."""
        return {
            "iteration": {
                "id": self.iteration_id,
                "based_on_runs": list(self.based_on_runs),
                **({"workflow": dict(self.origin)} if self.origin else {}),
                **({"records": dict(self.selection)} if self.selection else {}),
                "goal": self.goal,
                "inferred": self.inferred,
                **({"warnings": list(self.warnings)} if self.warnings else {}),
                "analysis": {
                    "hotspots": [f.to_dict() for f in self.hotspots],
                    "bottlenecks": [f.to_dict() for f in self.bottlenecks],
                },
                "proposed_changes": [p.to_dict() for p in self.proposals],
                "estimates": {"before": self.before.to_dict(), "after": self.after.to_dict()},
                **({"llm": self.llm} if self.llm is not None else {}),
                "status": "proposed",
            }
        }


def command_level(node: Node) -> tuple[str, list[str]] | None:
    """Risk level of a node's shell command (binding §9.2), or ``None`` without one."""
    runtime = node.runtime
    command = runtime.get("command") or runtime.get("cmd") or runtime.get("script")
    if not isinstance(command, str | list) or not command:
        return None
    from osop.security.commands import classify_command

    result = classify_command(command if isinstance(command, str) else [str(c) for c in command])
    return result.level, [r.rule for r in result.reasons]


def dump_workflow(data: WorkflowData) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


class _Synthesizer:
    def __init__(
        self,
        base: Workflow,
        records: Sequence[RunRecord],
        goal: str | None,
        workflow_id: str | None = None,
    ) -> None:
        self.base = base
        self.records = records
        self.goal = goal
        self.rules = set(GOALS.get((goal or "").strip().lower(), RULES))
        self.warnings: list[str] = []
        matching = _runs_of(workflow_id or base.id, records, self.warnings)
        stats = compute_stats(matching)
        if not stats:
            raise OsopError("no execution records to learn from")
        self.stats: WorkflowStats = max(stats, key=lambda s: s.total_runs)
        if len(stats) > 1:
            # several versions of the same workflow: pool them (figures are per node id)
            self.stats = compute_stats([replace(r, workflow_version=None) for r in matching])[0]
        self.runs = matching
        pairs = {(e.source, t) for e in base.edges for t in e.targets}
        pairs |= {
            (p.source, t)
            for h in base.nodes
            for p in base.incoming(h.id)
            for e in base.outgoing(h.id)
            for t in e.targets
        }
        self.ev: Evidence = gather(matching, pairs)
        self.data: WorkflowData = copy.deepcopy(base.raw)
        self.proposals: list[Proposal] = []
        self.synthesized: set[str] = set()
        self.after_factor: dict[str, float] = {}
        self.after_shares: dict[tuple[str, str], float] = {}
        self.retry_gain: dict[str, float] = {}

    # -- helpers ---------------------------------------------------------------------------

    def node_stats(self, node_id: str) -> NodeStats | None:
        return self.stats.node_stats.get(node_id)

    def propose(self, proposal: Proposal) -> None:
        """Record the proposal and apply it to the new workflow (one code path)."""
        apply_proposal(self.data, proposal.to_dict())
        self.proposals.append(proposal)

    # -- node-level rules ------------------------------------------------------------------

    def retries(self) -> None:
        for node in self.base.nodes:
            ns = self.node_stats(node.id)
            if ns is None or node.retry is not None or self.base.retry is not None:
                continue
            if node.type in _NOT_PARALLEL_TYPES or ns.executions < MIN_EXECUTIONS:
                continue
            if ns.failed_attempts < RETRY_MIN_TRANSIENT:
                continue
            transient_errors = self.ev.transient_attempts[node.id]
            recovered = ns.transient_failures >= RETRY_MIN_TRANSIENT
            if not recovered and transient_errors * 2 < ns.failed_attempts:
                continue  # the failures look permanent: a retry would fail the same way
            config = {"max_retries": RETRY_MAX_RETRIES, "strategy": "exponential", "backoff_sec": 1}
            attempts = RETRY_MAX_RETRIES + 1
            p = ns.failure_rate  # per attempt: independent trials, each failing with p
            before = 1.0 - ns.execution_failure_rate
            after = max(before, 1.0 - p**attempts)
            self.retry_gain[node.id] = after / max(before, 1e-9)
            codes = dict(self.ev.error_codes.get(node.id, Counter()).most_common())
            why = (
                f"{ns.transient_failures} of {ns.executions} executions failed and then "
                "succeeded on another attempt: the failures are transient"
                if recovered
                else f"{ns.failed_attempts} of {ns.attempts} attempts failed, "
                f"{transient_errors} of them with errors that pass by themselves "
                f"({', '.join(c for c in codes if is_transient(c, None)) or 'by their text'})"
            )
            self.propose(
                Proposal(
                    "add_retry",
                    node.id,
                    f"{why}; with {attempts} attempts the expected success rate goes from "
                    f"{before:.1%} to {after:.1%} (1 − p^{attempts}, p = {p:.3f})",
                    {
                        "runs": ns.runs_with_node,
                        "executions": ns.executions,
                        "attempts": ns.attempts,
                        "failed_attempts": ns.failed_attempts,
                        "transient_failures": ns.transient_failures,
                        "transient_looking_failures": transient_errors,
                        "attempt_failure_rate": round(p, 4),
                        "success_rate_before": round(before, 4),
                        "success_rate_after": round(after, 4),
                        "error_codes": codes,
                        "errors": dict(ns.errors),
                    },
                    config,
                )
            )

    def timeouts(self) -> None:
        for node in self.base.nodes:
            ns = self.node_stats(node.id)
            if ns is None or ns.attempt_duration_ms is None or node.type == "human":
                continue
            if node.timeout_sec is not None or ns.attempts < TIMEOUT_MIN_EXECUTIONS:
                continue
            d = ns.attempt_duration_ms  # a timeout limits one attempt
            if d.p50 <= 0 or d.p95 < TIMEOUT_TAIL_RATIO * d.p50:
                continue
            limit = max(1, math.ceil(TIMEOUT_FACTOR * d.p95 / 1000.0))
            self.propose(
                Proposal(
                    "add_timeout",
                    node.id,
                    f"p95 {d.p95:.0f} ms is {d.p95 / d.p50:.1f}× the median {d.p50:.0f} ms: "
                    "a long tail that should be bounded",
                    {
                        "attempts": ns.attempts,
                        "p50_ms": round(d.p50, 3),
                        "p95_ms": round(d.p95, 3),
                        "max_ms": round(d.maximum, 3),
                    },
                    {"timeout_sec": limit},
                )
            )

    def approval_gates(self) -> None:
        for node in self.base.nodes:
            level = command_level(node)
            if level is None or level[0] != "dangerous" or node.requires_approval:
                continue
            if any(
                self.base.has_node(e.source) and self.base.node(e.source).type == "human"
                for e in self.base.incoming(node.id)
            ):
                continue
            command = node.runtime.get("command") or node.runtime.get("cmd")
            ns = self.node_stats(node.id)
            self.propose(
                Proposal(
                    "add_approval_gate",
                    node.id,
                    f"the command is classified dangerous ({', '.join(level[1])}) and runs "
                    "without a human approval",
                    {
                        "command": command,
                        "level": level[0],
                        "rules": level[1],
                        "executions_without_approval": ns.executions if ns else 0,
                    },
                    {"approval_gate": {"required": True}},
                )
            )

    # -- graph rules -----------------------------------------------------------------------

    def _parallel_candidate(self, a: str, b: str) -> bool:
        if a in self.synthesized or b in self.synthesized:
            return False
        out_a, in_b = edges_from(self.data, a), edges_to(self.data, b)
        if len(out_a) != 1 or len(in_b) != 1 or out_a[0] is not in_b[0]:
            return False
        link = out_a[0]
        if (link.get("mode") or "sequential") != "sequential" or link.get("when") is not None:
            return False
        if link.get("condition") is not None:
            return False
        for edge in edges_to(self.data, a) + edges_from(self.data, b):
            if (edge.get("mode") or "sequential") not in ("sequential", "parallel"):
                return False
            if edge.get("when") is not None or edge.get("condition") is not None:
                return False
        for node_id in (a, b):
            node = self.base.node(node_id)
            if node.type in _NOT_PARALLEL_TYPES or node.requires_approval:
                return False
            level = command_level(node)
            if level is not None and level[0] in ("dangerous", "blocked"):
                return False
            if "approval_gate" in node_data(self.data, node_id):
                return False
        if mentions(node_data(self.data, b), a) or mentions(node_data(self.data, a), b):
            return False
        if self.ev.gates(a, b):
            return False  # a's failure ends the run before b: b must wait for a
        pair = (min(a, b), max(a, b))
        return self.ev.together[pair] >= MIN_EXECUTIONS

    def _parallel_rank(self, a: str, b: str) -> tuple[int, int]:
        """Stronger evidence first: seen in both orders ≫ merely never referencing."""
        pair = (min(a, b), max(a, b))
        return (1 if self.ev.both_orders(a, b) else 0, self.ev.together[pair])

    def parallelism(self) -> None:
        for _ in range(len(self.base.nodes)):
            candidates = [
                (str(edge.get("from")), str(edge.get("to")))
                for edge in list(self.data.get("edges", []))
                if self.base.has_node(str(edge.get("from")))
                and self.base.has_node(str(edge.get("to")))
            ]
            found = [c for c in candidates if self._parallel_candidate(*c)]
            if not found:
                return
            a, b = max(found, key=lambda c: self._parallel_rank(*c))  # first of the best
            sa, sb = self.node_stats(a), self.node_stats(b)
            mean_a = sa.duration_ms.mean if sa and sa.duration_ms else 0.0
            mean_b = sb.duration_ms.mean if sb and sb.duration_ms else 0.0
            pair = (min(a, b), max(a, b))
            both = self.ev.both_orders(a, b)
            reason = (
                f"{a} and {b} ran in both orders ({self.ev.a_first[(a, b)]} runs {a} first, "
                f"{self.ev.a_first[(b, a)]} runs {b} first) and neither uses what the other "
                "produces"
                if both
                else f"{b} uses nothing {a} produces (no ${{outputs.{a}...}} or other "
                f"reference), and no run shows {a} gating {b}, so it need not wait for it"
            )
            self.propose(
                Proposal(
                    "parallelize",
                    [a, b],
                    reason,
                    {
                        "runs_with_both": self.ev.together[pair],
                        "seen_in_both_orders": both,
                        f"{a}_first": self.ev.a_first[(a, b)],
                        f"{b}_first": self.ev.a_first[(b, a)],
                        f"{a}_failed_before_{b}": 0,
                        f"{a}_mean_ms": round(mean_a, 3),
                        f"{b}_mean_ms": round(mean_b, 3),
                        "expected_saving_ms": round(min(mean_a, mean_b), 3),
                        "data_references": [],
                    },
                )
            )

    def bypasses(self) -> None:
        for node in self.base.nodes:
            if node.type != "human":
                continue
            ns = self.node_stats(node.id)
            wait = ns.human_wait_ms if ns else None
            if ns is None or wait is None or wait.mean < HUMAN_WAIT_MIN_MS:
                continue
            incoming = edges_to(self.data, node.id)
            if len(incoming) != 1 or (incoming[0].get("mode") or "sequential") != "sequential":
                continue
            if incoming[0].get("when") is not None:
                continue
            before = str(incoming[0]["from"])
            decisions = self.ev.humans.get(node.id, [])
            choice = self._low_risk_value(decisions, before)
            if choice is None:
                continue
            key, value, cases = choice
            targets = self._approval_targets(node.id)
            if not targets:
                continue
            when = f"{key} == {cel_literal(value)}"
            share = cases / len(decisions)
            self.after_factor[node.id] = 1.0 - share
            self.after_shares[(before, node.id)] = 1.0 - share
            for target in targets:
                self.after_shares[(before, target)] = share
            approvals = sum(1 for d in decisions if d.approved)
            self.propose(
                Proposal(
                    "add_conditional_bypass",
                    node.id,
                    f"{node.id} waits {wait.mean / 60000:.0f} min on average and approved every "
                    f"one of {cases} cases with {key} == {value!r}",
                    {
                        "decisions": len(decisions),
                        "approvals": approvals,
                        "cases_with_value": cases,
                        "approved_with_value": cases,
                        "mean_wait_ms": round(wait.mean, 3),
                        "p95_wait_ms": round(wait.p95, 3),
                        "value_source": before,
                    },
                    {
                        "condition": when,
                        "bypass_to": targets,
                        "from": before,
                        "key": key,
                        "value": value,
                    },
                )
            )

    def _low_risk_value(self, decisions: list[Any], before: str) -> tuple[str, Any, int] | None:
        if len(decisions) < BYPASS_MIN_CASES:
            return None
        best: tuple[str, Any, int] | None = None
        keys = sorted({k for d in decisions for k in d.inputs})
        for key in keys:
            by_value: dict[Any, list[Any]] = {}
            for d in decisions:
                value = d.inputs.get(key)
                if isinstance(value, str | int | bool) and not isinstance(value, float):
                    by_value.setdefault(value, []).append(d)
            if len(by_value) < 2:
                continue
            for value, cases in sorted(by_value.items(), key=lambda kv: str(kv[0])):
                others = [d for v, ds in by_value.items() if v != value for d in ds]
                if len(cases) < BYPASS_MIN_CASES or not all(d.approved for d in cases):
                    continue
                if all(d.approved for d in others):
                    continue  # everything is approved: the key says nothing about risk
                carried = all(d.upstream.get(before, {}).get(key) == value for d in cases) and all(
                    d.upstream.get(before, {}).get(key) == d.inputs.get(key) for d in others
                )
                if carried and (best is None or len(cases) > best[2]):
                    best = (key, value, len(cases))
        return best

    def _approval_targets(self, human: str) -> list[str]:
        out = edges_from(self.data, human)
        chosen = [
            str(e["to"])
            for e in out
            if isinstance(e.get("when"), str)
            and _APPROVAL_WORDS.search(e["when"])
            and "!=" not in e["when"]
            and "!" not in e["when"].split("==")[0]
        ]
        if chosen:
            return chosen
        return [
            str(e["to"])
            for e in out
            if (e.get("mode") or "sequential") in ("sequential", "parallel") and not e.get("when")
        ]

    def prechecks(self) -> None:
        for node in self.base.nodes:
            ns = self.node_stats(node.id)
            if ns is None or ns.failed_executions < PRECHECK_MIN_FAILURES:
                continue
            errors: Counter[str] = self.ev.errors.get(node.id, Counter())
            if not errors:
                continue
            error, count = errors.most_common(1)[0]
            if count < PRECHECK_SAME_ERROR_SHARE * ns.failed_attempts:
                continue
            transient = max(ns.transient_failures, self.ev.transient_attempts[node.id])
            if transient * 2 >= ns.failed_attempts:
                continue  # mostly passing faults: a retry's job, not a check's
            new_id = f"{node.id}_precheck"
            if self.base.has_node(new_id):
                continue
            check = derive_precheck(node.id, node.label, node.type, error)
            self.synthesized.add(new_id)
            config: dict[str, Any] = {"node_id": new_id, "kind": check.kind, "node": check.node}
            if check.when is not None:
                config["when"] = check.when
            self.propose(
                Proposal(
                    "add_precheck",
                    node.id,
                    f"{count} of {ns.failed_attempts} failed attempts of {node.id} report the "
                    f"same error: {error}; {check.why}",
                    {
                        "executions": ns.executions,
                        "failed_executions": ns.failed_executions,
                        "failed_attempts": ns.failed_attempts,
                        "error": error,
                        "count": count,
                        "check": check.kind,
                    },
                    config,
                )
            )

    # -- analysis --------------------------------------------------------------------------

    def findings(self) -> tuple[list[Finding], list[Finding]]:
        by_target: dict[str, list[str]] = {}
        for p in self.proposals:
            for t in [p.target] if isinstance(p.target, str) else p.target:
                by_target.setdefault(t, []).append(p.type)
        hotspots: list[Finding] = []
        bottlenecks: list[Finding] = []
        run_mean = self.stats.duration_ms.mean if self.stats.duration_ms else 0.0
        for node_id, ns in self.stats.node_stats.items():
            fixes = ", ".join(by_target.get(node_id, [])) or "none proposed (see evidence)"
            if ns.failure_rate >= HOTSPOT_FAILURE_RATE:
                top = ns.errors[0][0] if ns.errors else "no error recorded"
                hotspots.append(
                    Finding(
                        node_id,
                        f"{ns.failure_rate:.0%} of attempts failed, mostly {top}",
                        fixes,
                    )
                )
            d, a = ns.duration_ms, ns.attempt_duration_ms
            if d is not None and run_mean and d.mean >= BOTTLENECK_SHARE * run_mean:
                bottlenecks.append(
                    Finding(
                        node_id,
                        f"average {d.mean / 1000:.1f} s per execution; "
                        f"a run averages {run_mean / 1000:.1f} s",
                        fixes,
                    )
                )
            elif a is not None and a.p50 > 0 and a.p95 >= TIMEOUT_TAIL_RATIO * a.p50:
                bottlenecks.append(
                    Finding(
                        node_id,
                        f"long tail: attempt p95 {a.p95:.0f} ms vs median {a.p50:.0f} ms",
                        fixes,
                    )
                )
        return hotspots, bottlenecks

    def run(self) -> SynthesisResult:
        order = (
            ("add_retry", self.retries),
            ("add_timeout", self.timeouts),
            ("add_approval_gate", self.approval_gates),
            ("parallelize", self.parallelism),
            ("add_conditional_bypass", self.bypasses),
            ("add_precheck", self.prechecks),
        )
        for name, rule in order:
            if name in self.rules:
                rule()
        before_shares = {
            (e.source, t): self.ev.branch_share(e.source, t)
            for e in self.base.edges
            for t in e.targets
        }
        before_inputs = EstimateInputs.from_stats(self.stats, before_shares)
        before = estimate(self.base, before_inputs)
        if self.proposals:
            self.data["version"] = _bump(self.base.version)
        after_wf = workflow_from_dict(self.data)
        after_inputs = EstimateInputs.from_stats(self.stats, {**before_shares, **self.after_shares})
        after_inputs.retry_gain = self.retry_gain
        after_inputs.run_share_factor = self.after_factor
        after = estimate(after_wf, after_inputs)
        hotspots, bottlenecks = self.findings()
        return SynthesisResult(
            workflow=self.data,
            proposals=self.proposals,
            hotspots=hotspots,
            bottlenecks=bottlenecks,
            before=before,
            after=after,
            based_on_runs=[r.run_id for r in self.runs],
            goal=self.goal,
            estimate_inputs=after_inputs,
            warnings=self.warnings,
        )


def _runs_of(
    workflow_id: str, records: Sequence[RunRecord], warnings: list[str]
) -> list[RunRecord]:
    """The records of ``workflow_id``; say what is left out, or that none matched."""
    matching = [r for r in records if r.workflow_id == workflow_id]
    others = Counter(r.workflow_id for r in records if r.workflow_id != workflow_id)
    names = ", ".join(f"{k!r} ({n})" for k, n in sorted(others.items()))
    if not matching:
        # learning from runs of another id still beats refusing (a renamed workflow)
        warnings.append(
            f"no record is of workflow {workflow_id!r} (they are of {names}): "
            f"learning from all {len(records)} of them"
        )
        return list(records)
    if others:
        warnings.append(
            f"left out {sum(others.values())} record(s) of other workflows ({names}): "
            f"learning from the {len(matching)} of {workflow_id!r}"
        )
    return matching


def _bump(version: str | None) -> str:
    """``1.2.0`` → ``1.3.0``; anything else gets ``-improved``."""
    if not version:
        return "0.1.0"
    parts = version.split(".")
    if len(parts) >= 2 and all(p.isdigit() for p in parts[:2]):
        return ".".join([parts[0], str(int(parts[1]) + 1), *(["0"] * (len(parts) - 2))])
    return f"{version}-improved"


def check_valid(data: WorkflowData, name: str = "synthesized.osop") -> None:
    """Raise :class:`ValidationError` unless ``data`` passes the validator."""
    report = validate_text(dump_workflow(data), name, kind="workflow", max_bytes=None)
    if report.errors:
        raise ValidationError(report.issues, file=name)


def improve(
    base: Workflow, records: Sequence[RunRecord], goal: str | None = None
) -> SynthesisResult:
    """Propose and apply improvements to ``base``; the result is validated."""
    result = _Synthesizer(base, records, goal).run()
    check_valid(result.workflow)
    return result


def synthesize(
    records: Sequence[RunRecord],
    base: Workflow | None = None,
    goal: str | None = None,
    definitions: Mapping[str, Mapping[str, Any]] | None = None,
) -> SynthesisResult:
    """With a base: :func:`improve` it.  Without: infer the process, then improve that.

    An inferred graph knows no data references and no commands, so the
    ``parallelize`` and ``add_approval_gate`` rules do not apply to it: the
    observed order is the only constraint known, and it is kept.
    """
    if base is not None:
        return improve(base, records, goal)
    inferred = infer_workflow(records, definitions)
    check_valid(inferred.workflow, "inferred.osop")
    # the process inferred is the most frequent workflow id's (its id made kebab-case)
    workflow_id = Counter(r.workflow_id for r in records).most_common(1)[0][0]
    synthesizer = _Synthesizer(
        workflow_from_dict(inferred.workflow), records, goal, workflow_id=workflow_id
    )
    synthesizer.rules -= {"parallelize", "add_approval_gate"}
    result = synthesizer.run()
    result.inferred = True
    if inferred.undefined:
        result.warnings.append(
            f"no definition was recorded for {', '.join(inferred.undefined)}: they rehearse "
            "with the outputs they produced (x-simulate); give each a runtime before a live run"
        )
    check_valid(result.workflow)
    return result
