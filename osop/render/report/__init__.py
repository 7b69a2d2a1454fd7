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
        return render_html(model)
    if format == "ansi":
        return render_ansi(model)
    if format == "text":
        return render_text(model)
    raise OsopError(f"unknown report format {format!r} (use html, ansi or text)")
