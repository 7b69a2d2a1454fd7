"""Fixtures of the studio tests: a studio server on 127.0.0.1 in a thread over a
temporary folder, and one headless Chromium for the whole session."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the studio extra is not installed: pip install -e '.[dev]'")
pytest.importorskip("pycrdt.websocket", reason="the studio extra is not installed")

from browser import CHROMIUM, launch

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "studio"
TOKEN = "test-token-0123456789"


@dataclass
class Studio:
    folder: Path
    base: str
    token: str

    @property
    def url(self) -> str:
        return f"{self.base}/?token={self.token}"

    def open_url(self, path: str) -> str:
        return f"{self.url}&file={path}"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_folder(folder: Path, store: Path) -> Iterator[Studio]:
    import uvicorn

    from osop.studio.app import StudioConfig, create_app

    app = create_app(StudioConfig(folder=folder, token=TOKEN, store_dir=store))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the studio server did not start")
        time.sleep(0.02)
    try:
        yield Studio(folder, f"http://127.0.0.1:{port}", TOKEN)
    finally:
        server.should_exit = True
        thread.join(10)


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


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
