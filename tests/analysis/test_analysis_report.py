"""`osop report` / `render_report`: sections, colours, limits, escaping, browser."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser import CHROMIUM, launch
from click.testing import CliRunner
from corpus_dir import CORPUS

from osop.analysis.documents import read_workflow
from osop.analysis.records import read_record
from osop.cli.main import cli
from osop.errors import OsopError
from osop.format.workflow import workflow_from_dict
from osop.record.model import record_from_dict
from osop.render.report import render_report

from .generator import generate
from .processes import REVIEW_STEPS, REVIEW_TREE

FIXED = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
FIVE = {"#22c55e", "#ef4444", "#eab308", "#3b82f6", "#6b7280"}
PAYLOAD = "<script>window.__pwned = 1</script><img src=x onerror=alert(1)>"


def _retried_failed_run() -> tuple[Any, Any]:
    gen = generate(REVIEW_TREE, REVIEW_STEPS, 200, seed=4)
    wf = workflow_from_dict(gen.workflow)
    for data in gen.records:
        ids = [r["node_id"] for r in data["node_records"]]
        if data["status"] == "FAILED" and ids.count("fetch") == 2:
            rec = copy.deepcopy(data)
            rec["node_records"][-1].setdefault("outputs", {})["log"] = "x" * 500
            rec["node_records"][1]["outputs"] = {"note": PAYLOAD}  # fetch, attempt 2
            return wf, record_from_dict(rec)
    raise AssertionError("the generator should produce a failed, retried run")


def test_text_report_sections_labels_and_limits() -> None:
    wf, rec = _retried_failed_run()
    text = render_report(wf, rec, "text", generated_at=FIXED)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "\x1b[" not in text
    order = [
        text.index(s) for s in ("OSOP EXECUTION REPORT", "SUMMARY", "TIMELINE", "COST", "FOOTER")
    ]
    assert order == sorted(order)
    assert "[PASS]" in text and "[FAIL]" in text and "[SKIP]" in text
    # the retried fetch: the entry, then its attempts as indented sub-entries
    fetch = text.index("[PASS] fetch")
    assert re.search(r"\n {9}attempt 1 \[FAIL\]", text[fetch:])
    assert re.search(r"\n {9}attempt 2 \[PASS\]", text[fetch:])
    # values cut at 200 characters (199 + the ellipsis)
    joined = text.replace("\n", "").replace(" ", "")
    assert "x" * 199 + "…" in joined and "x" * 200 not in joined
    assert "Generated  2026-02-03T04:05:06Z by osop" in text
    assert "Status     FAILED" in text


def test_ansi_uses_the_five_colours_only() -> None:
    wf, rec = _retried_failed_run()
    ansi = render_report(wf, rec, "ansi", generated_at=FIXED)
    codes = set(re.findall(r"\x1b\[([0-9;]*)m", ansi))
    assert codes <= {"0", "32", "31", "33", "34", "90"}
    assert {"32", "31", "90"} <= codes
    plain = re.sub(r"\x1b\[[0-9;]*m", "", ansi)
    assert all(len(line) <= 80 for line in plain.splitlines())


def test_html_is_self_contained_escaped_and_five_coloured() -> None:
    wf, rec = _retried_failed_run()
    html = render_report(wf, rec, "html", generated_at=FIXED)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert set(c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}\b", html)) <= FIVE
    assert not re.search(r"\b(?:src|href)=", html.replace("src=x onerror", ""))
    assert not re.search(r"\brgb\(|\bhsl\(", html)
    positions = [html.index(f'id="{s}"') for s in ("summary", "timeline", "cost")]
    assert positions == sorted(positions) and html.index("<footer>") > positions[-1]
    assert 'id="run-status" class="status failure">FAILED<' in html


def test_definition_alone_and_record_alone() -> None:
    gen = generate(REVIEW_TREE, REVIEW_STEPS, 1, seed=2)
    wf = workflow_from_dict(gen.workflow)
    plan = render_report(wf, None, "text", generated_at=FIXED)
    assert "Not run: 8 nodes" in plan and plan.count("[PLAN]") == 8
    alone = render_report(None, record_from_dict(gen.records[0]), "text", generated_at=FIXED)
    assert "generated-process" in alone and "[PASS] fetch" in alone
    with pytest.raises(OsopError):
        render_report(None, None, "text")
    with pytest.raises(OsopError):
        render_report(wf, None, "pdf")


def test_every_corpus_record_renders(corpus_logs: list[Path]) -> None:
    for path in corpus_logs:
        try:
            rec = read_record(path)
        except OsopError:
            continue
        for fmt in ("text", "html", "ansi"):
            out = render_report(None, rec, fmt, generated_at=FIXED)
            assert rec.status in out
        assert all(len(x) <= 80 for x in render_report(None, rec, "text").splitlines())


def test_cli(tmp_path: Path) -> None:
    gen = generate(REVIEW_TREE, REVIEW_STEPS, 1, seed=2)
    wf = tmp_path / "wf.osop"
    wf.write_text(yaml.safe_dump(gen.workflow))
    log = tmp_path / "run.osoplog.yaml"
    log.write_text(yaml.safe_dump(gen.records[0]))
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", str(wf), str(log), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    text = CliRunner().invoke(cli, ["report", str(log), "--format", "text"])
    assert text.exit_code == 0 and "TIMELINE" in text.output
    bad = CliRunner().invoke(cli, ["report", str(log), str(log)])
    assert bad.exit_code == 2


@pytest.mark.browser
@pytest.mark.slow
def test_html_report_in_headless_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    wf, rec = _retried_failed_run()
    page_file = tmp_path / "report.html"
    page_file.write_text(render_report(wf, rec, "html", generated_at=FIXED))
    corpus = CORPUS / "osop-examples__compliance__eu-ai-act-high-risk"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))
            page.goto(page_file.as_uri())
            assert page.inner_text("#run-status") == "FAILED"
            assert page.evaluate("document.scripts.length") == 0
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert "<script>window.__pwned = 1</script>" in page.inner_text("#timeline")
            colour = page.eval_on_selector("#run-status", "e => getComputedStyle(e).color")
            assert colour == "rgb(239, 68, 68)"
            if corpus.with_suffix(".osoplog.yaml").exists():
                other = tmp_path / "corpus.html"
                other.write_text(
                    render_report(
                        read_workflow(corpus.with_suffix(".osop")),
                        read_record(corpus.with_suffix(".osoplog.yaml")),
                        "html",
                    )
                )
                page.goto(other.as_uri())
                assert page.inner_text("#run-status") == "COMPLETED"
            assert problems == []
        finally:
            browser.close()
