"""The standalone HTML document of a .sop: sections, tabs, error boxes, runs, escaping."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from osop.errors import OsopError
from osop.render.document import render_sop_file, render_workflow_page
from osop.render.source import load_for_render
from tests.render.conftest import HOSTILE


class Tags(HTMLParser):
    """Collects start tags with their attributes (a real parser, not a regex)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def test_document_structure(sop_tree: Path) -> None:
    page = render_sop_file(sop_tree)
    html = page.html
    tags = parse(html)
    names = [t for t, _ in tags]
    assert names.count("details") == 2 and "nav" in names
    articles = [a["id"] for t, a in tags if t == "article"]
    assert articles == ["w1-1", "w1-2", "w2-1", "w2-2", "w2-3"]
    # the table of contents links every workflow
    toc = html[html.index("<nav") : html.index("</nav>")]
    assert all(f'href="#{a}"' in toc for a in articles)
    # tabs: radio inputs with labels; Runs only where records exist beside the workflow
    radios = [a["id"] for t, a in tags if t == "input" and a.get("type") == "radio"]
    assert "w1-1-runs" in radios and "w2-1-runs" not in radios
    assert {"w1-1-visual", "w1-1-yaml", "w1-1-story", "w1-1-roles"} <= set(radios)
    assert all(f'for="{r}"' in html for r in radios)


def test_missing_remote_and_broken_refs_are_error_boxes_and_warnings(sop_tree: Path) -> None:
    page = render_sop_file(sop_tree)
    assert page.html.count('class="error-box"') == 3
    joined = "\n".join(page.warnings)
    assert "flows/missing.osop.yaml: file not found" in joined
    assert "https://example.com/remote.osop" in joined and "not fetched" in joined
    assert "graph/dangling-edge-ref" in joined
    assert str(sop_tree.parent) not in page.html  # local folders are not published
    # The ref is named once, then what is wrong with it (not the path a second time).
    broken = next(w for w in page.warnings if "broken.osop" in w)
    assert broken.count("broken.osop") == 1 and str(sop_tree.parent) not in broken


def test_tabs_carry_the_source_story_roles_and_runs(sop_tree: Path) -> None:
    html = render_sop_file(sop_tree).html
    article = html[html.index('id="w1-1"') : html.index('id="w1-2"')]
    yaml_panel = re.search(r'data-tab="yaml">(.*?)</div>', article, re.S)
    assert yaml_panel and "id: deploy" in yaml_panel.group(1)
    assert "Needs a person's approval" in article
    assert "if passed == true: step 3 (Approve release)" in article
    assert "release-manager" in article
    runs = re.search(r'data-tab="runs">(.*?)</div>', article, re.S)
    assert runs is not None
    assert 'class="status status-FAILED">FAILED' in runs.group(1)
    assert "2m 5s" in runs.group(1) and "run-1.osoplog.yaml" in runs.group(1)
    assert "1 completed, 1 failed" in runs.group(1)


def test_everything_from_documents_is_escaped(sop_tree: Path) -> None:
    html = render_sop_file(sop_tree).html
    tags = parse(html)
    assert not [t for t, _ in tags if t in ("img", "script")]
    assert not [a for _, a in tags if any(k.startswith("on") for k in a)]
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_page_is_self_contained(sop_tree: Path) -> None:
    html = render_sop_file(sop_tree).html
    tags = parse(html)
    csp = [a for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    for tag, attrs in tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith("#"), (tag, key, value)
    assert "@import" not in html and "url(http" not in html


def test_single_workflow_page(sop_tree: Path) -> None:
    src = load_for_render(sop_tree.parent / "flows" / "deploy.osop.yaml")
    page = render_workflow_page(src)
    assert "<title>Deploy the service</title>" in page.html
    assert 'id="w1-runs"' in page.html and page.warnings == []


def test_a_file_that_is_not_a_sop_is_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.sop"
    bad.write_text("name: nothing here\n")
    with pytest.raises(OsopError, match="sections"):
        render_sop_file(bad)
    bad.write_text("name: [unclosed\n")
    with pytest.raises(OsopError):
        render_sop_file(bad)


def test_hostile_inline_workflow_renders_as_text(sop_tree: Path) -> None:
    html = render_sop_file(sop_tree).html
    article = html[html.index('id="w2-1"') : html.index('id="w2-2"')]
    assert HOSTILE not in article
    assert "&lt;/svg&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in article


def test_runs_tab_only_shows_this_workflows_readable_records(sop_tree: Path) -> None:
    flows = sop_tree.parent / "flows"
    other = yaml.safe_load((flows / "run-1.osoplog.yaml").read_text())
    other["workflow_id"] = "someone-else"
    (flows / "run-2.osoplog.yaml").write_text(yaml.safe_dump(other))
    (flows / "run-3.osoplog").write_text("node_records: [")
    page = render_workflow_page(load_for_render(flows / "deploy.osop.yaml"))
    assert "1 recorded run<" in page.html
    assert "run-2.osoplog.yaml" not in page.html
    assert len(page.warnings) == 1 and "run-3.osoplog" in page.warnings[0]


def test_pages_are_reproducible_with_source_date_epoch(
    sop_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = render_sop_file(sop_tree).html
    assert "on 2023-11-14 22:13 UTC" in first
    assert render_sop_file(sop_tree).html == first
