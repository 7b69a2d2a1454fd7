"""Every workflow in corpus/ renders (SVG, Mermaid, story, page) or fails with a clean OsopError."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from itertools import combinations

import pytest
from corpus_dir import CORPUS

from osop.errors import OsopError
from osop.render.document import render_sop_file, render_workflow_page
from osop.render.mermaid import render_mermaid
from osop.render.source import load_for_render
from osop.render.story import render_story
from osop.render.svg import render_svg, workflow_layout

MANIFEST = CORPUS / "MANIFEST.tsv"

if not MANIFEST.exists():  # pragma: no cover - the corpus ships beside the repo
    pytest.skip(f"corpus not found at {CORPUS}", allow_module_level=True)

ROWS = [r for r in csv.DictReader(MANIFEST.open(encoding="utf-8"), delimiter="\t")]
WORKFLOWS = [r for r in ROWS if r["kind"] == "workflow"]
SOPS = [r for r in ROWS if r["kind"] == "sop"]


@pytest.mark.parametrize("row", WORKFLOWS, ids=[r["file"] for r in WORKFLOWS])
def test_corpus_workflow_renders(row: dict[str, str]) -> None:
    path = CORPUS / row["file"]
    must_render = row["fixture"] in ("valid", "-")
    try:
        src = load_for_render(path)
    except OsopError as exc:
        assert not must_render, f"{path} should render: {exc}"
        assert str(exc)  # a message, not a traceback
        return
    svg = render_svg(src.graph)
    ET.fromstring(svg)
    layout = workflow_layout(src.graph)
    assert not [(a, b) for a, b in combinations(layout.boxes, 2) if a.overlaps(b)]
    mermaid = render_mermaid(src.graph)
    assert mermaid.startswith("flowchart LR\n")
    assert mermaid.count("\n") >= len(src.workflow.nodes) + 1
    assert render_story(src.graph).startswith("# ")
    assert "<svg" in render_workflow_page(src).html


def test_at_least_the_valid_fixtures_were_rendered() -> None:
    assert sum(r["fixture"] in ("valid", "-") for r in WORKFLOWS) > 150


@pytest.mark.parametrize("row", SOPS, ids=[r["file"] for r in SOPS])
def test_corpus_sop_renders_with_its_missing_refs_as_error_boxes(row: dict[str, str]) -> None:
    page = render_sop_file(CORPUS / row["file"])
    boxes = page.html.count('class="error-box"')
    assert boxes == len(page.warnings) > 0  # its refs point outside the corpus
    assert "OSOP Ecosystem" in page.html
    assert page.html.count('<details class="section"') == 5
