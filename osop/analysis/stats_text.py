"""Plain-text rendering of :class:`WorkflowStats` (what ``osop stats`` prints)."""

from __future__ import annotations

from collections.abc import Sequence

from osop.analysis.records import duration_text
from osop.analysis.stats import Distribution, WorkflowStats

__all__ = ["format_stats_text"]


def _ms(value: float | None) -> str:
    return "-" if value is None else duration_text(value / 1000.0)


def _dist(dist: Distribution | None) -> str:
    if dist is None:
        return "-"
    return f"mean {_ms(dist.mean)}, p50 {_ms(dist.p50)}, p95 {_ms(dist.p95)}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_stats_text(stats: Sequence[WorkflowStats]) -> str:
    """One block per workflow version: run figures, then a table of nodes."""
    lines: list[str] = []
    for ws in stats:
        version = f" {ws.workflow_version}" if ws.workflow_version else ""
        lines.append(f"{ws.workflow_id}{version}")
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(ws.status_counts.items()))
        lines.append(f"  runs          {ws.total_runs} ({statuses})")
        lines.append(f"  success rate  {ws.success_rate:.1%}")
        lines.append(f"  duration      {_dist(ws.duration_ms)}")
        lines.append(
            f"  cost          total ${ws.total_cost_usd:.4f}, per run ${ws.avg_cost_usd:.4f}"
        )
        lines.append(f"  retries       {ws.retries}")
        if ws.human_wait_ms is not None:
            lines.append(f"  human wait    {_dist(ws.human_wait_ms)}")
        header = (
            f"  {'node':<22} {'execs':>6} {'fail%':>6} {'retry':>5} "
            f"{'mean':>8} {'p50':>8} {'p95':>8} {'cost/exec':>10}"
        )
        lines.append("")
        lines.append(header)
        for node in ws.node_stats.values():
            d = node.duration_ms
            lines.append(
                f"  {_clip(node.node_id, 22):<22} {node.executions:>6} "
                f"{node.failure_rate * 100:>5.1f}% {node.retries:>5} "
                f"{_ms(d.mean if d else None):>8} {_ms(d.p50 if d else None):>8} "
                f"{_ms(d.p95 if d else None):>8} {node.avg_cost_usd:>10.4f}"
            )
        if ws.errors:
            lines.append("")
            lines.append("  common errors")
            for text, count in ws.errors:
                lines.append(f"    {count:>5}  {_clip(text, 70)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
