"""Fixtures of the hub tests: one database URL per backend (SQLite and a real PostgreSQL).

Every API test runs against both; PostgreSQL is started once per test session
(per xdist worker) by :mod:`pg_server` and each test gets a fresh database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the hub extra is not installed: pip install -e '.[dev]'")

from pg_server import PostgresServer, unavailable_reason


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    server = PostgresServer(tmp_path_factory.mktemp("postgres"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"hub_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(db_url: str) -> Iterator[Any]:
    from osop.hub.store import HubStore

    hub = HubStore(db_url)
    try:
        yield hub
    finally:
        hub.close()


@pytest.fixture
def client(store: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from osop.hub.server.app import create_app
    from osop.hub.server.limits import Limits

    with TestClient(create_app(store, Limits(max_body_bytes=300_000))) as test_client:
        yield test_client
