"""Plain-text (≤ 80 columns, ``[PASS]``/``[FAIL]``/``[SKIP]``) and ANSI reports."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from osop.render.report.model import (
    NOT_RUN_TEXT,
    ReportModel,
    TimelineEntry,
    Tone,
    label_of,
    tone_of,
)

__all__ = ["ANSI_CODES", "render_ansi", "render_text"]

WIDTH = 80
#: The five status colours as ANSI SGR codes (green, red, yellow, blue, grey).
ANSI_CODES: dict[Tone, str] = {
    "success": "32",
    "failure": "31",
    "warning": "33",
    "info": "34",
    "skipped": "90",
}

Paint = Callable[[str, Tone], str]


def _plain(text: str, tone: Tone) -> str:
    return text


def _ansi(text: str, tone: Tone) -> str:
    return f"\x1b[{ANSI_CODES[tone]}m{text}\x1b[0m"


def _wrap(text: str, indent: str, first: str | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=first if first is not None else indent,
        subsequent_indent=indent,
        break_long_words=True,
        break_on_hyphens=False,
    ) or [first or indent]


def _section(title: str, paint: Paint) -> list[str]:
    return ["", paint(title, "info"), paint("-" * len(title), "skipped")]


def _field(name: str, value: str) -> list[str]:
    return _wrap(value, " " * 11, f"{name:<10} ")


def _entry(entry: TimelineEntry, paint: Paint) -> list[str]:
    tone = tone_of(entry.status)
    label = paint(f"[{label_of(entry.status)}]", tone)
    name = entry.label if entry.occurrence == 1 else f"{entry.label} (#{entry.occurrence})"
    tail = f"{entry.node_type[:10]:<8} {entry.duration[:12]:>8}"
    room = WIDTH - 7 - len(tail) - 1  # ≥ 42: the tail is at most 23 characters
    shown = name if len(name) <= room else name[: room - 1] + "…"
    lines = [f"{label} {shown:<{room}} {paint(tail, 'skipped')}"]
    indent = " " * 7
    if entry.status not in ("PLANNED", "NOT_RUN", "NOT_YET") and entry.label != entry.node_id:
        lines.extend(paint(x, "skipped") for x in _wrap(f"id {entry.node_id}", indent))
    if entry.status in NOT_RUN_TEXT:
        lines.extend(paint(x, "skipped") for x in _wrap(NOT_RUN_TEXT[entry.status], indent))
    if entry.started_at not in ("-", ""):
        lines.extend(paint(x, "skipped") for x in _wrap(f"started {entry.started_at}", indent))
    for key, value in entry.values:
        lines.extend(_wrap(f"{key}: {value}", indent + "  ", indent))
    if entry.error:
        lines.extend(paint(x, tone) for x in _wrap(f"error: {entry.error}", indent + "  ", indent))
    for attempt in entry.attempts:
        head = f"{indent}  attempt {attempt.attempt} "
        status = paint(f"[{label_of(attempt.status)}]", tone_of(attempt.status))
        shown_start = attempt.started_at[: WIDTH - len(head) - 26]
        lines.append(f"{head}{status} {attempt.duration[:12]:>8}  {shown_start}")
        if attempt.error:
            lines.extend(_wrap(attempt.error, indent + "      "))
    return lines


def _render(model: ReportModel, paint: Paint) -> str:
    lines: list[str] = [paint("OSOP EXECUTION REPORT", "info"), paint("=" * 21, "skipped")]
    version = f" {model.version}" if model.version else ""
    # a record alone knows no title: its id stands in, and is not worth saying twice
    name = f"{model.workflow_id}{version}"
    lines += _field(
        "Workflow", name if model.title == model.workflow_id else f"{model.title} ({name})"
    )
    if model.description:
        lines += _field("About", model.description)
    if model.run_id:
        lines += _field("Run", model.run_id)
    status_line = _field("Status", model.status)
    lines.append(
        status_line[0].replace(model.status, paint(model.status, tone_of(model.status)), 1)
    )
    if model.started_at:
        lines += _field("Started", model.started_at)
    if model.ended_at:
        lines += _field("Ended", model.ended_at)
    lines += _section("SUMMARY", paint)
    lines += _wrap(model.result_line, "")
    if model.run_id:
        lines += _field("Cost", f"${model.total_cost_usd:.4f}")
    if model.summary_text:
        lines += _wrap(model.summary_text, "")
    lines += _section("TIMELINE", paint)
    for entry in model.timeline:
        lines += _entry(entry, paint)
    if model.run_id:
        lines += _section("COST", paint)
    if model.run_id and not model.costs:
        lines.append("no cost recorded")
    if model.costs:
        lines.append(f"{'node':<40} {'USD':>10} {'tokens':>8}  model")
        for row in model.costs:
            name = row.label if len(row.label) <= 40 else row.label[:39] + "…"
            tokens = "-" if row.tokens is None else str(row.tokens)
            model_name = (row.model or "-")[: WIDTH - 62]
            lines.append(f"{name:<40} {row.cost_usd:>10.4f} {tokens:>8}  {model_name}")
        lines.append(f"{'total':<40} {model.total_cost_usd:>10.4f}")
    lines += _section("FOOTER", paint)
    for name, value in model.footer:
        lines.extend(paint(x, "skipped") for x in _field(name.capitalize(), value))
    return "\n".join(lines) + "\n"


def render_text(model: ReportModel) -> str:
    return _render(model, _plain)


def render_ansi(model: ReportModel) -> str:
    return _render(model, _ansi)
