"""Helpers for engine tests: write workflows from dicts and run them (simulated by default)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml

from osop.engine import RunOptions, RunResult, RunStore, VirtualClock, start_run
from osop.format.api import load_workflow


class Runner:
    """Writes a workflow to disk (validated like the CLI does) and runs it."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.store = RunStore(tmp_path / ".osop")
        self.count = 0

    def write(self, data: dict[str, Any]) -> Path:
        self.count += 1
        data = {"osop_version": "1.1", "name": "Test", **data}
        path = self.tmp / f"wf{self.count}.osop.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def run(self, data: dict[str, Any], *, store: bool = True, **options: Any) -> RunResult:
        path = self.write(data)
        workflow = load_workflow(path)
        options.setdefault("mode", "simulated")
        options.setdefault("clock", VirtualClock())
        options.setdefault("workdir", self.tmp)
        options.setdefault("seed", 1)
        return asyncio.run(
            start_run(
                workflow,
                source=path.read_bytes(),
                workflow_path=path,
                store=self.store if store else None,
                options=RunOptions(**options),
            )
        )


def statuses(result: RunResult) -> dict[str, str]:
    """Latest status per node."""
    out: dict[str, str] = {}
    for record in result.record.node_records:
        out[record.node_id] = record.status
    return out


def cli(node_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "cli", "name": node_id, "runtime": {"command": "true"}, **extra}


#: A live workflow whose first node blocks for 30 s after writing started.txt.
SLOW = """
osop_version: "1.1"
id: slow
name: Slow
nodes:
  - id: wait
    type: cli
    name: Wait
    runtime: {command: "echo started > started.txt; sleep 30"}
  - {id: after, type: cli, name: After, runtime: {command: "true"}}
edges:
  - {from: wait, to: after}
"""
