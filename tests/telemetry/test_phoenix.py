"""A traced run seen by Arize Phoenix (OTLP over HTTP), with a screenshot of the trace.

Opt-in: Phoenix (PyPI ``arize-phoenix``) is about 850 MB installed and takes
minutes to install, so the project's setup does not install it. Point
``OSOP_PHOENIX`` at a ``phoenix`` executable (e.g. from a separate venv:
``python -m venv /tmp/phx && /tmp/phx/bin/pip install arize-phoenix``) to run
it; the test starts ``phoenix serve`` on 127.0.0.1 itself and stops it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

PHOENIX = os.environ.get("OSOP_PHOENIX")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not PHOENIX, reason="set OSOP_PHOENIX to a phoenix executable"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_phoenix_shows_the_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from executors.fake_llm import fake_llm

    from osop.engine import RunOptions, start_run
    from osop.format.api import load_workflow
    from osop.telemetry import setup_telemetry, tracing_observer

    port, grpc = _free_port(), _free_port()
    env = {
        **os.environ,
        "PHOENIX_WORKING_DIR": str(tmp_path / "phoenix"),
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(grpc),
        "PHOENIX_HOST": "127.0.0.1",
    }
    server = subprocess.Popen(
        [str(PHOENIX), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                projects = _get(f"{base}/v1/projects")
                break
            except OSError:
                assert server.poll() is None, "phoenix serve exited"
                assert time.monotonic() < deadline, "phoenix did not start in 120 s"
                time.sleep(1)
        project = projects["data"][0]["id"]
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", base)
        monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
        (tmp_path / "notes.txt").write_text("The cache layer leaks on save.\n")
        workflow = {
            "osop_version": "1.1",
            "id": "pr-review",
            "name": "PR review",
            "nodes": [
                {"id": "tests", "type": "cli", "name": "tests", "runtime": {"command": "true"}},
                {
                    "id": "review",
                    "type": "agent",
                    "name": "review",
                    "purpose": "Review the PR",
                    "runtime": {"model": "claude-sonnet-4-20250514", "tools": ["read_file"]},
                    "outputs": [{"name": "summary"}, {"name": "risk", "schema": "low | high"}],
                },
            ],
            "edges": [{"from": "tests", "to": "review"}],
        }
        path = tmp_path / "wf.osop.yaml"
        path.write_text(yaml.safe_dump(workflow))
        with fake_llm() as llm:
            telemetry = setup_telemetry(metrics=False)
            options = RunOptions(
                mode="live",
                workdir=tmp_path,
                observers=[tracing_observer(telemetry)],
                env={
                    "PATH": "/usr/bin:/bin",
                    "ANTHROPIC_API_KEY": "k",
                    "ANTHROPIC_BASE_URL": llm.base,
                },
            )
            result = asyncio.run(
                start_run(load_workflow(path), source=path.read_bytes(), options=options)
            )
            telemetry.shutdown()
        assert result.status == "COMPLETED" and telemetry.failed_spans == 0
        trace_id = result.record.extra["x-trace"]["trace_id"]
        spans: list[dict[str, Any]] = []
        deadline = time.monotonic() + 30
        while len(spans) < 6 and time.monotonic() < deadline:
            data = _get(f"{base}/v1/projects/{project}/spans?limit=100")["data"]
            spans = [s for s in data if s["context"]["trace_id"] == trace_id]
            time.sleep(0.5)
        names = sorted(s["name"] for s in spans)
        assert names == [
            "chat claude-sonnet-4-20250514",
            "chat claude-sonnet-4-20250514",
            "cli tests",
            "execute_tool read_file",
            "invoke_agent review",
            "osop.run pr-review",
        ]
        from browser import launch
        from playwright.sync_api import sync_playwright

        ARTIFACTS.mkdir(exist_ok=True)
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1500, "height": 900})
            page.goto(f"{base}/projects/{project}/traces/{trace_id}", wait_until="networkidle")
            page.get_by_text("execute_tool read_file").first.wait_for(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "phoenix-trace.png"))
            text = page.inner_text("body")
            browser.close()
        assert "invoke_agent review" in text and "chat claude-sonnet-4-20250514" in text
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
