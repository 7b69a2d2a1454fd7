"""-o / --log / --report write regular files only, and create no folder nobody asked for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from osop.cli.main import cli

_WORKFLOW = """osop_version: "1.1"
id: out
name: Out
nodes:
  - {id: a, type: cli, runtime: {command: "echo a"}}
edges: []
"""
_RECORD = (
    '{"osoplog_version": "1.0", "run_id": "r", "workflow_id": "out", "status": "COMPLETED",'
    ' "started_at": "2026-01-01T00:00:00Z", "node_records": [{"node_id": "a", "node_type": "cli",'
    ' "attempt": 1, "status": "COMPLETED", "started_at": "2026-01-01T00:00:00Z",'
    ' "ended_at": "2026-01-01T00:00:01Z"}]}'
)


def _argvs(tmp: Path, target: Path) -> list[list[str]]:
    wf, log = str(tmp / "w.osop.yaml"), str(tmp / "r.osoplog.json")
    store = str(tmp / "store")
    return [
        ["render", wf, "-f", "svg", "-o", str(target)],
        ["report", log, "-o", str(target)],
        ["export", log, "--to", "xes", "-o", str(target)],
        ["synthesize", log, "-o", str(target)],
        ["run", wf, "--mode", "simulated", "--store", store, "-q", "--log", str(target)],
        ["run", wf, "--mode", "simulated", "--store", store, "-q", "--report", str(target)],
    ]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "w.osop.yaml").write_text(_WORKFLOW, encoding="utf-8")
    (tmp_path / "r.osoplog.json").write_text(_RECORD, encoding="utf-8")
    return tmp_path


def _special(tmp: Path, kind: str) -> Path:
    path = tmp / f"special-{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "link-to-fifo":
        os.mkfifo(tmp / "pipe")
        path.symlink_to(tmp / "pipe")
    return path


@pytest.mark.parametrize("kind", ["fifo", "folder", "link-to-fifo"])
@pytest.mark.parametrize("index", range(6))
def test_special_files_are_refused_not_replaced(files: Path, kind: str, index: int) -> None:
    target = _special(files, kind)
    argv = _argvs(files, target)[index]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code != 0
    assert "refusing to write" in result.output or "is a directory" in result.output, result.output
    assert not target.resolve().is_file()
    if kind == "fifo":
        assert target.is_fifo()
    if kind == "link-to-fifo":
        assert target.is_symlink() and (files / "pipe").is_fifo()


@pytest.mark.parametrize("index", range(6))
def test_missing_folders_are_not_created(files: Path, index: int) -> None:
    target = files / "no" / "such" / "out.txt"
    result = CliRunner().invoke(cli, _argvs(files, target)[index])
    assert "does not exist" in result.output, result.output
    assert not (files / "no").exists()


def test_a_symlink_to_a_regular_file_is_written_through(files: Path) -> None:
    real = files / "real.svg"
    real.write_text("old", encoding="utf-8")
    link = files / "link.svg"
    link.symlink_to(real)
    result = CliRunner().invoke(cli, _argvs(files, link)[0])
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8").startswith("<")
