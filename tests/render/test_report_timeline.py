"""The report's timeline chart and coloured graph: computed right, drawn without overlaps."""

from __future__ import annotations

from itertools import product
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM

from osop.format.workflow import workflow_from_dict
from osop.record.model import record_from_dict
from osop.render.report import render_report
from osop.render.report.gantt import gantt_rows, render_gantt

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

WORKFLOW = workflow_from_dict(
    {
        "osop_version": "1.1",
        "id": "timeline-demo",
        "name": "Timeline demo",
        "nodes": [
            {"id": "prepare", "type": "cli", "name": "Prepare"},
            {"id": "long", "type": "cli", "name": "Long branch"},
            {"id": "flaky", "type": "api", "name": "Flaky branch"},
            {"id": "review", "type": "human", "name": "Review <b>now</b>"},
            {"id": "ship", "type": "cli", "name": "Ship"},
        ],
        "edges": [
            {"from": "prepare", "to": "long", "mode": "parallel"},
            {"from": "prepare", "to": "flaky", "mode": "parallel"},
            {"from": "long", "to": "review"},
            {"from": "flaky", "to": "review"},
            {"from": "review", "to": "ship"},
        ],
    }
)


def _at(seconds: float) -> str:
    whole = int(seconds)
    return f"2026-05-01T10:{whole // 60:02d}:{whole % 60:02d}.{int(seconds * 1000) % 1000:03d}Z"


def _node(node_id: str, kind: str, start: float, end: float, **more: Any) -> dict[str, Any]:
    return {
        "node_id": node_id,
        "node_type": kind,
        "attempt": more.pop("attempt", 1),
        "status": more.pop("status", "COMPLETED"),
        "started_at": _at(start),
        "ended_at": _at(end),
        "duration_ms": round((end - start) * 1000, 3),
        **more,
    }


RECORD = record_from_dict(
    {
        "osoplog_version": "1.0",
        "run_id": "5f1b6a4e-8c2d-4f3a-9b7e-1a2b3c4d5e6f",
        "workflow_id": "timeline-demo",
        "status": "COMPLETED",
        "mode": "live",
        "started_at": _at(0),
        "ended_at": _at(40),
        "node_records": [
            _node("prepare", "cli", 0, 2),
            _node("long", "cli", 2, 12),
            _node("flaky", "api", 2, 3, status="FAILED", error={"code": "HTTP_503"}),
            _node("flaky", "api", 5, 6, attempt=2),
            _node("review", "human", 12, 35, human_metadata={"response_time_ms": 23000}),
            _node("ship", "cli", 35, 40),
        ],
    }
)


def test_rows_start_ordered_with_retries_waits_and_the_critical_path() -> None:
    rows = gantt_rows(RECORD, WORKFLOW)
    assert [r.node_id for r in rows] == ["prepare", "flaky", "long", "review", "ship"]
    flaky = rows[1]
    assert [(b.attempt, b.status) for b in flaky.bars] == [(1, "FAILED"), (2, "COMPLETED")]
    assert rows[3].bars[0].wait and not rows[0].bars[0].wait
    # the long branch, not the flaky one, decided when the review could start
    assert [r.node_id for r in rows if r.critical] == ["prepare", "long", "review", "ship"]
    # the two branches overlap in time: side by side on the shared axis
    assert rows[1].start < rows[2].end and rows[2].start < rows[1].end
    svg = render_gantt(rows)
    assert svg.count('class="row critical"') == 4 and svg.count('class="backoff"') == 1
    assert "Review &lt;b&gt;now&lt;/b&gt;" in svg and "<b>now" not in svg


def test_critical_path_without_a_workflow_follows_time() -> None:
    rows = gantt_rows(RECORD)
    assert [r.node_id for r in rows if r.critical] == ["prepare", "long", "review", "ship"]


def test_report_has_the_chart_and_the_graph_in_outcome_colours() -> None:
    html = render_report(WORKFLOW, RECORD, "html")
    assert html.index('id="gantt"') < html.index('id="graph"') < html.index('id="timeline"')
    # a node is coloured by its last outcome: the flaky step recovered
    assert 'data-node-id="flaky" data-status="COMPLETED"' in html
    assert html.count('fill="#22c55e" fill-opacity="0.12"') == 5


def _boxes(page: Any, selector: str) -> list[dict[str, float]]:
    return [b for b in (e.bounding_box() for e in page.query_selector_all(selector)) if b]


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"] - 0.5
        and b["x"] < a["x"] + a["width"] - 0.5
        and a["y"] < b["y"] + b["height"] - 0.5
        and b["y"] < a["y"] + a["height"] - 0.5
    )


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
def test_timeline_in_chromium(browser: Any, tmp_path: Path) -> None:
    page_path = tmp_path / "report.html"
    page_path.write_text(render_report(WORKFLOW, RECORD, "html"), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.resolve().as_uri())
    page.wait_for_load_state("load")
    assert errors == []
    bars = _boxes(page, "svg.osop-gantt rect.bar")
    labels = _boxes(page, "svg.osop-gantt text.label") + _boxes(page, "svg.osop-gantt text.tick")
    assert len(bars) == 6 and len(labels) >= 5
    assert not [(b, t) for b, t in product(bars, labels) if _overlap(b, t)]
    assert len(page.query_selector_all("svg.osop-gantt g.row.critical")) == 4
    stroke = page.eval_on_selector(
        'svg.osop-graph g.node[data-node-id="ship"] .shape', "e => e.getAttribute('stroke')"
    )
    assert stroke == "#22c55e"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-timeline.png"), full_page=True)
    context.close()
