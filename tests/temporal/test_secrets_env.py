"""``${secrets.X}`` and ``${env.X}`` on Temporal: the worker's, and no secret in the history."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from temporal_server import history_text, in_process_worker

from osop.engine import RunOptions, start_run
from osop.errors import MissingReferenceError
from osop.format.workflow import workflow_from_dict
from osop.security import SecretStore
from osop.temporal.connection import TemporalTarget
from osop.temporal.references import SecretMarkers, env_names, marker, unmark

SECRET = "s3cr3t-hunter2-value"

USES_SECRET = {
    "osop_version": "1.1",
    "id": "uses-secret",
    "name": "uses a secret",
    "nodes": [
        {
            "id": "login",
            "type": "cli",
            "name": "Login",
            # The step sees the value (it writes it to a file) and prints it (redacted).
            "runtime": {
                "command": 'printf %s "$TOKEN" > seen.txt && echo "token=$TOKEN"',
                "env": {"TOKEN": "${secrets.API_TOKEN}"},
            },
        },
        {
            "id": "header",
            "type": "cli",
            "name": "Header",
            "runtime": {"command": "echo 'Bearer ${secrets.API_TOKEN}' > header.txt"},
        },
    ],
    "edges": [{"from": "login", "to": "header"}],
}

USES_ENV = {
    "osop_version": "1.1",
    "id": "uses-env",
    "name": "reads the environment",
    "nodes": [
        {"id": "start", "type": "cli", "name": "Start", "runtime": {"command": "true"}},
        {
            "id": "prod",
            "type": "cli",
            "name": "Prod",
            "runtime": {"command": 'echo \'{"stage": "${env.STAGE}"}\''},
        },
        {"id": "other", "type": "cli", "name": "Other", "runtime": {"command": "true"}},
    ],
    "edges": [
        {"from": "start", "to": "prod", "mode": "conditional", "when": "env.STAGE == 'prod'"},
        {"from": "start", "to": "other", "mode": "conditional", "when": "env.STAGE != 'prod'"},
    ],
}


def _source(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


async def _run_on_temporal(
    target: TemporalTarget,
    document: dict[str, Any],
    workdir: Path,
    **worker: Any,
) -> tuple[Any, str, list[dict[str, Any]]]:
    from osop.temporal.runs import start_temporal_run, wait_for_run

    async with in_process_worker(target, workdir, **worker) as client:
        run_id = await start_temporal_run(
            target,
            workflow_from_dict(document),
            source=_source(document),
            options=RunOptions(),
            client=client,
        )
        result = await wait_for_run(target, run_id, client=client)
        handle = client.get_workflow_handle(run_id)
        history = await history_text(handle)
        journal = await handle.query("journal")
    return result, history, journal


def _statuses(record: Any) -> dict[str, tuple[str, str | None]]:
    return {
        r.node_id: (r.status, r.error.code if r.error is not None else None)
        for r in record.node_records
    }


@pytest.mark.slow
def test_a_secret_reaches_the_step_and_never_the_history(
    tmp_path: Path, target: TemporalTarget
) -> None:
    secrets = SecretStore({"API_TOKEN": SECRET}, environ={})
    result, history, journal = asyncio.run(
        _run_on_temporal(target, USES_SECRET, tmp_path, secrets=secrets)
    )
    assert result.status == "COMPLETED", _statuses(result.record)
    # The steps saw the value ...
    assert (tmp_path / "seen.txt").read_text() == SECRET
    assert (tmp_path / "header.txt").read_text().strip() == f"Bearer {SECRET}"
    # ... the record shows it masked, as a local run's does ...
    login = next(r for r in result.record.node_records if r.node_id == "login")
    assert (login.outputs or {}).get("stdout") == "token=***"
    # ... and neither the history (fetched from the cluster), nor the record holds it.
    assert "API_TOKEN" in history  # only the reference travels
    assert SECRET not in history
    assert SECRET not in json.dumps(result.record.to_dict())
    assert SECRET not in json.dumps(journal)


@pytest.mark.slow
def test_a_secret_the_worker_lacks_fails_the_step_as_a_missing_reference(
    tmp_path: Path, target: TemporalTarget
) -> None:
    result, _history, _journal = asyncio.run(
        _run_on_temporal(target, USES_SECRET, tmp_path, secrets=SecretStore({}, environ={}))
    )
    assert result.status == "FAILED"
    assert _statuses(result.record)["login"] == ("FAILED", "MISSING_REFERENCE")
    login = next(r for r in result.record.node_records if r.node_id == "login")
    assert login.error is not None and "API_TOKEN" in login.error.message
    assert not (tmp_path / "seen.txt").exists()


@pytest.mark.slow
def test_env_reads_the_workers_environment_like_a_local_run_its_own(
    tmp_path: Path, target: TemporalTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the run is started does not count: the steps run on the worker.
    monkeypatch.setenv("STAGE", "dev")
    env = {"PATH": "/usr/bin:/bin", "STAGE": "prod"}
    (tmp_path / "t").mkdir()
    result, history, _journal = asyncio.run(
        _run_on_temporal(target, USES_ENV, tmp_path / "t", env=env)
    )
    (tmp_path / "l").mkdir()
    local = asyncio.run(
        start_run(
            workflow_from_dict(USES_ENV),
            source=_source(USES_ENV),
            options=RunOptions(env=env, workdir=tmp_path / "l"),
        )
    )
    assert _statuses(result.record) == _statuses(local.record)
    assert _statuses(result.record)["prod"] == ("COMPLETED", None)
    assert _statuses(result.record)["other"] == ("SKIPPED", None)
    prod = next(r for r in result.record.node_records if r.node_id == "prod")
    assert (prod.outputs or {}).get("stage") == "prod"
    assert prod.outputs == next(r for r in local.record.node_records if r.node_id == "prod").outputs
    # Read once, by a worker, when the run started: replays decide the same.
    assert history.count('"osop.environment"') == 1


def test_env_names_finds_every_variable_a_document_names() -> None:
    assert env_names(USES_ENV) == ["STAGE"]
    document = {"a": "${env.A} and ${ env.B }", "w": "env['C'] == env[\"D\"]", "x": "myenv.E"}
    assert env_names(document) == ["A", "B", "C", "D"]


def test_markers_are_put_back_on_the_worker_only() -> None:
    markers = SecretMarkers()
    assert "ANY" in markers
    value = {"h": f"Bearer {markers.get('T')}", "whole": marker("T"), "n": 3}
    store = SecretStore({"T": "tok-123"}, environ={})
    assert unmark(value, store, rehearsal=False) == {
        "h": "Bearer tok-123",
        "whole": "tok-123",
        "n": 3,
    }
    with pytest.raises(MissingReferenceError):
        unmark(value, SecretStore({}, environ={}), rehearsal=False)
    assert unmark(value, SecretStore({}, environ={}), rehearsal=True)["h"] == "Bearer ***"
