"""The rendered pages in headless Chromium: offline, no console errors, tabs, no overlaps."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser import CHROMIUM

from osop.format.vocabulary import NODE_TYPES
from osop.render.document import render_sop_file, render_workflow_page
from osop.render.source import load_for_render

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


class Watched:
    """A page whose console errors, page errors, dialogs and requests are recorded."""

    def __init__(self, browser: Any, *, scripts: bool = True) -> None:
        self.context = browser.new_context(
            java_script_enabled=scripts, viewport={"width": 1400, "height": 1000}
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self, path: Path) -> Any:
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def sop_page(sop_tree: Path, tmp_path: Path) -> Path:
    out = tmp_path / "handbook.html"
    out.write_text(render_sop_file(sop_tree).html, encoding="utf-8")
    return out


def fifty_node_page(tmp_path: Path) -> Path:
    nodes = [
        {"id": f"s{i}", "type": NODE_TYPES[i % 16], "name": f"Step {i} " + "word " * (i % 7)}
        for i in range(50)
    ]
    edges: list[dict[str, Any]] = [{"from": f"s{i}", "to": f"s{i + 1}"} for i in range(49)]
    edges += [{"from": "s2", "to": f"s{i}", "mode": "parallel"} for i in range(6, 40, 4)]
    edges += [{"from": f"s{i}", "to": "s45"} for i in range(6, 40, 4)]
    edges += [{"from": "s30", "to": "s3", "mode": "loop", "when": "again"}]
    edges += [{"from": "s20", "to": "s20", "mode": "loop", "when": "poll"}]
    data = {"osop_version": "1.1", "id": "big", "name": "Big", "nodes": nodes, "edges": edges}
    src_path = tmp_path / "big.osop.yaml"
    src_path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "big.html"
    out.write_text(render_workflow_page(load_for_render(src_path)).html, encoding="utf-8")
    return out


def test_document_loads_offline_without_console_errors(browser: Any, sop_page: Path) -> None:
    watched = Watched(browser)
    try:
        page = watched.open(sop_page)
        assert page.title().startswith("Handbook")
        assert watched.errors == []
        assert watched.dialogs == []  # the hostile names did not execute
        assert watched.requests and all(
            u.startswith(("file://", "data:")) for u in watched.requests
        ), watched.requests
        assert page.locator("img").count() == 0 and page.locator("script").count() == 0
    finally:
        watched.close()


def test_yaml_tab_shows_the_source(browser: Any, sop_page: Path) -> None:
    watched = Watched(browser)
    try:
        page = watched.open(sop_page)
        visual = page.locator("#w1-1 .panel-visual")
        yaml_panel = page.locator("#w1-1 .panel-yaml")
        assert visual.is_visible() and not yaml_panel.is_visible()
        page.click("label[for='w1-1-yaml']")
        assert yaml_panel.is_visible() and not visual.is_visible()
        assert "id: deploy" in yaml_panel.inner_text()
        page.click("label[for='w1-1-runs']")
        assert "FAILED" in page.locator("#w1-1 .panel-runs").inner_text()
        assert watched.errors == []
    finally:
        watched.close()


def test_tabs_and_sections_work_with_scripts_off(browser: Any, sop_page: Path) -> None:
    watched = Watched(browser, scripts=False)
    try:
        page = watched.open(sop_page)
        page.click("label[for='w1-1-story']")
        assert page.locator("#w1-1 .panel-story").is_visible()
        assert "Approve release" in page.locator("#w1-1 .panel-story").inner_text()
        section = page.locator("details#s1")
        assert section.get_attribute("open") is not None
        page.click("details#s1 > summary")
        assert section.get_attribute("open") is None
        assert not page.locator("#w1-1").is_visible()
    finally:
        watched.close()


def test_visual_tab_screenshot(browser: Any, sop_page: Path) -> None:
    watched = Watched(browser)
    try:
        page = watched.open(sop_page)
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "render-visual-tab.png"
        page.locator("#w1-1").screenshot(path=str(shot))
        assert shot.stat().st_size > 5_000
        page.screenshot(path=str(ARTIFACTS / "render-document.png"), full_page=True)
    finally:
        watched.close()


def test_no_two_node_boxes_overlap_in_the_browser(browser: Any, tmp_path: Path) -> None:
    watched = Watched(browser)
    try:
        page = watched.open(fifty_node_page(tmp_path))
        boxes = page.eval_on_selector_all(
            "svg.osop-graph g.node > .shape",
            "els => els.map(e => { const r = e.getBoundingClientRect();"
            " return [r.x, r.y, r.width, r.height]; })",
        )
        assert len(boxes) == 50
        overlaps = [
            (a, b)
            for a, b in combinations(boxes, 2)
            if a[0] < b[0] + b[2]
            and b[0] < a[0] + a[2]
            and a[1] < b[1] + b[3]
            and b[1] < a[1] + a[3]
        ]
        assert overlaps == []
        ARTIFACTS.mkdir(exist_ok=True)
        # The Visual panel scrolls at 80vh: lift that so the artifact shows the whole graph.
        page.add_style_tag(content=".panel-visual { max-height: none; }")
        page.locator("svg.osop-graph").screenshot(path=str(ARTIFACTS / "render-50-nodes.png"))
        assert watched.errors == []
    finally:
        watched.close()
