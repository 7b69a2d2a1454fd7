"""What an execution report says, independent of how it is drawn.

Built from a workflow alone (the plan), a record alone (what happened) or both
(what happened, named and completed by the plan).  Every value taken from a
record is a plain string truncated to :data:`MAX_VALUE` characters here, so the
renderers cannot forget to.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from osop.analysis.records import NodeExecution, duration_text, executions_of
from osop.format.workflow import Workflow
from osop.record.model import NodeRecord, RunRecord

__all__ = [
    "MAX_VALUE",
    "NOT_RUN_TEXT",
    "AttemptEntry",
    "CostRow",
    "ReportModel",
    "TimelineEntry",
    "Tone",
    "build_report",
    "label_of",
    "tone_of",
    "truncate",
]

MAX_VALUE = 200
_IN_PROGRESS = ("RUNNING", "PAUSED", "PENDING")
#: what the timeline says of a node with no record: the run ended without it, or not yet
NOT_RUN_TEXT = {"NOT_RUN": "not run", "NOT_YET": "not run yet"}
Tone = Literal["success", "failure", "warning", "info", "skipped"]

_TONES: dict[str, Tone] = {
    "COMPLETED": "success",
    "FAILED": "failure",
    "TIMED_OUT": "warning",
    "RUNNING": "warning",
    "PAUSED": "warning",
    "PENDING": "warning",
    "WAITING": "warning",
    "CANCELLED": "skipped",
    "SKIPPED": "skipped",
    "NOT_RUN": "skipped",
    "NOT_YET": "info",
    "PLANNED": "info",
}
_LABELS: dict[str, str] = {
    "COMPLETED": "PASS",
    "FAILED": "FAIL",
    "TIMED_OUT": "FAIL",
    "SKIPPED": "SKIP",
    "CANCELLED": "SKIP",
    "NOT_RUN": "SKIP",
    "NOT_YET": "PLAN",
    "PLANNED": "PLAN",
}


def tone_of(status: str) -> Tone:
    """The colour family of a status (five: success, failure, warning, info, skipped)."""
    return _TONES.get(status, "info")


def label_of(status: str) -> str:
    """``PASS``/``FAIL``/``SKIP``; ``WAIT`` for in-progress states, ``PLAN`` for a plan."""
    return _LABELS.get(status, "WAIT")


def truncate(value: Any, limit: int = MAX_VALUE) -> str:
    """A value as one line of at most ``limit`` characters (``…`` marks a cut)."""
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    text = _UNPRINTABLE.sub(_escape, " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Control characters (ESC starts a terminal escape sequence, NUL breaks tools) and
# bidirectional overrides (they reorder what a reader sees) are shown escaped: a
# record's values must not drive the terminal that displays the report.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _seconds(value: float | None) -> str:
    return duration_text(value)


@dataclass(frozen=True, slots=True)
class AttemptEntry:
    attempt: int
    status: str
    started_at: str
    duration: str
    error: str | None


@dataclass
class TimelineEntry:
    node_id: str
    label: str
    node_type: str
    status: str
    started_at: str
    duration: str
    occurrence: int = 1
    attempts: list[AttemptEntry] = field(default_factory=list)  # only when retried
    values: list[tuple[str, str]] = field(default_factory=list)  # outputs, decisions
    error: str | None = None
    cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class CostRow:
    node_id: str
    label: str
    cost_usd: float
    tokens: int | None
    model: str | None


@dataclass
class ReportModel:
    title: str
    workflow_id: str
    version: str | None
    run_id: str | None
    status: str
    started_at: str | None
    ended_at: str | None
    duration: str
    result_line: str
    counts: dict[str, int]
    total_cost_usd: float
    timeline: list[TimelineEntry]
    costs: list[CostRow]
    footer: list[tuple[str, str]]
    description: str | None = None
    summary_text: str | None = None


def _error_text(record: NodeRecord) -> str | None:
    if record.error is None:
        return "timed out" if record.status == "TIMED_OUT" else None
    error = record.error
    text = f"{error.code}: {error.message}" if error.code else error.message
    return truncate(text)


def _values(record: NodeRecord) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(record.outputs, dict):
        out.extend((truncate(str(k), 60), truncate(v)) for k, v in record.outputs.items())
    elif record.outputs is not None:
        out.append(("outputs", truncate(record.outputs)))
    human = record.human_metadata or {}
    for key in ("actor", "decision", "notes"):
        if human.get(key) is not None:
            out.append((f"human.{key}", truncate(human[key])))
    if isinstance(human.get("response_time_ms"), int | float):
        out.append(("human.waited", _seconds(human["response_time_ms"] / 1000.0)))
    out.extend(_tool_calls(record))
    return out


def _tool_calls(record: NodeRecord) -> list[tuple[str, str]]:
    """One line per tool call of an imported agent session (``x-tool-calls``)."""
    calls = record.extra.get("x-tool-calls")
    if not isinstance(calls, list):
        return []
    out: list[tuple[str, str]] = []
    for call in calls:
        if not isinstance(call, dict):
            continue
        duration = call.get("duration_ms")
        parts = [str(call.get("target") or "")]
        if isinstance(duration, int | float):
            parts.append(f"({_seconds(duration / 1000.0)})")
        for flag, word in (("error", "ERROR"), ("retry", "retry"), ("interrupted", "interrupted")):
            if call.get(flag):
                parts.append(word)
        if call.get("child_run_id"):
            parts.append(f"-> run {str(call['child_run_id'])[:8]}")
        out.append(
            (f"tool {truncate(call.get('tool'), 40)}", truncate(" ".join(p for p in parts if p)))
        )
    return out


def _entry(execution: NodeExecution, label: str, looped: bool) -> TimelineEntry:
    final = execution.final
    duration_ms = execution.duration_ms
    entry = TimelineEntry(
        node_id=truncate(execution.node_id),
        label=truncate(label),
        node_type=truncate(final.node_type, 40),
        status=execution.status,
        started_at=truncate(execution.started_at or "-", 40),
        duration=_seconds(None if duration_ms is None else duration_ms / 1000.0),
        occurrence=execution.occurrence if looped else 1,
        values=_values(final),
        error=_error_text(final),
        cost_usd=execution.cost_usd,
    )
    if len(execution.attempts) > 1:
        entry.attempts = [
            AttemptEntry(
                attempt=a.attempt,
                status=a.status,
                started_at=truncate(a.started_at or "-", 40),
                duration=_seconds(a.duration_seconds),
                error=_error_text(a),
            )
            for a in execution.attempts
        ]
    return entry


def _planned_order(workflow: Workflow) -> list[str]:
    """Nodes in a breadth-first order from the entries (then any left over)."""
    seen: list[str] = []
    queue = [n.id for n in workflow.entry_nodes()]
    while queue:
        node_id = queue.pop(0)
        if node_id in seen or not workflow.has_node(node_id):
            continue
        seen.append(node_id)
        for edge in workflow.outgoing(node_id):
            if edge.mode != "loop":
                queue.extend(t for t in edge.targets if t not in seen)
    seen.extend(n.id for n in workflow.nodes if n.id not in seen)
    return seen


def _cost_rows(record: RunRecord, labels: dict[str, str]) -> list[CostRow]:
    totals: dict[str, list[Any]] = {}
    for r in record.node_records:
        ai = r.ai_metadata or {}
        row = totals.setdefault(r.node_id, [0.0, None, None])
        row[0] += r.cost_usd
        tokens = [ai.get(k) for k in ("prompt_tokens", "completion_tokens")]
        count = sum(t for t in tokens if isinstance(t, int) and not isinstance(t, bool))
        if count:
            row[1] = (row[1] or 0) + count
        if ai.get("model") is not None:
            row[2] = truncate(ai["model"], 60)
    rows = [
        CostRow(node_id, truncate(labels.get(node_id, node_id)), v[0], v[1], v[2])
        for node_id, v in totals.items()
        if v[0] or v[1]
    ]
    return sorted(rows, key=lambda r: (-r.cost_usd, r.node_id))


def _footer(record: RunRecord | None, generated_at: datetime) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if record is not None:
        runtime = record.runtime or {}
        parts = [
            f"{k} {truncate(runtime[k], 60)}"
            for k in ("agent", "agent_version", "model", "platform")
            if runtime.get(k) is not None
        ]
        if parts:
            out.append(("runtime", ", ".join(parts)))
        trigger = record.trigger or {}
        if trigger:
            shown = [
                truncate(trigger[k], 60) for k in ("type", "source", "actor") if trigger.get(k)
            ]
            out.append(("trigger", " / ".join(shown) or "-"))
        if record.mode:
            out.append(("mode", truncate(record.mode, 40)))
    stamp = generated_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    out.append(("generated", f"{stamp} by osop"))
    return out


def build_report(
    workflow: Workflow | None,
    record: RunRecord | None,
    *,
    generated_at: datetime | None = None,
) -> ReportModel:
    """The report's content; at least one of ``workflow`` and ``record`` is needed."""
    if workflow is None and record is None:
        raise ValueError("a report needs a workflow, a record, or both")
    moment = generated_at or datetime.now(UTC)
    labels = {n.id: n.label for n in workflow.nodes} if workflow is not None else {}
    title = (workflow.label if workflow is not None else "") or (
        record.workflow_id if record is not None else ""
    )
    if record is None:
        assert workflow is not None
        timeline = [
            TimelineEntry(n, truncate(labels[n]), workflow.node(n).type, "PLANNED", "-", "-")
            for n in _planned_order(workflow)
        ]
        return ReportModel(
            title=truncate(title),
            workflow_id=truncate(workflow.id),
            version=truncate(workflow.version) if workflow.version else None,
            run_id=None,
            status="PLANNED",
            started_at=None,
            ended_at=None,
            duration="-",
            result_line=(
                f"Not run: {len(workflow.nodes)} nodes, {len(workflow.edges)} edges planned"
            ),
            counts={"planned": len(workflow.nodes)},
            total_cost_usd=0.0,
            timeline=timeline,
            costs=[],
            footer=_footer(None, moment),
            description=truncate(workflow.description) if workflow.description else None,
        )
    executions = executions_of(record)
    looped = {e.node_id for e in executions if e.occurrence > 1}
    timeline = [
        _entry(e, labels.get(e.node_id, e.node_id), e.node_id in looped) for e in executions
    ]
    if workflow is not None:
        ran = {e.node_id for e in executions}
        # In a run still going (paused for a human, say) the rest may yet run: not skipped.
        absent = "NOT_YET" if record.status in _IN_PROGRESS else "NOT_RUN"
        timeline.extend(
            TimelineEntry(n, truncate(labels[n]), workflow.node(n).type, absent, "-", "-")
            for n in _planned_order(workflow)
            if n not in ran
        )
    counts = {"passed": 0, "failed": 0, "skipped": 0, "other": 0}
    for entry in timeline:
        label = label_of(entry.status)
        key = {"PASS": "passed", "FAIL": "failed", "SKIP": "skipped", "PLAN": "pending"}.get(
            label, "other"
        )
        counts[key] = counts.get(key, 0) + 1
    retries = sum(e.retries for e in executions)
    duration = _seconds(record.duration_seconds)
    unfinished = duration == "-" and record.status in _IN_PROGRESS
    result = (
        f"{record.status}{', not finished' if unfinished else f' in {duration}'}: "
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
    )
    if counts["other"]:
        result += f", {counts['other']} in progress"
    if counts.get("pending"):
        result += f", {counts['pending']} not run yet"
    if retries:
        result += f"; {retries} retr{'y' if retries == 1 else 'ies'}"
    return ReportModel(
        title=truncate(title),
        workflow_id=truncate(record.workflow_id),
        version=truncate(record.workflow_version) if record.workflow_version else None,
        run_id=truncate(record.run_id),
        status=record.status,
        started_at=truncate(record.started_at) if record.started_at else None,
        ended_at=truncate(record.ended_at) if record.ended_at else None,
        duration=duration,
        result_line=result,
        counts=counts,
        total_cost_usd=record.total_cost_usd,
        timeline=timeline,
        costs=_cost_rows(record, labels),
        footer=_footer(record, moment),
        description=truncate(workflow.description)
        if workflow is not None and workflow.description
        else None,
        summary_text=truncate(record.result_summary) if record.result_summary else None,
    )
