"""Hubs on 127.0.0.1 for tests and benchmarks: in a thread (:func:`live_hub`) or as the
real ``osop hub serve`` process (:func:`hub_process`)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def hub_process(db_url: str, *options: str) -> Iterator[str]:
    """``osop hub serve --db DB_URL OPTIONS`` in its own process; its URL once it answers."""
    port = free_port()
    # A file, not a pipe: a full pipe would block the server.
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "osop",
            "hub",
            "serve",
            "--db",
            db_url,
            "--port",
            str(port),
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/openapi.json").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                errors.seek(0)
                raise RuntimeError(f"the hub did not start: {errors.read()!r}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        errors.close()


@contextmanager
def live_hub(store: Any, limits: Any = None) -> Iterator[str]:
    """The app in a uvicorn thread, on a store the test holds."""
    import uvicorn

    from osop.hub.server.app import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(store, limits), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start")
        time.sleep(0.05)
    httpx.get(f"{url}/openapi.json").raise_for_status()
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
