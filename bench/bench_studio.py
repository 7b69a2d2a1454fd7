"""OSOP Studio: opening a 500-node workflow in the browser.

Run: ``python bench/bench_studio.py`` (needs the studio's web app built and
Chromium at /usr/bin/chromium).  Measured in the same run on the same file:

- studio, first render: from navigation until the first node is drawn (page load,
  shared-document sync over the socket, the server's check, ELK layout, React Flow);
- studio, interactive: until the validator's verdict is shown and a click on a
  node opens its form;
- baseline: ``osop render FILE -f svg`` as a user runs it (a process, Python start
  included), and the same drawing in-process (layout + SVG, no start-up).

Medians of several rounds, each in a fresh browser context (nothing cached).
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_render import process
from browser import CHROMIUM, launch

ROUNDS = 5
NODES = 500


def _serve(folder: Path, store: Path) -> tuple[str, str, object]:
    import uvicorn

    from osop.studio.app import StudioConfig, create_app

    config = StudioConfig(folder=folder, store_dir=store)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", config.token, server


def main() -> None:
    from playwright.sync_api import sync_playwright

    from osop.format.workflow import workflow_from_dict
    from osop.render.graph import graph_of
    from osop.render.svg import render_svg

    if not CHROMIUM.exists():
        sys.exit(f"no Chromium at {CHROMIUM}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "plans"
        folder.mkdir()
        data = process(NODES, 7, "big")
        file = folder / "big.osop.yaml"
        file.write_text(yaml.safe_dump(data, sort_keys=False))
        base, token, server = _serve(folder, Path(tmp) / "store")
        url = f"{base}/?token={token}&file=big.osop.yaml"
        first: list[float] = []
        ready: list[float] = []
        with sync_playwright() as pw:
            browser = launch(pw)
            for _ in range(ROUNDS):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                started = time.perf_counter()
                page.goto(url)
                page.wait_for_selector(".react-flow__node", state="attached", timeout=120_000)
                first.append((time.perf_counter() - started) * 1000)
                page.wait_for_function(
                    "() => !document.querySelector('[data-testid=check-summary]')"
                    ".textContent.includes('checking')",
                    timeout=120_000,
                )
                page.locator(".react-flow__node").first.dispatch_event("click")
                page.wait_for_selector("#field-name", timeout=120_000)
                ready.append((time.perf_counter() - started) * 1000)
                context.close()
            browser.close()
        server.should_exit = True  # type: ignore[attr-defined]

        def cli_svg() -> float:
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "osop",
                    "render",
                    str(file),
                    "-f",
                    "svg",
                    "-o",
                    str(Path(tmp) / "big.svg"),
                ],
                check=True,
            )
            return (time.perf_counter() - started) * 1000

        svg_cli = [cli_svg() for _ in range(ROUNDS)]
        workflow = workflow_from_dict(data)

        def in_process() -> float:
            started = time.perf_counter()
            render_svg(graph_of(workflow))
            return (time.perf_counter() - started) * 1000

        svg_lib = [in_process() for _ in range(ROUNDS)]

    svg = statistics.median(svg_cli)
    print(f"Opening a {NODES}-node workflow ({len(data['edges'])} edges), medians of {ROUNDS}:")
    for label, values in (
        ("studio: first render", first),
        ("studio: interactive", ready),
        ("osop render -f svg (process)", svg_cli),
        ("render_svg in-process", svg_lib),
    ):
        median = statistics.median(values)
        print(f"  {label:<32} {median:9.1f} ms   x{median / svg:5.2f} of `osop render -f svg`")


if __name__ == "__main__":
    main()
