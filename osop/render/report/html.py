"""A self-contained HTML report: inline CSS, no script, no icons, five colours.

Every value that comes from a document goes through :func:`html.escape`, so a
record whose outputs hold ``<script>`` shows it as text.
"""

from __future__ import annotations

from html import escape

from osop.render.report.model import (
    NOT_RUN_TEXT,
    ReportModel,
    TimelineEntry,
    Tone,
    label_of,
    tone_of,
)

__all__ = ["COLOURS", "render_html"]

#: The only colours a report uses.
COLOURS: dict[Tone, str] = {
    "success": "#22c55e",
    "failure": "#ef4444",
    "warning": "#eab308",
    "info": "#3b82f6",
    "skipped": "#6b7280",
}

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:60rem;
padding:0 1rem;line-height:1.45}
h1{font-size:1.4rem;margin:0 0 .25rem}
h2{font-size:1.05rem;margin:1.75rem 0 .5rem;color:#3b82f6;border-bottom:1px solid #6b7280}
dl.meta{display:grid;grid-template-columns:8rem 1fr;gap:.15rem .75rem;margin:.5rem 0}
dl.meta dt{color:#6b7280}
dl.meta dd{margin:0;overflow-wrap:anywhere}
.status{display:inline-block;padding:0 .5rem;border:2px solid currentColor;border-radius:.25rem;
font-weight:600}
.success{color:#22c55e}.failure{color:#ef4444}.warning{color:#eab308}.info{color:#3b82f6}
.skipped{color:#6b7280}
ol.timeline{list-style:none;padding:0;margin:0}
ol.timeline>li{border-left:4px solid currentColor;padding:.35rem .75rem;margin:.5rem 0}
.node-head{display:flex;gap:.75rem;align-items:baseline;flex-wrap:wrap}
.node-name{font-weight:600;color:initial}
.muted{color:#6b7280;font-size:.9em}
ul.values{margin:.25rem 0 0;padding-left:1.25rem;color:initial}
ul.values li{overflow-wrap:anywhere}
ol.attempts{margin:.35rem 0 0 1rem;padding:0;list-style:none}
ol.attempts li{border-left:2px solid currentColor;padding:.1rem .5rem;margin:.2rem 0}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #6b7280}
td.num,th.num{text-align:right}
footer{margin-top:2rem;font-size:.85em;color:#6b7280}
.chart{overflow-x:auto}
.chart svg{max-width:none;height:auto}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _badge(status: str) -> str:
    return f'<span class="status {tone_of(status)}">{_e(label_of(status))}</span>'


def _entry(entry: TimelineEntry) -> str:
    tone = tone_of(entry.status)
    occurrence = f" (#{entry.occurrence})" if entry.occurrence > 1 else ""
    parts = [
        f'<li class="{tone}" data-status="{_e(entry.status)}">',
        '<div class="node-head">',
        _badge(entry.status),
        f'<span class="node-name">{_e(entry.label)}{occurrence}</span>',
        f'<span class="muted">{_e(entry.node_id)} · {_e(entry.node_type)}</span>',
        f'<span class="muted">{_e(entry.duration)}</span>',
        "</div>",
    ]
    if entry.status in NOT_RUN_TEXT:
        parts.append(f'<div class="muted">{NOT_RUN_TEXT[entry.status]}</div>')
    if entry.started_at not in ("-", ""):
        parts.append(f'<div class="muted">started {_e(entry.started_at)}</div>')
    if entry.values:
        parts.append('<ul class="values">')
        parts.extend(f"<li><b>{_e(k)}</b>: {_e(v)}</li>" for k, v in entry.values)
        parts.append("</ul>")
    if entry.error:
        parts.append(f'<div class="{tone}">error: {_e(entry.error)}</div>')
    if entry.attempts:
        parts.append('<ol class="attempts">')
        for attempt in entry.attempts:
            error = f" — {_e(attempt.error)}" if attempt.error else ""
            parts.append(
                f'<li class="{tone_of(attempt.status)}">attempt {attempt.attempt} '
                f"{_badge(attempt.status)} "
                f'<span class="muted">{_e(attempt.duration)} · {_e(attempt.started_at)}</span>'
                f"{error}</li>"
            )
        parts.append("</ol>")
    parts.append("</li>")
    return "".join(parts)


def render_html(model: ReportModel, *, graph_svg: str = "", gantt_svg: str = "") -> str:
    """The page; ``graph_svg`` and ``gantt_svg`` are drawings made by osop.render (escaped)."""
    version = f" {model.version}" if model.version else ""
    meta = [("Workflow", f"{model.workflow_id}{version}")]
    if model.run_id:
        meta.append(("Run", model.run_id))
    if model.started_at:
        meta.append(("Started", model.started_at))
    if model.ended_at:
        meta.append(("Ended", model.ended_at))
    meta_html = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in meta)
    status_tone = tone_of(model.status)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(model.title)} — OSOP report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header>",
        f"<h1>{_e(model.title)}</h1>",
        f'<div id="run-status" class="status {status_tone}">{_e(model.status)}</div>',
        f'<dl class="meta">{meta_html}</dl>',
        "</header>",
        '<section id="summary"><h2>Summary</h2>',
        f'<p class="{status_tone}">{_e(model.result_line)}</p>',
    ]
    if model.description:
        out.append(f"<p>{_e(model.description)}</p>")
    if model.summary_text:
        out.append(f"<p>{_e(model.summary_text)}</p>")
    if model.run_id:
        out.append(f"<p>Cost: ${model.total_cost_usd:.4f}</p>")
    out.append("</section>")
    if gantt_svg:
        out.append(f'<section id="gantt"><h2>Timeline chart</h2><div class="chart">{gantt_svg}')
        out.append("</div></section>")
    if graph_svg:
        out.append(f'<section id="graph"><h2>Graph</h2><div class="chart">{graph_svg}</div>')
        out.append("</section>")
    out.append('<section id="timeline"><h2>Timeline</h2><ol class="timeline">')
    out.extend(_entry(e) for e in model.timeline)
    out.append("</ol></section>")
    if model.run_id and not model.costs:
        out.append(
            '<section id="cost"><h2>Cost</h2><p class="muted">no cost recorded</p></section>'
        )
    if model.costs:
        out.append('<section id="cost"><h2>Cost</h2><table><thead><tr>')
        out.append('<th>Node</th><th class="num">USD</th><th class="num">Tokens</th>')
        out.append("<th>Model</th></tr></thead><tbody>")
        for row in model.costs:
            tokens = "-" if row.tokens is None else str(row.tokens)
            out.append(
                f'<tr><td>{_e(row.label)}</td><td class="num">{row.cost_usd:.4f}</td>'
                f'<td class="num">{_e(tokens)}</td><td>{_e(row.model or "-")}</td></tr>'
            )
        out.append(
            f'<tr><td><b>Total</b></td><td class="num"><b>{model.total_cost_usd:.4f}</b></td>'
            "<td></td><td></td></tr></tbody></table></section>"
        )
    footer = " · ".join(f"{_e(k)}: {_e(v)}" for k, v in model.footer)
    out.append(f"<footer>{footer}</footer>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
