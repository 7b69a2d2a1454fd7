"""The analyses on a record the engine produced (simulated mode)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from osop.cli.main import cli

engine = pytest.importorskip("osop.engine")

WORKFLOW = {
    "osop_version": "1.1",
    "id": "engine-check",
    "name": "Engine check",
    "nodes": [
        {"id": n, "type": "cli", "name": f"Step {n}", "runtime": {"command": "echo hi"}}
        for n in ("a", "b", "c", "d")
    ],
    "edges": [
        {"from": "a", "to": "b", "mode": "parallel"},
        {"from": "a", "to": "c", "mode": "parallel"},
        {"from": "b", "to": "d"},
        {"from": "c", "to": "d"},
    ],
}


def test_engine_record_through_every_analysis(tmp_path: Path) -> None:
    from osop.format.workflow import workflow_from_dict

    wf_path = tmp_path / "wf.osop"
    wf_path.write_text(yaml.safe_dump(WORKFLOW, sort_keys=False))
    store = engine.RunStore(tmp_path / "store")
    result = asyncio.run(
        engine.start_run(
            workflow_from_dict(WORKFLOW),
            store=store,
            options=engine.RunOptions(mode="simulated", workdir=tmp_path),
        )
    )
    assert result.status == "COMPLETED"
    record = result.handle.record_path
    runner = CliRunner()
    conform = runner.invoke(
        cli, ["diff", str(wf_path), str(record), "--format", "json", "--mode", "simulated"]
    )
    assert conform.exit_code == 0, conform.output
    assert json.loads(conform.output)["summary"]["log_fitness"] == 1.0
    stats = runner.invoke(
        cli, ["stats", str(tmp_path / "store"), "--format", "json", "--mode", "simulated"]
    )
    assert stats.exit_code == 0, stats.output
    data = json.loads(stats.output)["workflows"][0]
    assert data["total_runs"] == 1 and set(data["node_stats"]) == {"a", "b", "c", "d"}
    report = runner.invoke(cli, ["report", str(wf_path), str(record), "--format", "text"])
    assert report.exit_code == 0 and "[PASS] Step d" in report.output
    out = tmp_path / "run.xes"
    export = runner.invoke(
        cli, ["export", str(record), "--to", "xes", "-o", str(out), "--mode", "all"]
    )
    assert export.exit_code == 0 and out.read_text().count("<event>") == 8
