"""The run as a Gantt chart: every attempt on one time axis, as inline SVG.

One row per execution (a node run with its retries; a loop iteration is a row of
its own), in the order executions started, so parallel branches stand side by
side in time.  Each attempt is a bar in its status colour; the gap between two
attempts (backoff) is a thin line; a person's wait is drawn as a hatched bar.
The **critical path** — the chain of executions that decided when the run ended —
is outlined in blue and listed in the legend.

The critical path is found backwards from the execution that ended last: its
predecessor is, among the executions that ended before it started (preferring
those with an edge to it in the workflow, when one is given), the one that ended
latest.  Labels sit in their own column, bars in theirs, so text never overlaps a
bar.  Text is escaped; the drawing uses only the report's five colours.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from osop.analysis.records import NodeExecution, duration_text, executions_of, timestamp
from osop.format.workflow import Workflow
from osop.record.model import RunRecord
from osop.render.report.model import tone_of

__all__ = ["GanttRow", "critical_path", "gantt_rows", "render_gantt"]

_TONE_COLOURS = {
    "success": "#22c55e",
    "failure": "#ef4444",
    "warning": "#eab308",
    "info": "#3b82f6",
    "skipped": "#6b7280",
}
_LABEL_W = 220.0
_CHART_W = 640.0
_ROW_H = 22.0
_BAR_H = 12.0
_AXIS_H = 28.0
_LEGEND_H = 24.0
_MAX_LABEL = 30


@dataclass(frozen=True, slots=True)
class GanttBar:
    attempt: int
    status: str
    start: float  # seconds from the run's start
    end: float
    wait: bool


@dataclass(frozen=True, slots=True)
class GanttRow:
    node_id: str
    occurrence: int
    label: str
    bars: tuple[GanttBar, ...]
    critical: bool

    @property
    def start(self) -> float:
        return self.bars[0].start

    @property
    def end(self) -> float:
        return self.bars[-1].end


def _span(execution: NodeExecution, origin: float) -> list[GanttBar]:
    bars = []
    for record in execution.attempts:
        if record.status == "SKIPPED":
            continue
        start = timestamp(record.started_at)
        if start is None:
            continue
        end = timestamp(record.ended_at)
        if end is None:
            seconds = record.duration_seconds
            end = start + seconds if seconds is not None else start
        bars.append(
            GanttBar(
                record.attempt,
                record.status,
                start - origin,
                max(end, start) - origin,
                record.node_type == "human",
            )
        )
    return bars


def critical_path(
    executions: list[tuple[NodeExecution, list[GanttBar]]], workflow: Workflow | None
) -> set[int]:
    """Indexes of the executions on the critical path (see the module docstring)."""
    if not executions:
        return set()
    edges: set[tuple[str, str]] = set()
    if workflow is not None:
        edges = {(e.source, t) for e in workflow.edges for t in e.targets}
    current = max(range(len(executions)), key=lambda i: executions[i][1][-1].end)
    path = {current}
    while True:
        node = executions[current][0].node_id
        begin = executions[current][1][0].start
        before = [
            i
            for i, (_, bars) in enumerate(executions)
            if i not in path and bars[-1].end <= begin + 1e-9
        ]
        if not before:
            return path
        linked = [i for i in before if (executions[i][0].node_id, node) in edges]
        pool = linked or before
        current = max(pool, key=lambda i: executions[i][1][-1].end)
        path.add(current)


def gantt_rows(record: RunRecord, workflow: Workflow | None = None) -> list[GanttRow]:
    """The rows of the chart, in start order, with the critical path marked."""
    origin = timestamp(record.started_at)
    timed = []
    for execution in executions_of(record):
        if origin is None:
            first = timestamp(execution.started_at)
            if first is None:
                continue
            origin = first
        bars = _span(execution, origin)
        if bars:
            timed.append((execution, bars))
    if not timed:
        return []
    base = min(bars[0].start for _, bars in timed)
    if base < 0:  # a record whose run start is later than a step's: shift, keep order
        timed = [
            (e, [GanttBar(b.attempt, b.status, b.start - base, b.end - base, b.wait) for b in bars])
            for e, bars in timed
        ]
    timed.sort(key=lambda pair: (pair[1][0].start, pair[1][-1].end))
    on_path = critical_path(timed, workflow)
    labels = {n.id: n.label for n in workflow.nodes} if workflow is not None else {}
    rows = []
    for index, (execution, bars) in enumerate(timed):
        label = labels.get(execution.node_id, execution.node_id)
        if execution.occurrence > 1:
            label = f"{label} (#{execution.occurrence})"
        rows.append(
            GanttRow(execution.node_id, execution.occurrence, label, tuple(bars), index in on_path)
        )
    return rows


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _ticks(total: float) -> list[float]:
    """Round tick values for an axis that spans ``total`` seconds (5 to 10 ticks)."""
    if total <= 0:
        return [0.0]
    for candidate in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
                      60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400):  # fmt: skip
        if total / candidate <= 8:
            step = candidate
            break
    else:
        step = 86400 * max(1, round(total / 8 / 86400))
    ticks, value = [], 0.0
    while value <= total + 1e-9:
        ticks.append(value)
        value += step
    return ticks


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


def render_gantt(rows: list[GanttRow]) -> str:
    """The chart as one ``<svg>`` element ('' when nothing has timestamps)."""
    if not rows:
        return ""
    total = max(row.end for row in rows) or 1e-3
    scale = _CHART_W / total
    height = _AXIS_H + len(rows) * _ROW_H + _LEGEND_H
    width = _LABEL_W + _CHART_W + 16
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="osop-gantt" viewBox="0 0 {_f(width)} '
        f'{_f(height)}" width="{_f(width)}" height="{_f(height)}" role="img" '
        'aria-label="Timeline of the run: attempts on a shared time axis" '
        'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" '
        'font-size="11">',
        "<defs>",
        *(
            f'<pattern id="gantt-wait-{tone}" width="6" height="6" '
            f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            f'<rect width="6" height="6" fill="{colour}" fill-opacity="0.35"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" stroke-width="3"/></pattern>'
            for tone, colour in _TONE_COLOURS.items()
        ),
        "</defs>",
        '<g class="axis">',
    ]
    for tick in _ticks(total):
        x = _LABEL_W + tick * scale
        out.append(
            f'<line x1="{_f(x)}" y1="{_f(_AXIS_H - 6)}" x2="{_f(x)}" '
            f'y2="{_f(_AXIS_H + len(rows) * _ROW_H)}" stroke="#6b7280" stroke-opacity="0.25"/>'
            f'<text class="tick" x="{_f(x)}" y="{_f(_AXIS_H - 10)}" text-anchor="middle" '
            f'fill="#6b7280">{escape(duration_text(tick))}</text>'
        )
    out.append("</g>")
    for index, row in enumerate(rows):
        y = _AXIS_H + index * _ROW_H
        cls = "row critical" if row.critical else "row"
        weight = ' font-weight="600"' if row.critical else ""
        total_text = duration_text(row.end - row.start)
        out.append(
            f'<g class="{cls}" data-node-id="{escape(row.node_id, quote=True)}" '
            f'data-occurrence="{row.occurrence}">'
            f'<text class="label" x="{_f(_LABEL_W - 8)}" y="{_f(y + _ROW_H / 2 + 4)}" '
            f'text-anchor="end" fill="currentColor"{weight}>'
            f"<title>{escape(row.label)} · {escape(total_text)}</title>"
            f"{escape(_clip(row.label))} · {escape(total_text)}</text>"
        )
        for previous, bar in zip((None, *row.bars[:-1]), row.bars, strict=True):
            if previous is not None and bar.start > previous.end:
                gy = y + _ROW_H / 2
                out.append(
                    f'<line class="backoff" x1="{_f(_LABEL_W + previous.end * scale)}" '
                    f'y1="{_f(gy)}" x2="{_f(_LABEL_W + bar.start * scale)}" y2="{_f(gy)}" '
                    'stroke="#6b7280" stroke-dasharray="2 2"/>'
                )
            tone = tone_of(bar.status)
            colour = _TONE_COLOURS[tone]
            fill = f"url(#gantt-wait-{tone})" if bar.wait else colour
            x = _LABEL_W + bar.start * scale
            w = max((bar.end - bar.start) * scale, 2.0)
            outline = ' stroke="#3b82f6" stroke-width="2"' if row.critical else ""
            kind = "wait" if bar.wait else "attempt"
            out.append(
                f'<rect class="bar {kind} {tone}" x="{_f(x)}" y="{_f(y + (_ROW_H - _BAR_H) / 2)}" '
                f'width="{_f(w)}" height="{_f(_BAR_H)}" rx="2" fill="{fill}"{outline}>'
                f"<title>{escape(row.node_id)} attempt {bar.attempt}: {escape(bar.status)}, "
                f"{escape(duration_text(bar.end - bar.start))}"
                f"{' (waiting for a person)' if bar.wait else ''}</title></rect>"
            )
        out.append("</g>")
    legend_y = _AXIS_H + len(rows) * _ROW_H + 16
    critical = [r.label for r in rows if r.critical]
    out.append(
        f'<g class="legend"><rect x="{_f(_LABEL_W)}" y="{_f(legend_y - 9)}" width="14" '
        'height="10" fill="none" stroke="#3b82f6" stroke-width="2"/>'
        f'<text x="{_f(_LABEL_W + 20)}" y="{_f(legend_y)}" fill="#3b82f6">critical path: '
        f"{escape(_clip(' → '.join(critical)) if len(critical) < 2 else str(len(critical)))}"
        f"{' steps' if len(critical) >= 2 else ''} · hatched: waiting for a person · "
        "dashed: backoff between attempts</text></g>"
    )
    out.append("</svg>")
    return "".join(out)
