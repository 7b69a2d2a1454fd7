"""Before/after estimates of a workflow from observed node figures.

* **critical path** (expected): ``T(n) = d(n) + max(max over always-taken
  successors T(s), Σ over chosen successors p(s)·T(s))``, from the entry nodes;
  ``d`` is a node's mean execution time (retries included), ``p`` the observed
  share of runs in which a conditional/switch/weighted/error branch was taken
  (new edges carry the share their proposal predicts).  Loop edges are ignored;
  a cycle of other edges is cut where it closes.
* **expected cost**: Σ over nodes of mean cost per execution × probability that
  the node runs (its observed share of runs, scaled by the branch shares of
  any bypass added).
* **expected success rate**: the observed run success rate, multiplied for each
  node given a new retry policy by ``(1 − f′)/(1 − f)`` with
  ``f′ = min(f, a^k)`` — ``f`` its observed execution failure rate, ``a`` its
  attempt failure rate, ``k`` its new number of attempts (failures assumed
  independent) — and capped at 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from osop.analysis.stats import WorkflowStats
from osop.format.workflow import Workflow

__all__ = ["Estimate", "EstimateInputs", "estimate"]

_CHOSEN = {"conditional", "switch", "weighted", "error", "fallback", "timeout", "compensation"}


@dataclass
class EstimateInputs:
    """Observed figures the estimate is computed from."""

    duration_ms: dict[str, float]
    cost_usd: dict[str, float]
    run_share: dict[str, float]
    #: (source, target) → share of the source's executions after which target ran
    branch_share: dict[tuple[str, str], float]
    success_rate: float
    retry_gain: dict[str, float] = field(default_factory=dict)
    #: node → factor applied to its run share (bypassed humans)
    run_share_factor: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_stats(
        cls, stats: WorkflowStats, branch_share: Mapping[tuple[str, str], float]
    ) -> EstimateInputs:
        runs = max(stats.total_runs, 1)
        return cls(
            duration_ms={
                n: s.duration_ms.mean for n, s in stats.node_stats.items() if s.duration_ms
            },
            cost_usd={n: s.avg_cost_usd for n, s in stats.node_stats.items()},
            run_share={n: s.runs_with_node / runs for n, s in stats.node_stats.items()},
            branch_share=dict(branch_share),
            success_rate=stats.success_rate,
        )


@dataclass(frozen=True)
class Estimate:
    critical_path_ms: float
    expected_cost_usd: float
    expected_success_rate: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "critical_path_ms": round(self.critical_path_ms, 3),
            "expected_cost_usd": round(self.expected_cost_usd, 6),
            "expected_success_rate": round(self.expected_success_rate, 6),
        }


def _critical_path(workflow: Workflow, inputs: EstimateInputs) -> float:
    memo: dict[str, float] = {}

    def t(node_id: str, path: frozenset[str]) -> float:
        if node_id in memo:
            return memo[node_id]
        if node_id in path:
            return 0.0
        inner = path | {node_id}
        always = 0.0
        chosen = 0.0
        for edge in workflow.outgoing(node_id):
            if edge.mode == "loop":
                continue
            for target in edge.targets:
                length = t(target, inner)
                if edge.mode in _CHOSEN:
                    chosen += inputs.branch_share.get((node_id, target), 0.0) * length
                else:
                    always = max(always, length)
        value = inputs.duration_ms.get(node_id, 0.0) + max(always, chosen)
        memo[node_id] = value
        return value

    entries = workflow.entry_nodes() or workflow.nodes[:1]
    return max((t(n.id, frozenset()) for n in entries), default=0.0)


def estimate(workflow: Workflow, inputs: EstimateInputs) -> Estimate:
    cost = 0.0
    for node in workflow.nodes:
        share = inputs.run_share.get(node.id, 0.0) * inputs.run_share_factor.get(node.id, 1.0)
        cost += inputs.cost_usd.get(node.id, 0.0) * share
    success = inputs.success_rate
    for gain in inputs.retry_gain.values():
        success *= gain
    return Estimate(_critical_path(workflow, inputs), cost, min(success, 1.0))
