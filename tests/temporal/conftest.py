"""A real Temporal dev server for this folder's tests (started once per test process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from temporal_server import TemporalDevServer, unavailable_reason

from osop.temporal.connection import TemporalTarget


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporalDevServer]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    server = TemporalDevServer(tmp_path_factory.mktemp("temporal-dev"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def target(temporal_server: TemporalDevServer) -> TemporalTarget:
    """The server, with a task queue of this test's own (workers of other tests never see it)."""
    return TemporalTarget(address=temporal_server.address, task_queue=f"t-{uuid.uuid4().hex[:12]}")
