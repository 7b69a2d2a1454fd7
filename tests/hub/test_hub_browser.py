"""The hub's web pages in headless Chromium: browse, search, a package's page with its
drawing, versions and evidence; nothing is fetched from elsewhere and no script runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM, launch
from helpers import record_text, sop_text, workflow_text
from hub_servers import live_hub

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture
def hub_url(tmp_path: Path) -> Iterator[str]:
    from osop.hub.client import HubClient
    from osop.hub.store import HubStore

    store = HubStore(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    token = store.create_token("acme")
    folder = tmp_path / "src"
    (folder / "flows").mkdir(parents=True)
    (folder / "flows" / "deploy.osop.yaml").write_text(workflow_text())
    (folder / "handbook.sop").write_text(sop_text(["flows/deploy.osop.yaml"]))
    evil = folder / "evil.osop.yaml"
    evil.write_text(workflow_text("evil", name="'<script>alert(1)</script>'"))
    record = tmp_path / "run.osoplog"
    record.write_text(record_text())
    with live_hub(store) as url:
        with HubClient(url, token) as client:
            client.publish("acme/handbook", "1.0.0", folder / "handbook.sop")
            client.publish("acme/handbook", "1.1.0", folder / "handbook.sop")
            client.yank("acme/handbook@1.0.0", "typo")
            client.publish("acme/evil", "1.0.0", evil)
            client.upload_record("acme/handbook@1.1.0", record)
        yield url
    store.close()


def test_browse_search_and_package_page(hub_url: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page()
        errors: list[str] = []
        outside: list[str] = []
        dialogs: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(hub_url) else None,
        )
        page.goto(hub_url + "/")
        assert "OSOP Hub" in page.title()
        assert page.locator("a.hit").count() >= 2
        page.fill("input[type=search]", "rollout production")
        page.click("button[type=submit]")
        page.wait_for_url("**/search?q=*")
        page.locator("a.hit", has_text="acme/handbook").click()
        page.wait_for_url("**/p/acme/handbook")
        text = page.inner_text("main")
        assert "acme/handbook 1.1.0" in text
        assert "yanked: typo" in text
        evidence = page.locator("h2:has-text('Evidence') + table").inner_text()
        assert "deploy-service" in evidence and "100%" in evidence
        assert "service" in text  # the operation's entry input
        frame = page.frame_locator("iframe")
        assert frame.locator("svg").first.is_visible()
        page.goto(hub_url + "/p/acme/evil")
        assert "<script>alert(1)</script>" in page.inner_text("main")
        assert not dialogs and not errors and not outside
        browser.close()
