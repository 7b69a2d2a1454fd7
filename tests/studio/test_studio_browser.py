"""OSOP Studio in headless Chromium: plan a process by mouse, see the validator's
rule ids on the graph, save through the round trip, read it as a story and by
role, rehearse it and play the run back; two people edit at once; hostile names
are shown as text."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect
from studio_server import ARTIFACTS, Studio, screenshot

from osop.format.validate import validate_path

pytestmark = pytest.mark.browser

HAND_COMMENT = "  # Agreed in the planning meeting \u2713 \U0001f680: keep the review step.\n"


def _page(chromium: Any, url: str) -> tuple[Any, Any, list[str]]:
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    base = url.split("/?")[0]
    page.on(
        "request",
        lambda r: (
            problems.append(f"outside request: {r.url}")
            if not r.url.startswith((base, base.replace("http", "ws")))
            else None
        ),
    )
    page.goto(url)
    return context, page, problems


def _drag(page: Any, source: str, target: str) -> None:
    """Draw an edge: from the bottom handle of ``source`` to the top handle of ``target``."""
    start = page.locator(f"[data-testid=node-{source}] .react-flow__handle-bottom").bounding_box()
    end = page.locator(f"[data-testid=node-{target}] .react-flow__handle-top").bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def _click_edge(page: Any, index: int) -> None:
    """Click the middle of an edge (a straight edge has an empty box: click by position)."""
    box = page.locator(
        f"[data-testid=rf__edge-edge-{index}] path.react-flow__edge-path"
    ).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def _fit(page: Any) -> None:
    page.locator(".react-flow__controls-fitview").click()
    page.wait_for_timeout(300)


def test_plan_a_process_by_mouse(chromium: Any, studio: Studio) -> None:
    context, page, problems = _page(chromium, studio.url)
    # Create from a template.
    page.select_option("select[name=template]", "basic")
    page.fill("input[name=path]", "team/plan.osop.yaml")
    page.fill("input[name=id]", "team-plan")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=node-check_result]")
    file = studio.folder / "team" / "plan.osop.yaml"
    assert file.is_file()

    # A hand edit on disk while the studio has the file open: merged into the page.
    text = file.read_text()
    file.write_text(text.replace("nodes:\n", "nodes:\n" + HAND_COMMENT, 1))
    page.get_by_role("tab", name="YAML").click()
    page.locator(".cm-content", has_text="Agreed in the planning meeting").wait_for()
    page.get_by_role("tab", name="Graph").click()

    # Three steps and two edges, by mouse.
    for kind in ("agent", "human", "api"):
        page.select_option("[data-testid=add-type]", kind)
        page.click("[data-testid=add-node]")
    for new in ("agent_step_4", "human_step_5", "api_step_6"):
        page.wait_for_selector(f"[data-testid=node-{new}]")
    _fit(page)
    _drag(page, "check_result", "agent_step_4")
    page.wait_for_selector("[data-testid=rf__edge-edge-2]", state="attached")
    _drag(page, "agent_step_4", "human_step_5")
    page.wait_for_selector("[data-testid=rf__edge-edge-3]", state="attached")
    page.wait_for_timeout(300)

    # A conditional edge with a typo in its `when`: the CEL error shows on the edge.
    _click_edge(page, 2)
    page.wait_for_selector("#field-mode")
    page.select_option("#field-mode", "conditional")
    page.wait_for_selector("[data-testid=edge-label-2]")
    page.fill("#field-when", "decision = 'approved'")
    page.press("#field-when", "Enter")
    expect(page.locator("[data-testid=edge-issues-2]")).to_contain_text("cel/syntax")
    assert "cel/syntax" in page.inner_text("[data-testid=panel-issues]")
    screenshot(page, "graph-edge-error")
    page.get_by_role("tab", name="YAML").click()
    marker = page.locator(".cm-lint-marker-error").first
    marker.wait_for()
    marker.scroll_into_view_if_needed()
    screenshot(page, "yaml-gutter-error")
    page.get_by_role("tab", name="Graph").click()

    # Fix it and save.
    _click_edge(page, 2)
    page.fill("#field-when", "decision == 'approved'")
    page.press("#field-when", "Enter")
    # Wait for the label, not for the issues to go: a re-render after the tab
    # switch detaches them for a moment while the old text is still shown.
    expect(page.locator("[data-testid=edge-label-2]")).to_contain_text("decision == 'approved'")
    expect(page.locator("[data-testid=edge-issues-2]")).to_have_count(0)
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=message]:has-text('Saved')")
    screenshot(page, "graph")

    saved = file.read_text()
    report = validate_path(file)
    assert report.valid, [i.format() for i in report.errors]
    assert HAND_COMMENT in saved
    assert saved.startswith("# A minimal process")  # the template's own comment too
    for new in ("agent_step_4", "human_step_5", "api_step_6"):
        assert f"id: {new}" in saved
    assert (
        "{from: check_result, to: agent_step_4, mode: conditional, when: decision == 'approved'}"
        in saved
    )
    assert "{from: agent_step_4, to: human_step_5}" in saved
    assert "x-studio: {x:" in saved  # manual positions, under an extension

    # Story and roles show the new steps.
    page.get_by_role("tab", name="Story").click()
    story = page.locator("[data-testid=story]")
    story.wait_for()
    assert "New agent step 4" in story.inner_text()
    assert "if decision == 'approved': step" in story.inner_text()
    screenshot(page, "story")
    page.get_by_role("tab", name="Roles").click()
    assert "New human step 5" in page.inner_text("[data-testid=roles-human]")
    assert "New agent step 4" in page.inner_text("[data-testid=roles-agent]")
    screenshot(page, "roles")

    # The agent view: the plan an agent would be handed, with the new steps.
    page.get_by_role("tab", name="Agent").click()
    agent = page.locator("[data-testid=agent]")
    agent.wait_for()
    assert "SOP for an agent" in agent.inner_text()
    assert "agent_step_4" in agent.inner_text() and "human_step_5" in agent.inner_text()
    screenshot(page, "agent")

    page.get_by_role("tab", name="YAML").click()
    page.locator(".cm-content").wait_for()
    screenshot(page, "yaml")

    # One click rehearses it; the run plays back in the Ledger.
    page.click("[data-testid=simulate]")
    progress = page.locator("[data-testid=ledger-progress]")
    progress.wait_for()
    page.wait_for_function(
        "() => { const t = document.querySelector('[data-testid=ledger-progress]').textContent;"
        " const m = t.match(/^(\\d+)\\/(\\d+)/); return m && m[1] === m[2]; }"
    )
    assert "run COMPLETED" in progress.inner_text()
    # The graph draws a re-rendered node hidden until it is measured (its text reads
    # empty for that frame): wait for the status as shown, not for one read of it.
    expect(page.locator("[data-testid=status-agent_step_4]")).to_have_text(
        re.compile(r"^COMPLETED")
    )
    assert "agent_step_4" in page.inner_text("[data-testid=timeline]")
    screenshot(page, "ledger")
    assert not problems, problems
    context.close()


def _rename(page: Any, node: str, name: str) -> None:
    page.locator(f"[data-testid=node-{node}]").click()
    page.wait_for_selector("#field-name")
    page.fill("#field-name", name)


def test_two_people_edit_different_steps_at_once(chromium: Any, studio: Studio) -> None:
    from osop.templates import scaffold

    file = studio.folder / "shared.osop.yaml"
    file.write_text(scaffold("basic", "shared-plan"))
    url = studio.open_url("shared.osop.yaml")
    ctx_a, alice, problems_a = _page(chromium, url)
    ctx_b, bob, problems_b = _page(chromium, url)
    for page in (alice, bob):
        page.wait_for_selector("[data-testid=node-check_result]")
    for page in (alice, bob):  # both see each other
        page.wait_for_selector("[data-testid=presence]:has-text('2 editing')")
    _rename(alice, "receive_request", "Alice takes the request")
    _rename(bob, "check_result", "Bob checks the result")
    started = time.monotonic()
    alice.press("#field-name", "Enter")
    bob.press("#field-name", "Enter")
    for page in (alice, bob):
        for text in ("Alice takes the request", "Bob checks the result"):
            page.locator(".step-name", has_text=text).wait_for(timeout=5000)
    seen_after = time.monotonic() - started
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "coedit-latency.txt").write_text(
        f"both edits seen by both pages after {seen_after:.3f} s\n"
    )
    screenshot(alice, "coedit-alice")
    screenshot(bob, "coedit-bob")
    # In the YAML view each sees where the other's cursor is, with a name.
    for page in (alice, bob):
        page.get_by_role("tab", name="YAML").click()
        page.locator(".cm-content").wait_for()
    alice.locator(".cm-line", has_text="Alice takes the request").click()
    caret = bob.locator(".cm-ySelectionCaret")
    caret.wait_for()
    assert "Guest" in bob.locator(".cm-ySelectionInfo").first.text_content()
    screenshot(bob, "coedit-cursor")
    # The server persists the merged document (shortly after the last change; Save forces it).
    alice.click("[data-testid=save]")
    alice.wait_for_selector("[data-testid=message]:has-text('Saved')")
    saved = file.read_text()
    assert 'name: "Alice takes the request"' in saved  # the quotes as written before
    assert 'name: "Bob checks the result"' in saved
    assert validate_path(file).valid
    assert not problems_a and not problems_b, problems_a + problems_b
    ctx_a.close()
    ctx_b.close()


def test_hostile_names_are_shown_as_text(chromium: Any, studio: Studio) -> None:
    hostile = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    (studio.folder / "evil.osop.yaml").write_text(
        "osop_version: '1.1'\nid: evil\nname: evil\nnodes:\n"
        f"  - id: bad\n    type: cli\n    name: {hostile!r}\n    purpose: {hostile!r}\n"
        "    runtime: {command: 'echo hi'}\n"
        f"  - id: two\n    type: human\n    name: two\n    role: {hostile!r}\n"
        "edges:\n  - {from: bad, to: two, when: \"x == '</script><b>'\"}\n"
    )
    context, page, problems = _page(chromium, studio.open_url("evil.osop.yaml"))
    page.wait_for_selector("[data-testid=node-bad]")
    assert hostile in page.inner_text("[data-testid=node-bad]")
    assert page.locator("[data-testid=node-bad] img").count() == 0
    for tab in ("Story", "Roles", "Agent", "YAML"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(200)
        assert page.locator("main img, main script").count() == 0
        if tab == "Roles":
            assert hostile in page.inner_text("[data-testid=roles-human]")
        if tab == "Story":
            assert hostile in page.inner_text("[data-testid=story-bad]")
        if tab == "Agent":
            assert hostile in page.inner_text("[data-testid=agent]")
    screenshot(page, "hostile-names")
    assert not problems, problems
    context.close()


def test_wrong_token_opens_nothing(chromium: Any, studio: Studio) -> None:
    context, page, _problems = _page(chromium, f"{studio.base}/?token=wrong")
    assert "wrong or missing token" in page.inner_text("body")
    context.close()


def test_yaml_view_completes_and_explains_from_the_schema(chromium: Any, studio: Studio) -> None:
    from osop.templates import scaffold

    (studio.folder / "typed.osop.yaml").write_text(scaffold("basic", "typed"))
    context, page, problems = _page(chromium, studio.open_url("typed.osop.yaml"))
    page.wait_for_selector("[data-testid=node-do_the_work]")
    page.get_by_role("tab", name="YAML").click()
    line = page.locator(".cm-line", has_text="type: cli")
    line.click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("retry_pol")
    page.keyboard.press("Control+Space")
    completion = page.locator(".cm-tooltip-autocomplete")
    expect(completion).to_contain_text("retry_policy")
    page.keyboard.press("Escape")
    page.locator(".cm-line", has_text="timeout:").first.locator(
        "span", has_text="timeout"
    ).first.hover()
    expect(page.locator(".cm-tooltip-hover")).to_contain_text("duration")
    screenshot(page, "yaml-schema-help")
    assert not problems, problems
    context.close()
