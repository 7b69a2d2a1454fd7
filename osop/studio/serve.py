"""Start the studio: pick the port, print the URL, open the browser, serve."""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

from osop.studio.app import StudioConfig, create_app

__all__ = ["serve", "studio_url"]


def studio_url(host: str, port: int, token: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={token}"


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def serve(
    folder: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    open_browser: bool = True,
    store_dir: Path | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve ``folder`` until interrupted (port 0: a free one)."""
    import uvicorn

    config = StudioConfig(folder=folder, host=host, store_dir=store_dir)
    app = create_app(config)
    port = port or _free_port(host)
    # On every address: print the loopback URL (a browser here reaches it so).
    url = studio_url("127.0.0.1" if host in ("0.0.0.0", "::") else host, port, config.token)
    announce(f"OSOP Studio for {config.folder.resolve()}\n  {url}\n(Ctrl-C stops it)")
    if open_browser:  # once the server had a moment to listen
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
