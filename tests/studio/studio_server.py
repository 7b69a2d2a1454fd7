"""A studio server on 127.0.0.1 in a thread, for the studio's tests (named apart from
other test folders' helpers: test folders share one import path)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
