"""Text and Markdown renderings of the three diffs (JSON is ``to_dict``)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any, Literal

from osop.analysis.conformance import ConformanceSummary
from osop.analysis.diff_records import Delta, RecordDiff
from osop.analysis.diff_workflows import FieldChange, WorkflowDiff
from osop.analysis.records import duration_text
from osop.analysis.sessions import SessionDiff, format_session_diff

__all__ = ["AnyDiff", "diff_json_chunks", "diff_lines", "format_diff"]

AnyDiff = WorkflowDiff | RecordDiff | ConformanceSummary | SessionDiff
TextFormat = Literal["text", "markdown"]

_SIGN = {"added": "+", "removed": "-", "changed": "~"}
MAX_VALUE = 200


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("\n", "\\n")
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _field_line(change: FieldChange) -> str:
    if change.kind == "added":
        return f"{change.path}: (none) -> {_value(change.new)}"
    if change.kind == "removed":
        return f"{change.path}: {_value(change.old)} -> (none)"
    return f"{change.path}: {_value(change.old)} -> {_value(change.new)}"


def _workflow(diff: WorkflowDiff, md: bool) -> list[str]:
    lines: list[str] = []
    title = f"workflow diff: {diff.name_a} -> {diff.name_b}"
    lines.append(f"## {title}" if md else title)
    if diff.identical:
        lines.append("identical")
        return lines
    counts = diff.counts()
    lines.append(
        "nodes: +{nodes_added} -{nodes_removed} ~{nodes_changed}; "
        "edges: +{edges_added} -{edges_removed} ~{edges_changed}; "
        "metadata fields changed: {metadata_changed}".format(**counts)
    )
    bullet = "- " if md else "  "
    sub = "  - " if md else "      "
    if diff.metadata:
        lines.append("")
        lines.append("### metadata" if md else "metadata")
        lines.extend(f"{bullet}{_SIGN[c.kind]} {_field_line(c)}" for c in diff.metadata)
    for title_, items in (("nodes", diff.nodes), ("edges", diff.edges)):
        if not items:
            continue
        lines.append("")
        lines.append(f"### {title_}" if md else title_)
        for item in items:
            key = f"`{item.key}`" if md else item.key
            lines.append(f"{bullet}{_SIGN[item.kind]} {key} {item.kind}")
            if item.value is not None:
                lines.extend(f"{sub}{k}: {_value(v)}" for k, v in item.value.items())
            lines.extend(f"{sub}{_field_line(c)}" for c in item.fields)
    return lines


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        if not math.isfinite(value):
            return "-"
        return duration_text(abs(value) / 1000.0)
    if unit == "$":
        return f"${value:.4f}"
    return f"{value:g}"


def _delta(delta: Delta, unit: str) -> str:
    absolute, pct = delta.absolute, delta.percent
    if absolute is None:
        return "-"
    sign = "+" if absolute >= 0 else "-"
    text = f"{sign}{_num(abs(absolute), unit)}"
    if pct is not None:
        text += f" ({pct:+.1f}%)"
    return text


def _record(diff: RecordDiff, md: bool) -> list[str]:
    lines: list[str] = []
    title = f"run diff: {diff.name_a} -> {diff.name_b}"
    lines.append(f"## {title}" if md else title)
    for warning in diff.warnings:
        lines.append(f"warning: {warning}")
    a, b = diff.status
    lines.append(f"status:   {a} -> {b}" if a != b else f"status:   {a}")
    lines.append(
        f"duration: {_num(diff.duration_ms.a, 'ms')} -> {_num(diff.duration_ms.b, 'ms')}"
        f"  {_delta(diff.duration_ms, 'ms')}"
    )
    lines.append(
        f"cost:     {_num(diff.cost_usd.a, '$')} -> {_num(diff.cost_usd.b, '$')}"
        f"  {_delta(diff.cost_usd, '$')}"
    )
    lines.append(f"attempts: {_num(diff.attempts.a, '')} -> {_num(diff.attempts.b, '')}")
    lines.append("")
    if md:
        lines.append("| node | status | attempts | duration | Δ duration | cost | Δ cost | note |")
        lines.append("|---|---|---|---|---|---|---|---|")
    for row in diff.rows:
        status = f"{row.status_a or '-'} -> {row.status_b or '-'}"
        attempts = f"{len(row.attempts_a)} -> {len(row.attempts_b)}"
        duration = f"{_num(row.duration_ms.a, 'ms')} -> {_num(row.duration_ms.b, 'ms')}"
        cost = f"{_num(row.cost_usd.a, '$')} -> {_num(row.cost_usd.b, '$')}"
        notes = []
        if row.only_in:
            notes.append(f"only in {row.only_in.upper()}")
        if row.retried:
            notes.append(
                "retried: "
                + "/".join(row.attempts_a or ("-",))
                + " vs "
                + "/".join(row.attempts_b or ("-",))
            )
        if row.looped:
            notes.append(f"loop iteration {row.occurrence}")
        note = "; ".join(notes)
        if md:
            lines.append(
                f"| `{row.key}` | {status} | {attempts} | {duration} | "
                f"{_delta(row.duration_ms, 'ms')} | {cost} | {_delta(row.cost_usd, '$')} | {note} |"
            )
        else:
            mark = "~" if row.changed else " "
            lines.append(f"{mark} {row.key}")
            lines.append(f"    status {status}, attempts {attempts}")
            lines.append(f"    duration {duration} {_delta(row.duration_ms, 'ms')}")
            if row.cost_usd.a or row.cost_usd.b:
                lines.append(f"    cost {cost} {_delta(row.cost_usd, '$')}")
            if note:
                lines.append(f"    {note}")
    lines.append("")
    lines.append("identical" if diff.identical else "different")
    return lines


def _conformance(summary: ConformanceSummary, md: bool) -> Iterator[str]:
    """Line by line: 100,000 records make 200,000 lines, never held all at once."""
    title = f"conformance: records against {summary.workflow}"
    yield f"## {title}" if md else title
    yield from (f"  {note}" if not md else f"_{note}_" for note in summary.notes)
    if md:
        yield ""
        yield "| record | run | status | fitness | missing | remaining | deviations |"
        yield "|---|---|---|---|---|---|---|"
    for res in summary.results:
        if md:
            yield (
                f"| `{res.name}` | `{res.run_id}` | {res.status} | {res.fitness:.3f} | "
                f"{res.missing} | {res.remaining} | {len(res.deviations)} |"
            )
            continue
        verdict = "conformant" if res.conformant else "deviates"
        yield f"{res.name}  run {res.run_id}  {res.status}"
        yield (
            f"    fitness {res.fitness:.3f} ({verdict}); tokens produced {res.produced}, "
            f"consumed {res.consumed}, missing {res.missing}, remaining {res.remaining}"
        )
        for warning in res.warnings:
            yield f"    warning: {warning}"
        for dev in res.deviations:
            yield f"    [{dev.kind}] {dev.message}"
    if md:
        for res in summary.results:
            if res.deviations or res.warnings:
                yield ""
                yield f"### `{res.name}`"
                yield from (f"- warning: {w}" for w in res.warnings)
                yield from (f"- **{d.kind}**: {d.message}" for d in res.deviations)
    yield ""
    counts = summary.deviation_counts()
    yield (
        f"records {len(summary.results)}, conformant "
        f"{summary.conformant_records}, log fitness "
        f"{summary.log_fitness:.3f}, average fitness {summary.average_fitness:.3f}"
    )
    if counts:
        yield "deviations: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def diff_lines(diff: AnyDiff, fmt: TextFormat = "text") -> Iterator[str]:
    """:func:`format_diff`'s lines, one at a time (without line ends)."""
    md = fmt == "markdown"
    if isinstance(diff, WorkflowDiff):
        return iter(_workflow(diff, md))
    if isinstance(diff, RecordDiff):
        return iter(_record(diff, md))
    if isinstance(diff, SessionDiff):
        return iter(format_session_diff(diff, md))
    return _conformance(diff, md)


def format_diff(diff: AnyDiff, fmt: TextFormat = "text") -> str:
    return "\n".join(diff_lines(diff, fmt)) + "\n"


#: Where the records go in a conformance summary's JSON (a key at the top level: only
#: there does a line start with two spaces and ``"records"``; strings escape ``"``).
_RECORDS_SLOT = '\n  "records": []'


def diff_json_chunks(diff: AnyDiff) -> Iterator[str]:
    """``json.dumps(diff.to_dict(), indent=2, ensure_ascii=False, default=str)`` in pieces.

    A conformance summary of 100,000 records is written record by record: its
    records are never all turned into mappings, nor the text held whole. Other
    diffs are small and come in one piece.
    """

    def dumps(value: Any) -> str:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)

    if not isinstance(diff, ConformanceSummary) or not diff.results:
        yield dumps(diff.to_dict())
        return
    frame = dumps(diff.to_dict(with_records=False))
    before, after = frame.split(_RECORDS_SLOT, 1)
    yield before + '\n  "records": ['
    separator = "\n"
    for result in diff.results:
        yield separator + "    " + dumps(result.to_dict()).replace("\n", "\n    ")
        separator = ",\n"
    yield "\n  ]" + after
