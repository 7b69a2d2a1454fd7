"""Fixtures of the studio tests: a studio server over a temporary folder, and one
headless Chromium per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the studio extra is not installed: pip install -e '.[dev]'")
pytest.importorskip("pycrdt.websocket", reason="the studio extra is not installed")

from browser import CHROMIUM, launch
from studio_server import Studio, serve_folder


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    folder = tmp_path / "plans"
    folder.mkdir()
    yield from serve_folder(folder, tmp_path / "store")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One browser for the studio's browser tests (contexts keep them apart).

    Module-scoped: Playwright's sync API allows one running instance per process,
    and other test files start their own."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from osop.studio import STATIC_DIR

    if not (STATIC_DIR / "index.html").is_file():
        pytest.fail(
            f"the studio's web app is not built ({STATIC_DIR}): run `python3 tasks.py setup`"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = launch(pw)
        yield browser
        browser.close()
