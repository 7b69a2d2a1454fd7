"""Where the cluster is: options, then OSOP_TEMPORAL_* variables, then defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from osop.errors import OsopError
from osop.temporal.connection import TemporalTarget


def test_options_win_over_the_environment() -> None:
    env = {
        "OSOP_TEMPORAL_ADDRESS": "env-host:7233",
        "OSOP_TEMPORAL_NAMESPACE": "env-ns",
        "OSOP_TEMPORAL_TASK_QUEUE": "env-q",
    }
    target = TemporalTarget.from_options("cli-host:7233", namespace="cli-ns", environ=env)
    assert (target.address, target.namespace, target.task_queue) == (
        "cli-host:7233",
        "cli-ns",
        "env-q",
    )
    assert not target.uses_tls


def test_the_environment_fills_in_and_defaults_follow() -> None:
    target = TemporalTarget.from_options(None, environ={"OSOP_TEMPORAL_ADDRESS": "h:1"})
    assert (target.address, target.namespace, target.task_queue) == ("h:1", "default", "osop")


@pytest.mark.parametrize("address", ["", "localhost", "host:port", ":7233"])
def test_an_address_must_be_host_and_port(address: str) -> None:
    with pytest.raises(OsopError):
        TemporalTarget.from_options(address, environ={})


def test_an_api_key_implies_tls_and_is_never_described() -> None:
    target = TemporalTarget.from_options(
        "ns.tmprl.cloud:7233", environ={"OSOP_TEMPORAL_API_KEY": "sk-very-secret"}
    )
    assert target.uses_tls and target.api_key == "sk-very-secret"
    assert "sk-very-secret" not in target.describe()
    assert "api key" in target.describe()


def test_certificate_files_must_exist(tmp_path: Path) -> None:
    with pytest.raises(OsopError, match="is not a file"):
        TemporalTarget.from_options("h:1", tls_cert=tmp_path / "missing.pem", environ={})
    cert = tmp_path / "client.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    target = TemporalTarget.from_options("h:1", environ={"OSOP_TEMPORAL_TLS_CERT": str(cert)})
    assert target.tls_cert == cert and target.uses_tls


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    import asyncio

    from osop.temporal.connection import connect

    cert = tmp_path / "client.pem"
    cert.write_text("x")
    target = TemporalTarget.from_options("127.0.0.1:1", tls_cert=cert, environ={})
    with pytest.raises(OsopError, match="go together"):
        asyncio.run(connect(target))


def test_a_command_after_another_that_talked_to_temporal_exits_normally(
    temporal_server: Any, tmp_path: Path
) -> None:
    """A process that made a Temporal client and then runs a command in-process
    (a test, an embedding tool) gets the command's SystemExit, not os._exit."""
    small = tmp_path / "small.osop.yaml"
    small.write_text('osop_version: "1.1"\nid: s\nname: s\nnodes:\n  - {id: a, type: cli}\n')
    code = (
        "import asyncio, os, sys\n"
        "from osop.temporal.connection import TemporalTarget, connect\n"
        f"asyncio.run(connect(TemporalTarget(address={temporal_server.address!r})))\n"
        "from osop.cli.main import main\n"
        "try:\n"
        f"    main(['validate', {str(small)!r}])\n"
        "except SystemExit as exc:\n"
        "    print('returned', exc.code, flush=True)\n"
        "os._exit(0)\n"  # the SDK's threads: no interpreter teardown (see osop.cli.app)
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "returned 0" in done.stdout, done.stdout + done.stderr
