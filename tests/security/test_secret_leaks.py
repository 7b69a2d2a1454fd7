"""Secrets stay out of error messages, the inbox, and commands that did not ask for them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from osop.engine import (
    RunOptions,
    RunResult,
    RunStore,
    deliver_answer,
    deliver_event,
    start_run,
)
from osop.errors import LoadError
from osop.format.api import load_workflow
from osop.security import SecretStore, parse_env
from osop.security.fingerprints import fingerprint_secrets, mask_fingerprinted

SECRET = "s3cr3t-Tok3n-9f8e7d"


@pytest.mark.parametrize("line", [SECRET, f"API_TOKEN {SECRET}", f"-{SECRET}=x"])
def test_a_malformed_env_line_is_not_echoed(line: str) -> None:
    with pytest.raises(LoadError) as info:
        parse_env(f"OK=1\n{line}\n", ".env")
    assert info.value.line == 2
    assert SECRET not in str(info.value)


def test_fingerprints_mask_secrets_without_holding_them() -> None:
    prints = fingerprint_secrets([SECRET, "abc"])
    assert SECRET not in json.dumps(prints)
    masked = mask_fingerprinted({"notes": f"used {SECRET}, twice: {SECRET}!", "n": 1}, prints)
    assert masked == {"notes": "used ***, twice: ***!", "n": 1}


def _run_with_secret(tmp_path: Path, workflow: str, store: RunStore | None) -> RunResult:
    """Run ``workflow`` live with API_TOKEN=SECRET in its --secrets-file."""
    path = tmp_path / "w.osop.yaml"
    path.write_text(workflow, encoding="utf-8")
    env = tmp_path / ".env"
    env.write_text(f"API_TOKEN={SECRET}\n", encoding="utf-8")
    return asyncio.run(
        start_run(
            load_workflow(path),
            source=path.read_bytes(),
            workflow_path=path,
            store=store,
            options=RunOptions(mode="live", workdir=tmp_path, secrets=SecretStore(env_file=env)),
        )
    )


def _paused_run(tmp_path: Path) -> tuple[RunStore, str]:
    store = RunStore(tmp_path / ".osop")
    result = _run_with_secret(
        tmp_path,
        "osop_version: '1.1'\nid: w\nname: W\n"
        "nodes:\n- {id: ask, type: human, runtime: {prompt: ok?}}\n"
        "- {id: use, type: cli, runtime: {command: 'true', env: {T: '${secrets.API_TOKEN}'}}}\n"
        "edges: [{from: ask, to: use}]\n",
        store,
    )
    assert result.paused
    return store, result.run_id


def test_approver_notes_with_a_secret_never_reach_the_inbox(tmp_path: Path) -> None:
    store, run_id = _paused_run(tmp_path)
    deliver_answer(store, run_id, "ask", {"decision": "approved", "notes": f"token {SECRET}"})
    deliver_event(store, run_id, "ping", {"text": f"again {SECRET}"})
    inbox = store.get(run_id).inbox_path.read_text(encoding="utf-8")
    assert "token ***" in inbox
    assert SECRET not in inbox
    assert SECRET not in store.get(run_id).meta_path.read_text(encoding="utf-8")


def test_secrets_file_values_reach_only_commands_that_name_them(tmp_path: Path) -> None:
    result = _run_with_secret(
        tmp_path,
        "osop_version: '1.1'\nid: w\nname: W\nnodes:\n"
        "- {id: plain, type: cli, runtime: {command: 'env'}}\n"
        '- {id: named, type: cli, runtime: {command: \'test "$T" = "$EXPECTED" && echo same\','
        " env: {T: '${secrets.API_TOKEN}', EXPECTED: '${secrets.API_TOKEN}'}}}\n"
        "edges: [{from: plain, to: named}]\n",
        None,
    )
    outputs = {r.node_id: r.outputs for r in result.record.node_records}
    assert "API_TOKEN" not in str(outputs["plain"])
    assert outputs["named"]["stdout"] == "same"
