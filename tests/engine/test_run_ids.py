"""Run ids are names, never paths (status, approve, resume, report and the MCP tools)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from osop.cli.main import cli
from osop.engine import RunStore
from osop.errors import RunStoreError

_PATHS = ["../../..", "..", "/", "/tmp", "a/b", "../outside", "x/../../y", ".hidden/..", ""]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the store that looks like a run (meta.json, journal)."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps({"run_id": "outside"}), encoding="utf-8")
    (folder / "journal.jsonl").write_text("", encoding="utf-8")
    return folder


@pytest.mark.parametrize("run_id", _PATHS)
def test_the_store_refuses_paths_as_run_ids(tmp_path: Path, run_id: str) -> None:
    store = RunStore(tmp_path / "store")
    with pytest.raises(RunStoreError):
        store.get(run_id)
    with pytest.raises(RunStoreError):
        store.create(run_id or "a/b")


@pytest.mark.parametrize("command", ["status", "approve", "resume", "report", "cancel"])
def test_cli_commands_never_reach_outside_the_store(
    tmp_path: Path, outside: Path, command: str
) -> None:
    store = tmp_path / "store"
    (store / "runs").mkdir(parents=True)
    argv = [command, "../../outside"]
    if command == "approve":
        argv.append("node")
    before = sorted(p.name for p in outside.iterdir())
    result = CliRunner().invoke(cli, [*argv, "--store", str(store)])
    assert result.exit_code != 0
    assert "not a run id" in result.output
    assert sorted(p.name for p in outside.iterdir()) == before


@pytest.mark.parametrize("tool", ["status", "report", "cancel"])
def test_mcp_tools_refuse_paths_as_run_ids(tmp_path: Path, outside: Path, tool: str) -> None:
    from osop.errors import OsopError
    from osop.mcp.server import OsopTools

    tools = OsopTools(store_root=tmp_path / "store", workdir=tmp_path)
    with pytest.raises(OsopError, match="not a run id"):
        getattr(tools, tool)(str(outside))
