"""Execution reports (HTML, ANSI, plain text) from a workflow, a record, or both."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from osop.errors import OsopError
from osop.format.workflow import Workflow
from osop.record.model import RunRecord
from osop.render.report.html import render_html
from osop.render.report.model import ReportModel, build_report
from osop.render.report.text import render_ansi, render_text

__all__ = ["REPORT_FORMATS", "ReportModel", "build_report", "render_report"]

ReportFormat = Literal["html", "ansi", "text"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("html", "ansi", "text")


def render_report(
    workflow: Workflow | None,
    record: RunRecord | None,
    format: str = "html",
    *,
    generated_at: datetime | None = None,
) -> str:
    """The report as a string: ``html`` (one self-contained page), ``ansi`` or ``text``."""
    if workflow is None and record is None:
        raise OsopError("a report needs a workflow, a record, or both")
    model = build_report(workflow, record, generated_at=generated_at)
    if format == "html":
        return render_html(
            model, graph_svg=_graph(workflow, record), gantt_svg=_gantt(workflow, record)
        )
    if format == "ansi":
        return render_ansi(model)
    if format == "text":
        return render_text(model)
    raise OsopError(f"unknown report format {format!r} (use html, ansi or text)")


def _graph(workflow: Workflow | None, record: RunRecord | None) -> str:
    """The workflow drawn with each node in the colour of its (last) outcome."""
    if workflow is None:
        return ""
    from osop.analysis.records import executions_of
    from osop.render.svg import INK, PAPER, render_svg

    statuses = {e.node_id: e.status for e in executions_of(record)} if record is not None else {}
    drawing = render_svg(workflow, id_prefix="report-graph", statuses=statuses)
    # A report uses the five status colours only: ink follows the page's text colour
    # and node faces are left transparent on the page's background.
    return drawing.replace(INK, "currentColor").replace(f'fill="{PAPER}"', 'fill="none"')


def _gantt(workflow: Workflow | None, record: RunRecord | None) -> str:
    if record is None:
        return ""
    from osop.render.report.gantt import gantt_rows, render_gantt

    return render_gantt(gantt_rows(record, workflow))
